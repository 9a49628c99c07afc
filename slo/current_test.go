package slo

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// TestEvaluatorReadsCurrentSLOs: the evaluator rolls up the SLOs the
// config holds at each tick, so an SLO added by a reload is filled over
// its window at the next tick.
func TestEvaluatorReadsCurrentSLOs(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var spans []store.Span
	for i := 0; i < 10; i++ {
		var sid store.SpanID
		var tid store.TraceID
		binary.BigEndian.PutUint64(sid[:], uint64(i+1))
		binary.BigEndian.PutUint64(tid[8:], uint64(i+1))
		spans = append(spans, store.Span{Tenant: store.DefaultTenant, TraceID: tid, SpanID: sid, Service: "chat", Operation: "chat",
			StartUnixNano: tick.Add(-time.Duration(i+1) * time.Hour).UnixNano(), DurationNano: int64(time.Millisecond)})
	}
	if err := st.WriteSpans(ctx, spans); err != nil {
		t.Fatal(err)
	}
	slo := func(name string) *SLO {
		return &SLO{Name: name, Service: "chat", Objective: 0.99, Window: TimeWindow{Duration: 24 * time.Hour, Rolling: true}, Method: "Occurrences",
			SLI: SpanAvailability{}}
	}
	slos := []*SLO{slo("first")}
	e := &Evaluator{Store: st, Current: func() []*SLO { return slos }}
	if err := e.Run(ctx, tick); err != nil {
		t.Fatal(err)
	}
	slos = append(slos, slo("added"))
	if err := e.Run(ctx, tick.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	statuses, err := ComputeAll(ctx, st, slos, tick.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range statuses {
		if s.Counts.Total != 10 {
			t.Errorf("%s counted %g events, want 10", s.SLO.Name, s.Counts.Total)
		}
	}
}
