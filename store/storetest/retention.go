package storetest

import (
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

func testRetention(t *testing.T, s store.Store) {
	c := ctx(t)
	day := func(n int) time.Time { return base.AddDate(0, 0, n) }
	series := store.NewSeries("acme", "up", store.MetricGauge, nil)
	for n := -2; n <= 0; n++ {
		if err := s.WriteSpans(c, []store.Span{chatSpan("acme", 100+n, 100+n, -1, day(n), time.Second)}); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteMetrics(c, []store.Series{series}, []store.Sample{{Tenant: "acme", Fingerprint: series.Fingerprint, TimestampMsec: day(n).UnixMilli(), Value: 1}}); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteRollups(c, []store.Rollup{{Tenant: "acme", SLO: "x", Minute: day(n), Good: 1, Total: 1}}); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteHourlyRollups(c, []store.HourlyRollup{{Tenant: "acme", SLO: "x", Hour: day(n), Good: 1, Total: 1}}); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteEvents(c, []store.Event{event("acme", store.KindFinding, "x", n*24*60)}); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteLogs(c, []store.LogRecord{logRecord("acme", n*24*3600, "x", store.SeverityInfo, "kept a while")}); err != nil {
			t.Fatal(err)
		}
	}
	// Noon of day -1: day -2 goes, day -1 (which holds the cutoff) stays.
	cutoff := time.Date(day(-1).Year(), day(-1).Month(), day(-1).Day(), 12, 0, 0, 0, time.UTC)
	for _, sig := range store.Signals {
		if err := s.DropBefore(c, sig, cutoff); err != nil {
			t.Fatalf("DropBefore(%s): %v", sig, err)
		}
	}
	// Twice is harmless.
	if err := s.DropBefore(c, store.SignalSpans, cutoff); err != nil {
		t.Fatalf("DropBefore again: %v", err)
	}

	from, to := day(-3), day(1)
	ids, err := s.FindTraceIDs(c, store.TraceQuery{Tenant: "acme", Start: from, End: to})
	if err != nil || len(ids) != 2 {
		t.Errorf("traces after retention = %v, %v; want 2", ids, err)
	}
	if _, err := s.Trace(c, "acme", traceID(98)); err == nil {
		t.Errorf("trace of a dropped day is still found by id")
	}
	smp, err := s.Samples(c, "acme", []uint64{series.Fingerprint}, from, to)
	if err != nil || len(smp) != 2 || smp[0].TimestampMsec != day(-1).UnixMilli() {
		t.Errorf("samples after retention = %v, %v; want days -1 and 0", smp, err)
	}
	_, total, err := s.SumRollups(c, store.RollupQuery{Tenant: "acme", SLO: "x", Start: from, End: to})
	if err != nil || total != 2 {
		t.Errorf("rollups after retention = %g, %v; want 2", total, err)
	}
	hours := 0
	err = s.TenantHourlyRollups(c, "acme", from, to, func(*store.HourlyRollup) error { hours++; return nil })
	if err != nil || hours != 2 {
		t.Errorf("hourly rollups after retention = %d, %v; want 2", hours, err)
	}
	evs, err := s.Events(c, store.EventQuery{Tenant: "acme", Start: from, End: to})
	if err != nil || len(evs) != 2 {
		t.Errorf("events after retention = %d, %v; want 2", len(evs), err)
	}
	logs, err := s.Logs(c, store.LogQuery{Tenant: "acme", Text: "kept"})
	if err != nil || len(logs) != 2 || logs[1].Time().Before(day(-1)) {
		t.Errorf("logs after retention = %d, %v; want days -1 and 0", len(logs), err)
	}
	// The series itself outlives its samples: it is metadata.
	m, _ := store.NewMatcher(store.MatchEqual, store.MetricNameLabel, "up")
	if ss, err := s.Series(c, "acme", []*store.Matcher{m}); err != nil || len(ss) != 1 {
		t.Errorf("series after retention = %v, %v", ss, err)
	}
}
