package clickhouse_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// traceTargets open the stores the trace benchmarks compare: the single
// server and the cluster.
var traceTargets = map[string]func(testing.TB) store.Store{
	"server": func(tb testing.TB) store.Store { s, _ := openFresh(tb, server(tb)); return s },
	"cluster": func(tb testing.TB) store.Store {
		s, _ := openFreshURL(tb, cluster(tb))
		return s
	},
}

// Traces the trace benchmarks write: 20,000 traces of 10 spans over the
// last 2 days, of five services in turn.
const benchTraces, benchPerTrace = 20000, 10

// writeBenchTraces writes the trace benchmarks' spans.
func writeBenchTraces(b *testing.B, s store.Store) {
	b.Helper()
	ctx := context.Background()
	start := time.Now().Add(-48 * time.Hour)
	spans := make([]store.Span, 0, 10000)
	for t := range benchTraces {
		for i := range benchPerTrace {
			var sp store.Span
			sp.Tenant, sp.Service, sp.Operation = "acme", fmt.Sprintf("svc-%d", t%5), "op"
			binary.BigEndian.PutUint64(sp.TraceID[8:], uint64(t+1))
			binary.BigEndian.PutUint64(sp.SpanID[:], uint64(t*benchPerTrace+i+1))
			sp.StartUnixNano = start.Add(time.Duration(t) * 8 * time.Second).UnixNano()
			sp.DurationNano = int64(time.Millisecond)
			spans = append(spans, sp)
		}
		if len(spans) == cap(spans) {
			if err := s.WriteSpans(ctx, spans); err != nil {
				b.Fatal(err)
			}
			spans = spans[:0]
		}
	}
}

// BenchmarkTraceSearch is the Jaeger API's search on the same spans as
// BenchmarkTraceByID: the 20 latest traces of one service over the last
// 2 days (FindTraceIDs), then each of them by id, as web/jaeger loads
// them.
func BenchmarkTraceSearch(b *testing.B) {
	for _, name := range []string{"server", "cluster"} {
		b.Run(name, func(b *testing.B) {
			s := traceTargets[name](b)
			b.Cleanup(func() { s.Close() })
			writeBenchTraces(b, s)
			ctx := context.Background()
			now := time.Now()
			i := 0
			for b.Loop() {
				q := store.TraceQuery{Tenant: "acme", Service: fmt.Sprintf("svc-%d", i%5), Start: now.Add(-49 * time.Hour), End: now, Limit: 20}
				ids, err := s.FindTraceIDs(ctx, q)
				if err != nil || len(ids) != 20 {
					b.Fatalf("search %s: %d traces, %v", q.Service, len(ids), err)
				}
				for _, id := range ids {
					if got, err := s.Trace(ctx, "acme", id); err != nil || len(got) != benchPerTrace {
						b.Fatalf("trace %x: %d spans, %v", id, len(got), err)
					}
				}
				i++
			}
		})
	}
}
