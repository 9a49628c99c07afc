package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

func testLargeBatches(t *testing.T, s store.Store) {
	c := ctx(t)
	const traces, perTrace = 2000, 10
	spans := make([]store.Span, 0, traces*perTrace)
	for tr := 0; tr < traces; tr++ {
		for i := 0; i < perTrace; i++ {
			sp := chatSpan("acme", tr, tr*perTrace+i, -1, base.Add(time.Duration(tr)*time.Second), time.Duration(i+1)*time.Millisecond)
			sp.SpanID = store.SpanID{byte(i), 0, 0, 0, 0, 0, byte(tr >> 8), byte(tr)}
			spans = append(spans, sp)
		}
	}
	if err := s.WriteSpans(c, spans); err != nil {
		t.Fatalf("WriteSpans(%d): %v", len(spans), err)
	}
	ids, err := s.FindTraceIDs(c, store.TraceQuery{Tenant: "acme", Start: base, End: base.Add(time.Hour), Limit: 10 * traces})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != traces {
		t.Errorf("FindTraceIDs found %d traces, want %d", len(ids), traces)
	}
	tr, err := s.Trace(c, "acme", traceID(1234))
	if err != nil || len(tr) != perTrace {
		t.Errorf("Trace(1234) = %d spans, %v; want %d", len(tr), err, perTrace)
	}

	const nSeries, perSeries = 1000, 100
	series := make([]store.Series, nSeries)
	samples := make([]store.Sample, 0, nSeries*perSeries)
	for i := range series {
		series[i] = store.NewSeries("acme", "tokens_total", store.MetricCounter, store.Attributes{{Key: "pod", Value: fmt.Sprintf("pod-%04d", i)}})
		for j := 0; j < perSeries; j++ {
			samples = append(samples, store.Sample{Tenant: "acme", Fingerprint: series[i].Fingerprint, TimestampMsec: base.Add(time.Duration(j) * 15 * time.Second).UnixMilli(), Value: float64(j)})
		}
	}
	if err := s.WriteMetrics(c, series, samples); err != nil {
		t.Fatalf("WriteMetrics(%d samples): %v", len(samples), err)
	}
	m, _ := store.NewMatcher(store.MatchEqual, store.MetricNameLabel, "tokens_total")
	got, err := s.Series(c, "acme", []*store.Matcher{m})
	if err != nil || len(got) != nSeries {
		t.Fatalf("Series = %d, %v; want %d", len(got), err, nSeries)
	}
	fps := make([]uint64, len(got))
	for i := range got {
		fps[i] = got[i].Fingerprint
	}
	smp, err := s.Samples(c, "acme", fps, base, base.Add(time.Hour))
	if err != nil || len(smp) != len(samples) {
		t.Errorf("Samples = %d, %v; want %d", len(smp), err, len(samples))
	}
}
