package slo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"sync"
	"time"

	"github.com/vigil-dev/vigil/analyzer/drift"
	"github.com/vigil-dev/vigil/store"
)

// RollupStore is what evaluation reads and writes.
type RollupStore interface {
	store.SLIReader
	store.LogSLIReader
	store.MetricReader
	store.RollupWriter
	store.RollupReader
	store.TenantRollupReader // running sums' start and long windows' edges
	store.HourlyRollups      // running sums' start
	store.SLOsRollupReader   // long windows' edges, read ahead
	store.EventReader        // alerts to take up when the evaluator gains an SLO
}

// WindowBurn is one alert rule's state at an evaluation.
type WindowBurn struct {
	Rule        AlertWindow
	Long, Short Counts
	LongRate    float64 // burn rate over the long window; 0 without data
	ShortRate   float64
	Firing      bool
	NoData      bool
}

// Status is an SLO's standing at a time, computed from rollups.
type Status struct {
	SLO    *SLO
	At     time.Time
	Counts Counts // over the SLO's window
	Budget Budget
	Burns  []WindowBurn
	// State is "ok", "no data", or the most severe firing rule's severity.
	State string
}

func (s *SLO) tenant() string {
	if s.Tenant == "" {
		return store.DefaultTenant
	}
	return s.Tenant
}

// Compute judges an SLO at now from its rollups (see ComputeAll).
func Compute(ctx context.Context, r store.RollupReader, s *SLO, now time.Time) (Status, error) {
	sts, err := ComputeAll(ctx, r, []*SLO{s}, now)
	if err != nil {
		return Status{}, err
	}
	return sts[0], nil
}

// ComputeAll judges SLOs at now from their rollups: the SLI and error
// budget over each window and the burn rate of every rule over both its
// windows, all ending with the minute that contains now (so it counts the
// minute so far). A rule fires when both burn rates exceed its factor and
// the long window has at least MinEvents events.
func ComputeAll(ctx context.Context, r store.RollupReader, slos []*SLO, now time.Time) ([]Status, error) {
	now = now.Truncate(time.Minute).Add(time.Minute)
	sums, err := readWindowSums(ctx, r, slos, now)
	if err != nil {
		return nil, err
	}
	out := make([]Status, 0, len(slos))
	for _, s := range slos {
		st, err := judge(ctx, r, s, now, sums.of(s, now))
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// judge builds an SLO's status at now (the end of its windows) from the
// counts of its windows, in windowStarts' order.
func judge(ctx context.Context, r store.RollupReader, s *SLO, now time.Time, counts func(i int) Counts) (Status, error) {
	st := Status{SLO: s, At: now, State: "ok", Counts: counts(0)}
	st.Budget = OccurrencesBudget(st.Counts, s.Objective)
	if s.Method.sliced() {
		// Slices are judged from the window's minutes, read each time: the
		// running sums keep windows' totals, not their slices.
		from, _ := s.Window.Bounds(now)
		b, err := slicesBudget(ctx, r, s, from, now)
		if err != nil {
			return Status{}, err
		}
		st.Budget = b
	}
	if st.Budget.NoData {
		st.State = "no data"
	}
	for i, w := range s.Alerts {
		b := burn(s, w, counts(1+2*i), counts(2+2*i))
		if b.Firing && (st.State == "ok" || st.State == "no data" || w.Severity == "page") {
			st.State = w.Severity
		}
		st.Burns = append(st.Burns, b)
	}
	return st, nil
}

// burn judges one alert rule from the counts of its two windows.
func burn(s *SLO, w AlertWindow, long, short Counts) WindowBurn {
	b := WindowBurn{Rule: w, Long: long, Short: short}
	le, lok := b.Long.ErrorRatio()
	se, sok := b.Short.ErrorRatio()
	b.NoData = !lok || !sok
	if lok {
		b.LongRate = BurnRate(le, s.Objective)
	}
	if sok {
		b.ShortRate = BurnRate(se, s.Objective)
	}
	b.Firing = !b.NoData && w.Exceeds(b.LongRate) && w.Exceeds(b.ShortRate) && b.Long.Total >= float64(s.MinEvents)
	return b
}

// windowStarts lists the starts of the windows an SLO is judged over, all
// ending at now: its own window, then each rule's long and short window.
func windowStarts(s *SLO, now time.Time) []time.Time {
	from, _ := s.Window.Bounds(now)
	out := []time.Time{from}
	for _, w := range s.Alerts {
		out = append(out, now.Add(-w.Long), now.Add(-w.Short))
	}
	return out
}

// windowSums are the rollup sums of many SLOs' windows, read per tenant
// with every start any of its SLOs needs.
type windowSums map[string]*tenantSums

type tenantSums struct {
	names  []string
	starts []time.Time
	index  map[time.Time]int // position of a start in starts
	sums   map[string][]store.GoodTotal
}

// sumChunk is how many SLOs one rollup read covers.
const sumChunk = 50

func readWindowSums(ctx context.Context, r store.RollupReader, slos []*SLO, now time.Time) (windowSums, error) {
	byTenant := windowSums{}
	for _, s := range slos {
		q := byTenant[s.tenant()]
		if q == nil {
			q = &tenantSums{index: map[time.Time]int{}, sums: map[string][]store.GoodTotal{}}
			byTenant[s.tenant()] = q
		}
		q.names = append(q.names, s.Name)
		for _, st := range windowStarts(s, now) {
			if _, ok := q.index[st]; !ok {
				q.index[st] = len(q.starts)
				q.starts = append(q.starts, st)
			}
		}
	}
	for tenant, q := range byTenant {
		// A read groups every minute of its SLOs by SLO and minute: fifty a
		// read measured fastest on ClickHouse 18.16 for 1,000 SLOs of a month
		// of minutes (18.9 s a round, against 51 s one at a time), and all
		// thousand at once ran out of the server's query memory.
		for i := 0; i < len(q.names); i += sumChunk {
			got, err := r.SumRollupWindows(ctx, tenant, q.names[i:min(i+sumChunk, len(q.names))], q.starts, now)
			if err != nil {
				return nil, err
			}
			maps.Copy(q.sums, got)
		}
	}
	return byTenant, nil
}

// of returns the counts of an SLO's i-th window (as windowStarts orders
// them); zero without rollups.
func (w windowSums) of(s *SLO, now time.Time) func(i int) Counts {
	q := w[s.tenant()]
	got, starts := q.sums[s.Name], windowStarts(s, now)
	return func(i int) Counts {
		if got == nil {
			return Counts{}
		}
		gt := got[q.index[starts[i]]]
		return Counts{Good: gt.Good, Total: gt.Total}
	}
}

// slicesBudget judges a timeslice SLO's window from its minutes: slices are
// SliceWindow long, aligned by time.Truncate (so a slice is the same slice
// at every evaluation), and a slice cut by the
// window's start counts only its minutes inside the window. Burn rates of
// timeslice SLOs stay on events, as Sloth and Pyrra compute them, so an
// alert reacts within its short window rather than a slice.
func slicesBudget(ctx context.Context, r store.RollupReader, s *SLO, from, to time.Time) (Budget, error) {
	minutes, err := r.Rollups(ctx, store.RollupQuery{Tenant: s.tenant(), SLO: s.Name, Start: from, End: to})
	if err != nil {
		return Budget{}, err
	}
	width := s.SliceWindow
	if width <= 0 {
		width = time.Minute
	}
	var slices []Counts
	var current time.Time
	for _, m := range minutes {
		slice := m.Minute.Truncate(width)
		if len(slices) == 0 || !slice.Equal(current) {
			slices, current = append(slices, Counts{}), slice
		}
		slices[len(slices)-1].Good += m.Good
		slices[len(slices)-1].Total += m.Total
	}
	if s.Method == Timeslices {
		return TimeslicesBudget(slices, s.SliceTarget, s.Objective), nil
	}
	return RatioTimeslicesBudget(slices, s.Objective), nil
}

// Evaluator keeps every SLO's per-minute rollups up to date from spans,
// metrics and drift verdicts: on its first run it fills the SLO's whole
// window, then each tick recomputes the last Recompute minutes and the
// minute in progress, so spans and samples that arrive late still count. A rollup replaces the stored minute, so ticks
// and replicas agree.
//
// With an Alerter it judges the SLOs each tick: SLOs of whole events from
// running sums of their windows (see incremental.go), the others from
// their rollups (ComputeAll).
type Evaluator struct {
	Store     RollupStore
	SLOs      []*SLO
	Recompute time.Duration // default 10m
	// Alerter, when set, turns each tick's firing rules into alerts.
	Alerter *Alerter
	// Owns, when set, says which SLOs this replica evaluates at a tick
	// (the analyzer's Owns, by the key "slo/<tenant>/<name>"); nil
	// evaluates them all.
	Owns func(ctx context.Context, key string) bool
	// Current, when set, returns the SLOs as the config directory defines
	// them now; it is called at every tick instead of reading SLOs.
	Current func() []*SLO
	// PromQL evaluates the SLIs written as PromQL queries.
	PromQL PromQL

	mu    sync.Mutex
	done  map[string]time.Time // guarded by mu: rollups are complete before this minute
	owned map[string]bool      // guarded by mu: the SLOs evaluated at the last tick

	// runMu is held through a Run: the running sums move once per tick,
	// in tick order.
	runMu   sync.Mutex
	running runningState // guarded by runMu
}

func (e *Evaluator) recompute() time.Duration {
	if e.Recompute == 0 {
		return 10 * time.Minute
	}
	return e.Recompute
}

// Name implements the analyzer's Job.
func (e *Evaluator) Name() string { return "slo" }

// slos are the SLOs in force at this tick.
func (e *Evaluator) slos() []*SLO {
	if e.Current != nil {
		return e.Current()
	}
	return e.SLOs
}

// restoreLookback is how far back Restore looks for the events of firing
// alerts. A firing alert is recorded once, when it starts, so this bounds
// how long an alert can have fired and still be taken up; 90 days is the
// default retention of rollups, past which no rule can judge anything.
const restoreLookback = 90 * 24 * time.Hour

func sloKey(s *SLO) string { return "slo/" + s.tenant() + "/" + s.Name }

// Run implements the analyzer's Job.
func (e *Evaluator) Run(ctx context.Context, tick time.Time) error {
	e.runMu.Lock()
	defer e.runMu.Unlock()
	recompute := e.recompute()
	now := tick.Truncate(time.Minute).Add(time.Minute) // through the minute in progress
	var mine, gained []*SLO
	owned := map[string]bool{}
	defined := e.slos()
	e.mu.Lock()
	for _, s := range defined {
		if e.Owns != nil && !e.Owns(ctx, sloKey(s)) {
			continue
		}
		mine = append(mine, s)
		owned[sloKey(s)] = true
		if !e.owned[sloKey(s)] {
			gained = append(gained, s)
		}
	}
	e.mu.Unlock()
	var errs []error
	var judged, unjudged []*SLO
	// The minutes this tick recomputed, of the SLOs with running sums.
	fresh := map[string]recomputed{}
	settle := func(s *SLO, from time.Time, minutes []minute, err error) {
		if err != nil {
			// Its rollups may be half written: its sums are rebuilt
			// when it is judged again.
			delete(e.running.slos, sloKey(s))
			errs = append(errs, fmt.Errorf("slo %s: %w", s.Name, err))
			unjudged = append(unjudged, s)
			return
		}
		fresh[sloKey(s)] = recomputed{from: unixMinute(from), minutes: minutes}
		judged = append(judged, s)
		e.mu.Lock()
		e.done[sloKey(s)] = now
		e.mu.Unlock()
	}
	late := now.Add(-recompute)
	// The SLOs whose rollups are written from the same minute on, counted
	// together: all of them from the recompute span once their rollups
	// are complete; at start, after a stall or on taking an SLO over, a
	// fill from further back. A fill may change minutes of hours that have
	// an hourly rollup: it starts on the hour and rewrites the rollup of
	// each final hour (before final) it finds events in.
	type fill struct{ from, final time.Time }
	var fills []fill
	together := map[fill][]*SLO{}
	for _, s := range mine {
		e.mu.Lock()
		if e.done == nil {
			e.done = map[string]time.Time{}
		}
		from, ok := e.done[sloKey(s)]
		e.mu.Unlock()
		if !ok {
			from, _ = s.Window.Bounds(now)
		}
		f := fill{from: late}
		if from.Before(late) {
			f = fill{from: from.Truncate(time.Hour), final: late.Truncate(time.Hour)}
		}
		if together[f] == nil {
			fills = append(fills, f)
		}
		together[f] = append(together[f], s)
	}
	for _, f := range fills {
		slos := together[f]
		// A fill's minutes are handed to running sums only, which have
		// them after a stall; the recompute span's to all.
		keep := func(s *SLO) bool {
			_, running := e.running.slos[sloKey(s)]
			return running || f.final.IsZero()
		}
		// At most rollupRows minutes in memory at once.
		step := max(1, rollupRows/max(1, int(min(now.Sub(f.from), 24*time.Hour)/time.Minute)))
		for len(slos) > 0 {
			part := slos[:min(step, len(slos))]
			slos = slos[len(part):]
			minutes, failed := e.rollup(ctx, part, f.from, now, f.final, keep)
			for i, s := range part {
				settle(s, f.from, minutes[i], failed[i])
			}
		}
	}
	// An SLO another replica evaluates is written by it meanwhile: its
	// sums are rebuilt from the rollups if this replica takes it back.
	for key := range e.running.slos {
		if !owned[key] {
			delete(e.running.slos, key)
		}
	}
	if e.Alerter == nil {
		return errors.Join(errs...)
	}
	// An SLO this replica has just taken up (at start, or from a replica
	// that stopped) brings its firing alerts along, so they keep their
	// start and are resolved when they stop.
	if len(gained) > 0 {
		if err := e.Alerter.Restore(ctx, e.Store, gained, tick, restoreLookback); err != nil {
			errs = append(errs, err)
			// A store that cannot be read is tried again next tick; events
			// that do not decode are named and passed over.
			if bad := (*store.PayloadError)(nil); !errors.As(err, &bad) {
				return errors.Join(errs...)
			}
		}
	}
	e.mu.Lock()
	e.owned = owned
	e.mu.Unlock()
	// Only SLOs whose rollups are complete are judged: a store error must
	// not read as their rules having stopped firing, so the alerts of the
	// others are held as they stand, and one SLO's failure does not hold
	// up the rest.
	statuses, err := e.judgeAll(ctx, judged, fresh, tick)
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("slo statuses: %w", err))...)
	}
	if err := e.Alerter.Update(ctx, Evaluation{Statuses: statuses, Unjudged: unjudged, Defined: defined}, tick); err != nil {
		errs = append(errs, fmt.Errorf("slo alerts: %w", err))
	}
	if err := e.writeHours(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// rollupRows is how many minutes of rollups a fill holds at once.
const rollupRows = 500_000

// rollup writes the minutes of slos in [from, to), a day at a time, and
// returns those of the SLOs keep says. A day's minutes of every SLO are
// counted together (countDay) and written in one insert: a read and an
// insert an SLO made a tick of 1,000 SLOs take 6 to 11 s (BENCHMARKS.md).
// The hours before final that an SLO has events in get their hourly
// rollup rewritten as the sum of its minutes (from must then be on the
// hour). failed[i] is why slos[i] has none.
func (e *Evaluator) rollup(ctx context.Context, slos []*SLO, from, to, final time.Time, keep func(*SLO) bool) (minutes [][]minute, failed []error) {
	minutes, failed = make([][]minute, len(slos)), make([]error, len(slos))
	fail := func(err error) {
		for i := range failed {
			if failed[i] == nil {
				failed[i] = err
			}
		}
	}
	hours := make([]map[time.Time]Counts, len(slos))
	for start := from; start.Before(to); start = start.Add(24 * time.Hour) {
		end := start.Add(24 * time.Hour)
		if end.After(to) {
			end = to
		}
		day := e.countDay(ctx, slos, failed, start, end)
		var rollups []store.Rollup
		for i, s := range slos {
			if failed[i] != nil {
				continue
			}
			for _, c := range day[i] {
				rollups = append(rollups, store.Rollup{Tenant: s.tenant(), SLO: s.Name, Minute: c.at, Good: c.good, Total: c.total})
				if c.at.Before(final) {
					if hours[i] == nil {
						hours[i] = map[time.Time]Counts{}
					}
					hour := c.at.Truncate(time.Hour)
					h := hours[i][hour]
					h.add(Counts{Good: c.good, Total: c.total})
					hours[i][hour] = h
				}
			}
			if keep(s) {
				minutes[i] = append(minutes[i], day[i]...)
			}
		}
		if err := e.Store.WriteRollups(ctx, rollups); err != nil {
			fail(err)
			return minutes, failed
		}
	}
	var rows []store.HourlyRollup
	for i, s := range slos {
		for h, c := range hours[i] {
			if failed[i] == nil {
				rows = append(rows, store.HourlyRollup{Tenant: s.tenant(), SLO: s.Name, Hour: h, Good: c.Good, Total: c.Total})
			}
		}
	}
	if err := e.Store.WriteHourlyRollups(ctx, rows); err != nil {
		fail(err)
	}
	return minutes, failed
}

// countDay counts the minutes in [start, end) of the SLOs that have not
// failed: the span SLIs together, the others one by one. An SLO the
// shared read cannot count is counted on its own, so that it fails
// alone; failed[i] says why slos[i] has no minutes.
func (e *Evaluator) countDay(ctx context.Context, slos []*SLO, failed []error, start, end time.Time) [][]minute {
	src := sources{store: e.Store, promql: e.PromQL}
	day := make([][]minute, len(slos))
	var queries []store.SLIQuery
	var asked []int // the index in slos of each query
	for i, s := range slos {
		if failed[i] != nil {
			continue
		}
		if sli, ok := s.SLI.(spanSLI); ok {
			queries = append(queries, sli.sliQuery(s.tenant(), s.Service, start, end))
			asked = append(asked, i)
			continue
		}
		day[i], failed[i] = s.SLI.minutes(ctx, src, s.tenant(), s.Service, start, end)
	}
	counts, err := e.Store.SLICountsEach(ctx, queries)
	for j, i := range asked {
		if err != nil {
			day[i], failed[i] = slos[i].SLI.minutes(ctx, src, slos[i].tenant(), slos[i].Service, start, end)
			continue
		}
		day[i], _ = spanMinutes(counts[j], nil)
	}
	return day
}

// minutes counts the monitor's verdicts per minute: each that says
// drifted or not is an event, good when it found no drift.
func (d DriftVerdicts) minutes(ctx context.Context, src sources, tenant, _ string, from, to time.Time) ([]minute, error) {
	verdicts, err := drift.Verdicts.Read(ctx, src.store, store.EventQuery{Tenant: tenant, Subjects: []string{d.Monitor}, Start: from, End: to})
	if err != nil {
		return nil, err
	}
	byMinute := map[int64]*minute{}
	for _, v := range verdicts {
		if !v.Value.Tested() {
			continue
		}
		m := v.Event.Time.Unix() / 60
		if byMinute[m] == nil {
			byMinute[m] = &minute{at: time.Unix(m*60, 0).UTC()}
		}
		byMinute[m].total++
		if !v.Value.Drifted {
			byMinute[m].good++
		}
	}
	return sortedMinutes(byMinute), nil
}

// sortedMinutes lists minutes, keyed by Unix minute, in time order.
func sortedMinutes(byMinute map[int64]*minute) []minute {
	out := make([]minute, 0, len(byMinute))
	for _, c := range byMinute {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}
