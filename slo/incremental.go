package slo

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// Incremental evaluation (issue 19). Between two ticks an SLO's windows
// move by a minute or so, and only the last Recompute minutes can change,
// so the evaluator keeps every window's good and total in memory instead of
// re-adding a month of rollups each tick: it is built once from the rollups
// (at start, or when the evaluator takes an SLO over from another
// replica), and each tick adds the minutes that entered every window,
// subtracts those that left it, and adds the difference between each
// recomputed minute's new value and the one it had counted (late data).
//
// To subtract a minute that leaves a window its value must be known. The
// last ringMinutes of each SLO are kept in a ring; minutes older than that
// can no longer change (a tick rewrites only its last Recompute minutes),
// so the hour holding a long window's leaving edge is read from the store
// once, for every SLO of the tenant, and kept until the edge moves past
// it. A month of minutes in memory would be 700 kB an SLO.
//
// Only SLIs of whole events are summed this way: spans and drift verdicts.
// Whole numbers below 2^53 add and subtract exactly in a float64, so the
// running sums equal a fresh sum of the rollups to the event; the
// fractional events of PromQL SLIs (ratios, rates, raw ratios, gauge
// thresholds) would carry rounding error from tick to tick, so those SLOs
// keep being judged by ComputeAll, which re-adds their rollups.

// ringBeyondRecompute is how many minutes older than the recompute span the
// ring keeps. It must be at least an hour and a minute: an hour block of
// a long window's edge is read when the edge enters it, and its last
// minute must by then be older than anything a tick rewrites. Two hours
// also serve the workbook's windows up to 2h from the ring alone.
const ringBeyondRecompute = 2 * time.Hour

// maxLeaving bounds the minutes a window may shed in one tick before its
// sums are rebuilt from the store instead (after a long stall).
const maxLeaving = 6 * 60

// summedIncrementally reports whether an SLO's windows are kept as running
// sums: its events are whole numbers (see above).
func summedIncrementally(s *SLO) bool {
	switch s.SLI.(type) {
	case SpanLatency, SpanAvailability, SpanAttribute, DriftVerdicts:
		return true
	}
	return false
}

// unixMinute is t's minute since the Unix epoch, rounded up: a window
// starting inside a minute counts the minutes from the next one, as the
// rollup reads' "minute >= start" do.
func unixMinute(t time.Time) int64 {
	s := t.Unix()
	m := s / 60
	if s%60 != 0 || t.Nanosecond() != 0 {
		if s >= 0 {
			m++
		}
	}
	return m
}

// windowSignature says what an SLO's running sums depend on: its windows.
// A config reload that changes them rebuilds the sums.
func windowSignature(s *SLO) string {
	sig := fmt.Sprintf("%s|%d|%s", s.Window, s.Window.Duration, s.tenant())
	for _, w := range s.Alerts {
		sig += fmt.Sprintf("|%d/%d", w.Long, w.Short)
	}
	return sig
}

// runningSums are one SLO's windows (as windowStarts orders them), all
// ending before minute at.
type runningSums struct {
	sig          string
	tenant, name string
	at           int64    // the windows end before this Unix minute
	starts       []int64  // each window's first minute
	sums         []Counts // each window's good and total
	// ring holds minute m at ring[m % len(ring)] for m in [at-len(ring), at).
	ring []Counts
	// hoursTo is the first hour (as its first Unix minute) whose hourly
	// rollup is still to be written from the ring.
	hoursTo int64
}

func (r *runningSums) span() int64          { return int64(len(r.ring)) }
func (r *runningSums) slot(m int64) *Counts { return &r.ring[m%r.span()] }

// slide is how one window moves to its new start: either the minutes
// [from, to) leave it, or (reset) it is summed anew from the ring and the
// entering minutes, when that is fewer minutes to add (a calendar window
// starting a new period).
type slide struct {
	reset    bool
	from, to int64
}

// plan decides each window's slide to the new starts; ok is false when
// the sums must be rebuilt from the store instead.
func (r *runningSums) plan(starts []int64) ([]slide, bool) {
	out := make([]slide, len(starts))
	for i, s1 := range starts {
		s0 := r.starts[i]
		switch {
		case s1 < s0: // a start never moves back; a redefined window is caught by its signature
			return nil, false
		case s1 == s0:
		case s1 >= r.at-r.span() && s1-s0 > r.at-s1:
			out[i] = slide{reset: true}
		case s1-s0 > maxLeaving:
			return nil, false
		default:
			out[i] = slide{from: s0, to: min(s1, r.at)}
		}
	}
	return out, true
}

// edgeHours lists the hours (as their first Unix minute) older than the
// ring that the slides need.
func (r *runningSums) edgeHours(slides []slide) []int64 {
	var hours []int64
	for _, sl := range slides {
		if sl.reset {
			continue
		}
		for h := sl.from - sl.from%60; h < min(sl.to, r.at-r.span()); h += 60 {
			hours = append(hours, h)
		}
	}
	return hours
}

// recomputed are the minutes a tick rolled up and wrote, from the Unix
// minute from to the tick's end: a minute in that range that is not among
// them has no events (and its stored value, if any, was left as it was).
type recomputed struct {
	from    int64
	minutes []minute // ascending
}

// advance moves the windows to end before now with the given starts.
// fresh's minutes before at are corrections, the rest entered. older
// returns the stored value of a minute before the ring. It reports false
// when the sums cannot be moved and must be rebuilt; they are then left
// inconsistent.
func (r *runningSums) advance(now int64, starts []int64, fresh recomputed, older func(m int64) (Counts, bool)) bool {
	// Every minute that enters must have been recomputed this tick.
	if now < r.at || fresh.from > r.at || len(starts) != len(r.starts) {
		return false
	}
	slides, ok := r.plan(starts)
	if !ok {
		return false
	}
	entering := make([]Counts, now-r.at)
	for _, f := range fresh.minutes {
		m := f.at.Unix() / 60
		c := Counts{Good: f.good, Total: f.total}
		switch {
		case m >= now:
			return false
		case m >= r.at:
			entering[m-r.at] = c
		case m < r.at-r.span():
			return false // a tick rewrote a minute the ring no longer holds
		default:
			// Late data: the minute's new value replaced the one counted.
			old := r.slot(m)
			d := Counts{Good: c.Good - old.Good, Total: c.Total - old.Total}
			*old = c
			for i, s := range r.starts {
				if m >= s {
					r.sums[i].Good += d.Good
					r.sums[i].Total += d.Total
				}
			}
		}
	}
	for i, sl := range slides {
		sum := &r.sums[i]
		if sl.reset {
			*sum = Counts{}
			for m := starts[i]; m < r.at; m++ {
				sum.add(*r.slot(m))
			}
		}
		for m := sl.from; m < sl.to; m++ {
			v, ok := Counts{}, true
			if m >= r.at-r.span() {
				v = *r.slot(m)
			} else if v, ok = older(m); !ok {
				return false
			}
			sum.Good -= v.Good
			sum.Total -= v.Total
		}
		for m := max(starts[i], r.at); m < now; m++ {
			sum.add(entering[m-r.at])
		}
	}
	// The ring's slots of minutes leaving it take the entering minutes,
	// after the slides have read them.
	for m := max(r.at, now-r.span()); m < now; m++ {
		*r.slot(m) = entering[m-r.at]
	}
	r.at, r.starts = now, starts
	return true
}

func (c *Counts) add(d Counts) {
	c.Good += d.Good
	c.Total += d.Total
}

// windowMinutes are windowStarts as Unix minutes.
func windowMinutes(s *SLO, now time.Time) []int64 {
	starts := windowStarts(s, now)
	out := make([]int64, len(starts))
	for i, t := range starts {
		out[i] = unixMinute(t)
	}
	return out
}

// edgeBlock is one hour of a tenant's SLOs, read from the store for the
// windows whose start is in it, some SLOs at a time (see prefetch).
type edgeBlock struct {
	minutes map[string]*[60]Counts // by SLO name; absent means no events
	loaded  map[string]bool        // the SLOs read so far
	used    bool                   // needed at the last tick, or read ahead for the next
}

type blockKey struct {
	tenant string
	hour   int64 // first Unix minute
}

// runningState is every running sum an evaluator keeps.
type runningState struct {
	slos   map[string]*runningSums // by sloKey
	blocks map[blockKey]*edgeBlock
}

// tenantScanMin is how many SLOs of a tenant being rebuilt at once make one
// read of all the tenant's recent minutes cheaper than a read per SLO.
const tenantScanMin = 20

// floorHour is the first Unix minute of the hour holding minute m.
func floorHour(m int64) int64 { return m - m%60 }

// ceilHour is the first Unix minute of the first hour starting at or
// after minute m.
func ceilHour(m int64) int64 { return floorHour(m + 59) }

func minuteTime(m int64) time.Time { return time.Unix(m*60, 0).UTC() }

// rebuild builds the running sums of the SLOs at now from the store (see
// rebuildTenant).
func rebuild(ctx context.Context, st RollupStore, slos []*SLO, now time.Time, span, recompute int64, blocks *runningState) (map[string]*runningSums, error) {
	byTenant := map[string][]*SLO{}
	for _, s := range slos {
		byTenant[s.tenant()] = append(byTenant[s.tenant()], s)
	}
	out := make(map[string]*runningSums, len(slos))
	for tenant, group := range byTenant {
		if err := rebuildTenant(ctx, st, tenant, group, now, span, recompute, out, blocks); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// rebuilding is one SLO's sums while rebuildTenant builds them.
type rebuilding struct {
	r     *runningSums
	first int64    // the first whole hour any of its windows needs
	hours []Counts // the hourly level, by hour from the tenant's first
	have  []bool   // whether hours[k] is known
	tail  []Counts // the final hours from the ring's first hour, from minutes
}

// rebuildTenant builds the running sums of a tenant's SLOs. The whole
// hours before the ring's first hour come from the hourly level: about
// 720 rows a 30-day window instead of 43,200 minutes. The minutes are read
// only from the ring's first hour on and for the hour each window starts
// inside. An hour without an hourly row (before the level existed, or
// filled while no analyzer ran) is summed from its minutes in the store,
// and written back so the next rebuild finds it; so are the final hours
// read as minutes, which the ticks would otherwise write only from the
// next hour on. The hours the windows start inside are read whole and
// kept as the hour blocks their next slides need.
func rebuildTenant(ctx context.Context, st RollupStore, tenant string, slos []*SLO, now time.Time, span, recompute int64, out map[string]*runningSums, blocks *runningState) error {
	end := unixMinute(now)
	hoursTo := floorHour(end - span)    // whole hours before it come from the hourly level
	final := floorHour(end - recompute) // no tick rewrites the hours before it
	from := hoursTo                     // the tenant's first whole hour
	byName := make(map[string]*rebuilding, len(slos))
	for _, s := range slos {
		r := &runningSums{sig: windowSignature(s), tenant: tenant, name: s.Name, at: end, starts: windowMinutes(s, now),
			ring: make([]Counts, span), hoursTo: final}
		r.sums = make([]Counts, len(r.starts))
		b := &rebuilding{r: r, first: hoursTo}
		for _, m := range r.starts {
			b.first = min(b.first, ceilHour(m))
		}
		from = min(from, b.first)
		out[sloKey(s)] = r
		byName[s.Name] = b
	}
	n := (hoursTo - from) / 60
	for _, b := range byName {
		b.hours, b.have = make([]Counts, n), make([]bool, n)
		b.tail = make([]Counts, (final-hoursTo)/60)
	}
	if n > 0 {
		err := st.TenantHourlyRollups(ctx, tenant, minuteTime(from), minuteTime(hoursTo), func(h *store.HourlyRollup) error {
			if b := byName[h.SLO]; b != nil {
				k := (h.Hour.Unix()/60 - from) / 60
				b.hours[k], b.have[k] = Counts{Good: h.Good, Total: h.Total}, true
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	// Hours without a row, summed from their minutes: the SLOs missing
	// the same span of hours are read together, sumChunk at a time.
	type hourSpan struct{ lo, hi int64 }
	missing := map[hourSpan][]string{}
	for name, b := range byName {
		lo, hi := int64(-1), int64(-1)
		for k := (b.first - from) / 60; k < n; k++ {
			if !b.have[k] {
				if lo < 0 {
					lo = k
				}
				hi = k + 1
			}
		}
		if lo >= 0 {
			missing[hourSpan{lo, hi}] = append(missing[hourSpan{lo, hi}], name)
		}
	}
	var written []store.HourlyRollup
	for sp, names := range missing {
		sort.Strings(names)
		for i := 0; i < len(names); i += sumChunk {
			chunk := names[i:min(i+sumChunk, len(names))]
			err := st.SumRollupHours(ctx, tenant, chunk, minuteTime(from+60*sp.lo), minuteTime(from+60*sp.hi), func(h *store.HourlyRollup) error {
				if b := byName[h.SLO]; b != nil {
					if k := (h.Hour.Unix()/60 - from) / 60; !b.have[k] {
						b.hours[k] = Counts{Good: h.Good, Total: h.Total}
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, name := range chunk {
				b := byName[name]
				for k := sp.lo; k < sp.hi; k++ {
					if !b.have[k] {
						written = append(written, store.HourlyRollup{Tenant: tenant, SLO: name, Hour: minuteTime(from + 60*k), Good: b.hours[k].Good, Total: b.hours[k].Total})
						b.have[k] = true
					}
				}
			}
		}
	}
	// Each window's whole hours before hoursTo, as suffix sums.
	for _, b := range byName {
		suffix := make([]Counts, n+1)
		for k := n - 1; k >= 0; k-- {
			suffix[k] = Counts{Good: suffix[k+1].Good + b.hours[k].Good, Total: suffix[k+1].Total + b.hours[k].Total}
		}
		for i, m := range b.r.starts {
			if m < hoursTo {
				b.r.sums[i] = suffix[(ceilHour(m)-from)/60]
			}
		}
	}
	// The minutes: from hoursTo on, and the hours the windows start inside.
	ranges := [][2]int64{{hoursTo, end}}
	for _, b := range byName {
		for _, m := range b.r.starts {
			if m < hoursTo {
				ranges = append(ranges, [2]int64{floorHour(m), floorHour(m) + 60})
			}
		}
	}
	add := func(b *rebuilding, ru *store.Rollup) {
		m, c := ru.Minute.Unix()/60, Counts{Good: ru.Good, Total: ru.Total}
		for i, s := range b.r.starts {
			if m >= s && (m >= hoursTo || m < ceilHour(s)) {
				b.r.sums[i].add(c)
			}
		}
		if m >= end-span && m < end {
			*b.r.slot(m) = c
		}
		if m >= hoursTo && m < final {
			b.tail[(m-hoursTo)/60].add(c)
		}
		if h := floorHour(m); h < end-span {
			blk := blocks.block(blockKey{tenant: tenant, hour: h})
			if blk.minutes[b.r.name] == nil {
				blk.minutes[b.r.name] = new([60]Counts)
			}
			blk.minutes[b.r.name][m-h] = c
		}
	}
	for _, rg := range mergeRanges(ranges) {
		// The whole hours older than the ring become blocks, of these
		// SLOs' minutes as read now.
		for h := rg[0]; h < min(rg[1], end-span); h += 60 {
			blk := blocks.block(blockKey{tenant: tenant, hour: h})
			for name := range byName {
				delete(blk.minutes, name)
				blk.loaded[name] = true
			}
		}
		if len(byName) >= tenantScanMin {
			err := st.TenantRollups(ctx, tenant, minuteTime(rg[0]), minuteTime(rg[1]), func(ru *store.Rollup) error {
				if b := byName[ru.SLO]; b != nil {
					add(b, ru)
				}
				return nil
			})
			if err != nil {
				return err
			}
			continue
		}
		for _, b := range byName {
			minutes, err := st.Rollups(ctx, store.RollupQuery{Tenant: tenant, SLO: b.r.name, Start: minuteTime(rg[0]), End: minuteTime(rg[1])})
			if err != nil {
				return err
			}
			for i := range minutes {
				add(b, &minutes[i])
			}
		}
	}
	for name, b := range byName {
		for k, c := range b.tail {
			written = append(written, store.HourlyRollup{Tenant: tenant, SLO: name, Hour: minuteTime(hoursTo + 60*int64(k)), Good: c.Good, Total: c.Total})
		}
	}
	if err := st.WriteHourlyRollups(ctx, written); err != nil {
		return fmt.Errorf("write the hourly rollups of tenant %s: %w", tenant, err)
	}
	return nil
}

// mergeRanges sorts ranges of minutes and joins those that overlap or
// touch, so no minute is read twice.
func mergeRanges(ranges [][2]int64) [][2]int64 {
	sort.Slice(ranges, func(i, j int) bool { return ranges[i][0] < ranges[j][0] })
	var out [][2]int64
	for _, rg := range ranges {
		if l := len(out) - 1; l >= 0 && rg[0] <= out[l][1] {
			out[l][1] = max(out[l][1], rg[1])
			continue
		}
		out = append(out, rg)
	}
	return out
}

// hourlyRows are the hours of the running sums that left the recompute
// span since they were last written: their minutes are final and all in
// the ring. An hour that left the ring before it was written (after a
// stall) is left to the next rebuild, which sums it from the minutes.
func (st *runningState) hourlyRows(recompute int64) []store.HourlyRollup {
	var out []store.HourlyRollup
	for _, r := range st.slos {
		for h := max(r.hoursTo, ceilHour(r.at-r.span())); h+60 <= floorHour(r.at-recompute); h += 60 {
			var c Counts
			for m := h; m < h+60; m++ {
				c.add(*r.slot(m))
			}
			out = append(out, store.HourlyRollup{Tenant: r.tenant, SLO: r.name, Hour: minuteTime(h), Good: c.Good, Total: c.Total})
		}
	}
	return out
}

// writeHours writes the hours that left the recompute span at this tick,
// for every SLO in one insert; hours not written are tried again at the
// next tick.
func (e *Evaluator) writeHours(ctx context.Context) error {
	recompute := int64(e.recompute() / time.Minute)
	rows := e.running.hourlyRows(recompute)
	if err := e.Store.WriteHourlyRollups(ctx, rows); err != nil {
		return fmt.Errorf("hourly rollups: %w", err)
	}
	for _, r := range e.running.slos {
		r.hoursTo = max(r.hoursTo, floorHour(r.at-recompute))
	}
	return nil
}

// readAheadSteps is the most shares an hour block is read ahead in. Each
// read costs a query whatever its size (and on DuckDB a scan of the
// rollups' row groups): a sliver every tick made the mean tick half as
// dear again for 1,000 SLOs (BENCHMARKS.md).
const readAheadSteps = 10

// blockReadMax is how many SLOs one read of an hour block names.
const blockReadMax = 500

// block returns the tenant's block of an hour, made empty if absent.
func (st *runningState) block(k blockKey) *edgeBlock {
	b := st.blocks[k]
	if b == nil {
		b = &edgeBlock{minutes: map[string]*[60]Counts{}, loaded: map[string]bool{}}
		st.blocks[k] = b
	}
	return b
}

// load reads the named SLOs' minutes of the block's hour.
func (b *edgeBlock) load(ctx context.Context, st store.SLOsRollupReader, k blockKey, names []string) error {
	from := minuteTime(k.hour)
	for i := 0; i < len(names); i += blockReadMax {
		chunk := names[i:min(i+blockReadMax, len(names))]
		err := st.SLOsRollups(ctx, k.tenant, chunk, from, from.Add(time.Hour), func(ru *store.Rollup) error {
			hour := b.minutes[ru.SLO]
			if hour == nil {
				hour = new([60]Counts)
				b.minutes[ru.SLO] = hour
			}
			hour[ru.Minute.Unix()/60-k.hour] = Counts{Good: ru.Good, Total: ru.Total}
			return nil
		})
		if err != nil {
			return err
		}
		for _, name := range chunk {
			b.loaded[name] = true
		}
	}
	return nil
}

// forget drops an SLO from every block of its tenant: its minutes were
// filled anew.
func (st *runningState) forget(tenant, name string) {
	for k, b := range st.blocks {
		if k.tenant == tenant {
			delete(b.minutes, name)
			delete(b.loaded, name)
		}
	}
}

// ahead is an hour block that moving windows will reach: the SLOs whose
// windows will, and in how many ticks the first of them does at the
// pace of this tick.
type ahead struct {
	names []string
	ticks int64
}

// prefetch reads a share of the SLOs of each block the moving windows will
// reach next, so that no tick reads every SLO's hour at once: the block of
// the hour after each window's start is read over the ticks until the
// start reaches it, the remaining SLOs divided by the ticks left, but at
// least a readAheadSteps-th of them. A tenant's long windows reach their
// next hours on the same tick, so its blocks take turns: the most urgent
// reads a share each tick, the others wait while there are ticks enough
// for every block's shares. Windows that do not move at the pace guessed
// are read when they reach the hour, as at start.
func (e *Evaluator) prefetch(ctx context.Context, next map[blockKey]*ahead) error {
	type pending struct {
		k    blockKey
		a    *ahead
		todo []string
	}
	byTenant := map[string][]pending{}
	for k, a := range next {
		b := e.running.block(k)
		b.used = true
		var todo []string
		for _, name := range a.names {
			if !b.loaded[name] {
				todo = append(todo, name)
			}
		}
		if len(todo) > 0 {
			sort.Strings(todo) // the same share whichever order the map gave
			byTenant[k.tenant] = append(byTenant[k.tenant], pending{k: k, a: a, todo: todo})
		}
	}
	for _, ps := range byTenant {
		sort.Slice(ps, func(i, j int) bool {
			if ps[i].a.ticks != ps[j].a.ticks {
				return ps[i].a.ticks < ps[j].a.ticks
			}
			return ps[i].k.hour < ps[j].k.hour
		})
		for i, p := range ps {
			left := int64(len(p.todo))
			least := (int64(len(p.a.names)) + readAheadSteps - 1) / readAheadSteps
			if i > 0 && (left+least-1)/least*int64(len(ps)) < p.a.ticks {
				continue
			}
			share := min(max((left+p.a.ticks-1)/p.a.ticks, least), left)
			if err := e.running.blocks[p.k].load(ctx, e.Store, p.k, p.todo[:share]); err != nil {
				return err
			}
		}
	}
	return nil
}

// judgeAll judges the SLOs at tick after their rollups were written: those
// of whole events from their running sums, moved by this tick's fresh
// minutes (or rebuilt from the rollups when they have none yet, their
// windows changed, or they cannot be moved), the rest by ComputeAll.
func (e *Evaluator) judgeAll(ctx context.Context, slos []*SLO, fresh map[string]recomputed, tick time.Time) ([]Status, error) {
	now := tick.Truncate(time.Minute).Add(time.Minute)
	end := unixMinute(now)
	span := int64((e.recompute() + ringBeyondRecompute) / time.Minute)
	if e.running.slos == nil {
		e.running = runningState{slos: map[string]*runningSums{}, blocks: map[blockKey]*edgeBlock{}}
	}
	type move struct {
		r      *runningSums
		starts []int64
	}
	moves := map[*SLO]move{}
	var full, stale []*SLO
	for _, s := range slos {
		if !summedIncrementally(s) {
			full = append(full, s)
			continue
		}
		r := e.running.slos[sloKey(s)]
		if r == nil || r.sig != windowSignature(s) || r.span() != span {
			stale = append(stale, s)
			continue
		}
		moves[s] = move{r: r, starts: windowMinutes(s, now)}
	}
	// An SLO to rebuild may have had its month of rollups filled this
	// tick, which hour blocks read before lack.
	for _, s := range stale {
		e.running.forget(s.tenant(), s.Name)
	}
	for _, b := range e.running.blocks {
		b.used = false
	}
	// The blocks the slides need now: each read once, for the SLOs not
	// read ahead.
	need := map[blockKey][]string{}
	next := map[blockKey]*ahead{}
	for s, mv := range moves {
		slides, ok := mv.r.plan(mv.starts)
		if !ok {
			continue // advance fails the same way and rebuilds it
		}
		for _, h := range mv.r.edgeHours(slides) {
			k := blockKey{tenant: s.tenant(), hour: h}
			b := e.running.block(k)
			b.used = true
			if !b.loaded[s.Name] {
				need[k] = append(need[k], s.Name)
			}
		}
		for i, sl := range slides {
			// A window whose start moved next needs its start's hour
			// (now, if the start is on the hour) and then the one after,
			// while they are older than the ring.
			step, at := mv.starts[i]-mv.r.starts[i], mv.starts[i]
			if sl.reset || step <= 0 {
				continue
			}
			for _, h := range []int64{floorHour(at), floorHour(at) + 60} {
				if h >= end-span {
					break
				}
				k := blockKey{tenant: s.tenant(), hour: h}
				a := next[k]
				if a == nil {
					a = &ahead{ticks: math.MaxInt64}
					next[k] = a
				}
				a.names = append(a.names, s.Name)
				a.ticks = min(a.ticks, max((h-at)/step, 1))
			}
		}
	}
	for k, names := range need {
		if err := e.running.blocks[k].load(ctx, e.Store, k, names); err != nil {
			return nil, fmt.Errorf("running sums: %w", err)
		}
	}
	if err := e.prefetch(ctx, next); err != nil {
		return nil, fmt.Errorf("running sums: %w", err)
	}
	for k, b := range e.running.blocks {
		if !b.used {
			delete(e.running.blocks, k)
		}
	}
	for s, mv := range moves {
		tenant, name := s.tenant(), s.Name
		older := func(m int64) (Counts, bool) {
			b := e.running.blocks[blockKey{tenant: tenant, hour: m - m%60}]
			if b == nil || !b.loaded[name] {
				return Counts{}, false
			}
			if hour := b.minutes[name]; hour != nil {
				return hour[m%60], true
			}
			return Counts{}, true
		}
		if !mv.r.advance(end, mv.starts, fresh[sloKey(s)], older) {
			delete(e.running.slos, sloKey(s))
			stale = append(stale, s)
		}
	}
	if len(stale) > 0 {
		built, err := rebuild(ctx, e.Store, stale, now, span, int64(e.recompute()/time.Minute), &e.running)
		if err != nil {
			return nil, fmt.Errorf("running sums: %w", err)
		}
		for k, r := range built {
			e.running.slos[k] = r
		}
	}
	byKey := map[string]Status{}
	if len(full) > 0 {
		sts, err := ComputeAll(ctx, e.Store, full, tick)
		if err != nil {
			return nil, err
		}
		for _, st := range sts {
			byKey[sloKey(st.SLO)] = st
		}
	}
	out := make([]Status, 0, len(slos))
	for _, s := range slos {
		st, ok := byKey[sloKey(s)]
		if !ok {
			r := e.running.slos[sloKey(s)]
			var err error
			if st, err = judge(ctx, e.Store, s, now, func(i int) Counts { return r.sums[i] }); err != nil {
				return nil, err
			}
		}
		out = append(out, st)
	}
	return out, nil
}
