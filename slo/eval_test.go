package slo

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// spansPerMinute writes 10 spans a minute for the hour before tick, with
// errors(minutesAgo) of them failed.
func spansPerMinute(t *testing.T, s store.SpanWriter, tick time.Time, first int, errors func(minutesAgo int) int) {
	var spans []store.Span
	for m := 1; m <= 60; m++ {
		for i := 0; i < 10; i++ {
			n := first + m*10 + i
			sp := store.Span{Tenant: store.DefaultTenant, Service: "chat", Operation: "chat", TraceID: store.TraceID{byte(n >> 16), byte(n >> 8), byte(n)},
				SpanID: store.SpanID{byte(n >> 16), byte(n >> 8), byte(n)}, StartUnixNano: tick.Add(-time.Duration(m) * time.Minute).Add(time.Duration(i) * time.Second).UnixNano(), DurationNano: int64(time.Millisecond)}
			if i < errors(m) {
				sp.StatusCode = store.StatusError
			}
			spans = append(spans, sp)
		}
	}
	if err := s.WriteSpans(context.Background(), spans); err != nil {
		t.Fatal(err)
	}
}

func TestEvaluateBurnRates(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := &SLO{Name: "chat-availability", Service: "chat", Objective: 0.99, Window: TimeWindow{Duration: 30 * day, Rolling: true},
		SLI: SpanAvailability{}, Alerts: DefaultAlertWindows(30 * day)}
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	// 600 spans in the hour; one error a minute in the last five minutes.
	spansPerMinute(t, st, tick, 0, func(m int) int {
		if m <= 5 {
			return 1
		}
		return 0
	})
	// Evaluating a second before tick, the windows end at tick: the minute
	// in progress is counted, and it is the last minute of the spans.
	e := &Evaluator{Store: st, SLOs: []*SLO{s}}
	if err := e.Run(ctx, tick.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	status, err := Compute(ctx, st, s, tick.Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// SLI 595/600; 1h: 5/600 errors = burn 0.8333; 5m: 5/50 = burn 10.
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if status.Counts != (Counts{595, 600}) || !near(status.Budget.Consumed, (5.0/600)/0.01) {
		t.Errorf("budget: %+v %+v", status.Counts, status.Budget)
	}
	page := status.Burns[0]
	if !near(page.LongRate, 5.0/600/0.01) || !near(page.ShortRate, 10) || page.Firing || status.State != "ok" {
		t.Errorf("page rule: %+v state %s", page, status.State)
	}

	// Two errors in every minute: 20% errors, burn 20 everywhere.
	tick2 := tick.Add(time.Hour)
	spansPerMinute(t, st, tick2, 100000, func(int) int { return 2 })
	if err := e.Run(ctx, tick2.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	status, err = Compute(ctx, st, s, tick2.Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var firing []string
	for _, b := range status.Burns {
		firing = append(firing, fmt.Sprintf("%s/%s:%v", b.Rule.Severity, formatDuration(b.Rule.Long), b.Firing))
	}
	if status.State != "page" || fmt.Sprint(firing) != "[page/1h:true page/6h:true ticket/1d:true ticket/3d:true]" || !near(status.Burns[0].ShortRate, 20) {
		t.Errorf("state %s, rules %v", status.State, firing)
	}
	// Over the 30 days: 595 + 480 good of 1200.
	if status.Counts != (Counts{1075, 1200}) {
		t.Errorf("counts %+v", status.Counts)
	}

	// Late data: a span of the first hour arrives after it was rolled up;
	// the next tick's recompute window does not reach back that far, but a
	// span within the last ten minutes does count.
	late := store.Span{Tenant: store.DefaultTenant, Service: "chat", TraceID: store.TraceID{9, 9}, SpanID: store.SpanID{9, 9},
		StartUnixNano: tick2.Add(-3 * time.Minute).UnixNano(), DurationNano: 1, StatusCode: store.StatusError}
	st.WriteSpans(ctx, []store.Span{late})
	tick3 := tick2.Add(time.Minute - time.Second)
	if err := e.Run(ctx, tick3); err != nil {
		t.Fatal(err)
	}
	status, _ = Compute(ctx, st, s, tick3)
	if status.Counts != (Counts{1075, 1201}) {
		t.Errorf("late span not counted: %+v", status.Counts)
	}

	// No data is never good.
	empty := &SLO{Name: "quiet", Service: "nobody", Objective: 0.99, Window: TimeWindow{Duration: day, Rolling: true}, SLI: SpanAvailability{}, Alerts: DefaultAlertWindows(day)}
	status, _ = Compute(ctx, st, empty, tick3)
	if status.State != "no data" || !status.Budget.NoData || status.Burns[0].Firing {
		t.Errorf("no data: %+v", status)
	}
}

// TestAlertLifecycle: a rule that starts firing raises an alert once
// (recorded as a firing event), keeps it while it fires, and resolves it
// once when it stops.
func TestAlertLifecycle(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := &SLO{Name: "chat-availability", Service: "chat", Objective: 0.99, Window: TimeWindow{Duration: 30 * day, Rolling: true},
		SLI: SpanAvailability{}, Alerts: DefaultAlertWindows(30 * day)[:1]} // the 14.4x page rule only
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	spansPerMinute(t, st, tick, 0, func(int) int { return 2 }) // 20%: burn 20
	al := &Alerter{Events: st, Interval: time.Minute}
	e := &Evaluator{Store: st, SLOs: []*SLO{s}, Alerter: al}
	for i := 0; i < 3; i++ { // three ticks while it fires
		if err := e.Run(ctx, tick.Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	active := al.Active()
	if len(active) != 1 || active[0].Labels["severity"] != "page" || active[0].Labels["long_window"] != "1h" || !active[0].StartsAt.Equal(tick.Add(-time.Second)) {
		t.Fatalf("active: %+v", active)
	}
	// An hour of good spans later the 1h burn rate is 0: resolved.
	later := tick.Add(time.Hour)
	spansPerMinute(t, st, later, 100000, func(int) int { return 0 })
	if err := e.Run(ctx, later.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if len(al.Active()) != 0 {
		t.Errorf("still active: %+v", al.Active())
	}
	evs, err := AlertTransitions.Read(ctx, st, store.EventQuery{Tenant: store.DefaultTenant, Start: tick.Add(-time.Hour), End: later.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var states []AlertState
	for _, ev := range evs {
		states = append(states, ev.Value.State)
	}
	if fmt.Sprint(states) != "[resolved firing]" {
		t.Errorf("events: %v", states)
	}
}

// calls counts the store calls a tick makes.
type calls struct {
	RollupStore
	counts, countsEach, writes int
}

func (c *calls) SLICounts(ctx context.Context, q store.SLIQuery) ([]store.MinuteCounts, error) {
	c.counts++
	return c.RollupStore.SLICounts(ctx, q)
}

func (c *calls) SLICountsEach(ctx context.Context, qs []store.SLIQuery) ([][]store.MinuteCounts, error) {
	c.countsEach++
	return c.RollupStore.SLICountsEach(ctx, qs)
}

func (c *calls) WriteRollups(ctx context.Context, rollups []store.Rollup) error {
	c.writes++
	return c.RollupStore.WriteRollups(ctx, rollups)
}

// A tick counts every span SLO's minutes in one call to the store and
// writes all their minutes in one insert, where it made a read and an
// insert an SLO: the first tick's fill of their windows, and the recompute
// span of the ticks after it. Each SLO's minutes are those it counts on
// its own.
func TestTickCountsTogether(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	spansPerMinute(t, st, tick.Add(5*time.Minute), 0, func(m int) int { return m % 3 })
	var slos []*SLO
	for i := range 100 {
		s := &SLO{Name: fmt.Sprintf("latency-%d", i), Service: "chat", Objective: 0.9, Window: TimeWindow{Duration: time.Hour, Rolling: true},
			SLI: SpanLatency{Latency: time.Duration(i) * time.Millisecond / 50}}
		if i%2 == 1 {
			s.SLI = SpanAvailability{SpanFilter: SpanFilter{Operation: "chat"}}
		}
		slos = append(slos, s)
	}
	c := &calls{RollupStore: st}
	e := &Evaluator{Store: c, SLOs: slos}
	if err := e.Run(ctx, tick); err != nil {
		t.Fatal(err)
	}
	// The first tick fills their windows from the same hour: together too.
	if c.countsEach != 1 || c.counts != 0 || c.writes != 1 {
		t.Errorf("the fill of 100 SLOs made %d reads of many, %d of one and %d writes; want 1, 0 and 1", c.countsEach, c.counts, c.writes)
	}
	*c = calls{RollupStore: st}
	if err := e.Run(ctx, tick.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if c.countsEach != 1 || c.counts != 0 || c.writes != 1 {
		t.Errorf("a tick of 100 SLOs made %d reads of many, %d of one and %d writes; want 1, 0 and 1", c.countsEach, c.counts, c.writes)
	}
	got, err := ComputeAll(ctx, st, slos, tick.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	now := tick.Add(2 * time.Minute)
	for i, s := range slos {
		minutes, err := s.SLI.minutes(ctx, sources{store: st}, s.tenant(), s.Service, now.Add(-time.Hour), now)
		if err != nil {
			t.Fatal(err)
		}
		var alone Counts
		for _, m := range minutes {
			alone.add(Counts{Good: m.good, Total: m.total})
		}
		if got[i].Counts != alone || alone.Total != 570 {
			t.Errorf("%s: %+v, counted alone %+v of 570 events", s.Name, got[i].Counts, alone)
		}
	}
}
