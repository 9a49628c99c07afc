package slo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/clickhouse"
	"github.com/vigil-dev/vigil/store/embedded"
)

// TestRunningSumsEqualRecomputation drives two evaluator replicas over
// randomized span histories with late data, missed ticks, a long stall,
// SLOs moving between the replicas and one replica restarting, and checks
// after every tick that each SLO's running sums equal a full recomputation
// from the rollups (ComputeAll) exactly. Windows are rolling (some longer
// than the ring, so their edges come from hour blocks) and calendar ones
// (a 2h period from an odd minute, in a zone with an offset).
func TestRunningSumsEqualRecomputation(t *testing.T) {
	stores := map[string]func(t *testing.T) RollupStoreWithSpans{"DuckDB": func(t *testing.T) RollupStoreWithSpans {
		st, err := embedded.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}}
	if addr := os.Getenv("VIGIL_TEST_CLICKHOUSE"); addr != "" {
		stores["ClickHouse"] = func(t *testing.T) RollupStoreWithSpans {
			ctx := context.Background()
			cfg, err := clickhouse.ParseURL(fmt.Sprintf("clickhouse://%s/vigil_slo_incr_%d", addr, time.Now().UnixNano()))
			if err != nil {
				t.Fatal(err)
			}
			st, err := clickhouse.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.DropDatabase(ctx); st.Close() })
			return st
		}
	} else if os.Getenv("VIGIL_TEST_STRICT") != "" {
		t.Fatal("VIGIL_TEST_STRICT is set but VIGIL_TEST_CLICKHOUSE names no server")
	}
	for name, open := range stores {
		for _, seed := range []uint64{1} {
			t.Run(fmt.Sprintf("%s/seed%d", name, seed), func(t *testing.T) {
				testRunningSums(t, &hourGaps{RollupStoreWithSpans: open(t)}, seed)
			})
		}
	}
}

// hourGaps is a store in which every third hour never gets its hourly
// rollup, as for hours before the hourly level existed or filled while
// no analyzer ran, so rebuilds take those hours from their minutes. It
// counts the reads of both kinds.
type hourGaps struct {
	RollupStoreWithSpans
	hourRows, summedHours int
}

func gap(h time.Time) bool { return h.Unix()/3600%3 == 1 }

func (g *hourGaps) WriteHourlyRollups(ctx context.Context, hours []store.HourlyRollup) error {
	var kept []store.HourlyRollup
	for _, h := range hours {
		if !gap(h.Hour) {
			kept = append(kept, h)
		}
	}
	return g.RollupStoreWithSpans.WriteHourlyRollups(ctx, kept)
}

func (g *hourGaps) TenantHourlyRollups(ctx context.Context, tenant string, start, end time.Time, fn func(*store.HourlyRollup) error) error {
	return g.RollupStoreWithSpans.TenantHourlyRollups(ctx, tenant, start, end, func(h *store.HourlyRollup) error {
		g.hourRows++
		return fn(h)
	})
}

func (g *hourGaps) SumRollupHours(ctx context.Context, tenant string, slos []string, start, end time.Time, fn func(*store.HourlyRollup) error) error {
	return g.RollupStoreWithSpans.SumRollupHours(ctx, tenant, slos, start, end, func(h *store.HourlyRollup) error {
		g.summedHours++
		return fn(h)
	})
}

// RollupStoreWithSpans is a store the test writes spans to.
type RollupStoreWithSpans interface {
	RollupStore
	store.SpanWriter
	store.EventWriter
}

func testRunningSums(t *testing.T, st *hourGaps, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 7))
	calendar, err := CalendarWindow("2h", "2026-11-26 00:17:00", "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	rules := []AlertWindow{
		{Severity: "page", Long: 4 * time.Hour, Short: 5 * time.Minute, Factor: 2},
		{Severity: "page", Long: 150 * time.Minute, Short: 2 * time.Minute, Factor: 5},
		{Severity: "ticket", Long: time.Hour, Short: 30 * time.Minute, Factor: 1},
	}
	var slos []*SLO
	// Enough SLOs in one tenant that a rebuild reads the tenant's recent
	// minutes in one read; each counts the same spans differently.
	for i := 0; i < tenantScanMin+2; i++ {
		slos = append(slos, &SLO{Name: fmt.Sprintf("latency-%d", i), Tenant: "acme", Service: "chat", Objective: 0.9,
			Window: TimeWindow{Duration: 3 * time.Hour, Rolling: true}, SLI: SpanLatency{Latency: time.Duration(10+10*i) * time.Millisecond}, Alerts: rules})
	}
	slos = append(slos,
		&SLO{Name: "availability", Tenant: "acme", Service: "chat", Objective: 0.95, Window: calendar, SLI: SpanAvailability{}, Alerts: rules},
		&SLO{Name: "embed-slices", Tenant: "acme", Service: "embed", Objective: 0.9, Window: TimeWindow{Duration: 3 * time.Hour, Rolling: true},
			SLI: SpanAvailability{}, Method: Timeslices, SliceTarget: 0.8, SliceWindow: 5 * time.Minute, Alerts: rules[:1]},
		&SLO{Name: "availability", Tenant: "globex", Service: "chat", Objective: 0.99, Window: TimeWindow{Duration: 5 * time.Hour, Rolling: true},
			SLI: SpanAvailability{}, Alerts: rules},
		// Ten hours: most of its window comes from the hourly level.
		&SLO{Name: "availability-10h", Tenant: "globex", Service: "chat", Objective: 0.99, Window: TimeWindow{Duration: 10 * time.Hour, Rolling: true},
			SLI: SpanAvailability{}, Alerts: rules},
	)

	start := time.Date(2026, 11, 26, 6, 0, 30, 0, time.UTC)
	n := 0
	spanAt := func(tenant, service string, at time.Time) store.Span {
		n++
		sp := store.Span{Tenant: tenant, Service: service, Operation: "op", TraceID: store.TraceID{byte(n >> 16), byte(n >> 8), byte(n), 1},
			SpanID: store.SpanID{byte(n >> 16), byte(n >> 8), byte(n)}, StartUnixNano: at.UnixNano(), DurationNano: int64(rng.IntN(300)) * int64(time.Millisecond)}
		if rng.IntN(6) == 0 {
			sp.StatusCode = store.StatusError
		}
		return sp
	}
	// spansIn writes up to 4 spans a minute of each service in [from, to).
	spansIn := func(from, to time.Time) []store.Span {
		var out []store.Span
		for m := from.Truncate(time.Minute); m.Before(to); m = m.Add(time.Minute) {
			for _, ts := range [][2]string{{"acme", "chat"}, {"acme", "embed"}, {"globex", "chat"}} {
				for i := rng.IntN(5); i > 0; i-- {
					if at := m.Add(time.Duration(rng.IntN(60)) * time.Second); !at.Before(from) && at.Before(to) {
						out = append(out, spanAt(ts[0], ts[1], at))
					}
				}
			}
		}
		return out
	}
	write := func(spans []store.Span) {
		if err := st.WriteSpans(ctx, spans); err != nil {
			t.Fatal(err)
		}
	}
	write(spansIn(start.Add(-6*time.Hour), start))

	ownerB := map[string]bool{} // SLOs replica b evaluates; a has the rest
	newReplica := func(b bool) *Evaluator {
		return &Evaluator{Store: st, SLOs: slos, Alerter: &Alerter{Publisher: to(&recorder{}), Events: st, Interval: time.Minute},
			Owns: func(_ context.Context, key string) bool { return ownerB[key] == b }}
	}
	a, b := newReplica(false), newReplica(true)
	var advanced, rebuilt, blockTicks int
	last := map[string]*runningSums{}
	tick, prev := start, start
	for step := 0; step < 70; step++ {
		// Mostly a tick a minute; sometimes missed ticks, once a stall
		// longer than the ring.
		gap := time.Duration(1+rng.IntN(3)) * time.Minute
		if rng.IntN(8) == 0 {
			gap = time.Duration(5+rng.IntN(12)) * time.Minute
		}
		if step == 40 {
			gap = 200 * time.Minute
		}
		tick = tick.Add(gap)
		spans := spansIn(prev, tick)
		// Late data: spans of the last ten minutes that arrive now, and
		// some too late for any tick to recompute.
		for i := rng.IntN(6); i > 0; i-- {
			spans = append(spans, spanAt("acme", "chat", tick.Add(-time.Duration(rng.IntN(600))*time.Second)))
			spans = append(spans, spanAt("globex", "chat", tick.Add(-time.Duration(rng.IntN(600))*time.Second)))
		}
		if rng.IntN(4) == 0 {
			spans = append(spans, spanAt("acme", "chat", tick.Add(-time.Duration(20+rng.IntN(60))*time.Minute)))
		}
		write(spans)
		prev = tick
		// SLOs move between the replicas, and a restarts once.
		for _, s := range slos {
			if rng.IntN(15) == 0 {
				ownerB[sloKey(s)] = !ownerB[sloKey(s)]
			}
		}
		if step == 25 {
			a = newReplica(false)
		}
		for _, e := range []*Evaluator{a, b} {
			if err := e.Run(ctx, tick); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			if len(e.running.blocks) > 0 {
				blockTicks++
			}
		}
		want, err := ComputeAll(ctx, st, slos, tick)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			key := sloKey(w.SLO)
			e := a
			if ownerB[key] {
				e = b
			}
			r := e.running.slos[key]
			if r == nil {
				t.Fatalf("step %d: %s has no running sums", step, key)
			}
			if last[key] == r {
				advanced++
			} else {
				rebuilt++
			}
			last[key] = r
			got := []Counts{r.sums[0]}
			exp := []Counts{w.Counts}
			for i, burn := range w.Burns {
				got = append(got, r.sums[1+2*i], r.sums[2+2*i])
				exp = append(exp, burn.Long, burn.Short)
			}
			if fmt.Sprint(got) != fmt.Sprint(exp) {
				t.Fatalf("step %d (%s): %s running %v, recomputed %v", step, tick.Format("15:04:05"), key, got, exp)
			}
		}
	}
	t.Logf("%d SLO ticks moved incrementally, %d rebuilt; hour blocks held at %d replica ticks; rebuilds read %d hourly rows and summed %d hours from minutes",
		advanced, rebuilt, blockTicks, st.hourRows, st.summedHours)
	// The test proves nothing if everything was rebuilt every tick, or
	// if the rebuilds never used hourly rows or never lacked them.
	if advanced < 10*rebuilt || blockTicks < 20 || st.hourRows < 100 || st.summedHours < 20 {
		t.Errorf("%d moved, %d rebuilt, blocks at %d ticks, %d hourly rows read, %d hours summed: the incremental path was hardly exercised",
			advanced, rebuilt, blockTicks, st.hourRows, st.summedHours)
	}
	// Every hourly row equals the sum of its hour's stored minutes, late
	// data included.
	rows := 0
	for _, tenant := range []string{"acme", "globex"} {
		stored := map[string]Counts{}
		err := st.TenantHourlyRollups(ctx, tenant, start.Add(-24*time.Hour), tick, func(h *store.HourlyRollup) error {
			stored[h.SLO+" "+h.Hour.Format(time.RFC3339)] = Counts{Good: h.Good, Total: h.Total}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range slos {
			if s.tenant() == tenant {
				names = append(names, s.Name)
			}
		}
		summed := map[string]Counts{}
		err = st.SumRollupHours(ctx, tenant, names, start.Add(-24*time.Hour), tick, func(h *store.HourlyRollup) error {
			summed[h.SLO+" "+h.Hour.Format(time.RFC3339)] = Counts{Good: h.Good, Total: h.Total}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for k, c := range stored {
			if c != summed[k] {
				t.Errorf("hourly rollup %s/%s = %v, its minutes sum to %v", tenant, k, c, summed[k])
			}
			rows++
		}
	}
	if rows < 50 {
		t.Errorf("only %d hourly rows were written", rows)
	}
}

// TestHourBlocksReadAhead checks that the hours leaving the long windows
// are read a share of the SLOs per tick, ahead of the tick the windows
// reach them, rather than every SLO's hour at that tick, and that the sums
// still equal ComputeAll's.
func TestHourBlocksReadAhead(t *testing.T) {
	ctx := context.Background()
	db, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 30
	var slos []*SLO
	for i := 0; i < n; i++ {
		slos = append(slos, &SLO{Name: fmt.Sprintf("slo-%d", i), Service: "svc", Objective: 0.99, Window: TimeWindow{Duration: 8 * time.Hour, Rolling: true},
			SLI: SpanAvailability{}, Alerts: []AlertWindow{{Severity: "page", Long: 6 * time.Hour, Short: 30 * time.Minute, Factor: 6}}})
	}
	first := time.Date(2026, 11, 26, 12, 17, 30, 0, time.UTC)
	var rollups []store.Rollup
	for m := first.Add(-10 * time.Hour).Truncate(time.Minute); m.Before(first.Add(3 * time.Hour)); m = m.Add(time.Minute) {
		for i, s := range slos {
			rollups = append(rollups, store.Rollup{Tenant: store.DefaultTenant, SLO: s.Name, Minute: m, Good: float64(90 + (m.Minute()+i)%10), Total: 100})
		}
	}
	if err := db.WriteRollups(ctx, rollups); err != nil {
		t.Fatal(err)
	}
	st := &namesRead{RollupStore: db}
	e := &Evaluator{Store: st}
	e.runMu.Lock()
	defer e.runMu.Unlock()
	most, total := 0, 0
	for i := 0; i <= 150; i++ {
		tick := first.Add(time.Duration(i) * time.Minute)
		now := unixMinute(tick.Truncate(time.Minute).Add(time.Minute))
		// The rollup step hands over the minutes it recomputed, as stored.
		fresh := map[string]recomputed{}
		for i, s := range slos {
			r := recomputed{from: now - 11}
			for m := now - 11; m < now; m++ {
				at := minuteTime(m)
				r.minutes = append(r.minutes, minute{at: at, good: float64(90 + (at.Minute()+i)%10), total: 100})
			}
			fresh[sloKey(s)] = r
		}
		st.names = 0
		got, err := e.judgeAll(ctx, slos, fresh, tick)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			most, total = max(most, st.names), total+st.names
		}
		want, err := ComputeAll(ctx, db, slos, tick)
		if err != nil {
			t.Fatal(err)
		}
		for j := range want {
			if g, w := fmt.Sprint(got[j].Counts, got[j].Burns[0].Long, got[j].Burns[0].Short), fmt.Sprint(want[j].Counts, want[j].Burns[0].Long, want[j].Burns[0].Short); g != w {
				t.Fatalf("tick %d: %s running %s, recomputed %s", i, want[j].SLO.Name, g, w)
			}
		}
	}
	// 150 ticks take the 8h window's edge from hour 4 into 5 and 6 and the
	// 6h window's from hour 6 into 7, 8 and 9. Hours 4 and 6 come with the
	// rebuild, and hour 7 serves both windows: each SLO's hours 5, 7, 8
	// and 9 are read once each, a share a tick.
	t.Logf("%d SLO hours read, at most %d at a tick", total, most)
	if total < 4*n {
		t.Errorf("%d SLO hours read over 150 ticks, want at least %d", total, 4*n)
	}
	// Both windows' next hours are read ahead over the same ticks, in
	// turns: a tick reads a share of one.
	if most > n/readAheadSteps {
		t.Errorf("a tick read %d SLOs' hours: the reads were not spread (a %dth of the SLOs a tick expected)", most, readAheadSteps)
	}
}

// namesRead counts the SLOs whose minutes SLOsRollups is asked for.
type namesRead struct {
	RollupStore
	names int
}

func (r *namesRead) SLOsRollups(ctx context.Context, tenant string, slos []string, start, end time.Time, fn func(*store.Rollup) error) error {
	r.names += len(slos)
	return r.RollupStore.SLOsRollups(ctx, tenant, slos, start, end, fn)
}
