package spanmetrics

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/clickhouse"
	"github.com/vigil-dev/vigil/store/embedded"
)

// The two designs of issue 11 for metrics from spans, measured per span at
// 1M spans/hour (16,667 a minute) over 600 label sets (10 services x 10
// operations x 3 models x 2 statuses):
//
//   - ingest: the collector counts each durable span in memory and writes
//     cumulative samples every 15 s (what this package does);
//   - rollup: a job reads each minute's spans back from the store and
//     aggregates them in SQL. Its cost is bounded below by what the SLO
//     rollups already run, one SLICounts per service for one good/total
//     pair; a span-metrics rollup needs 18 buckets, sums and tokens more.

const spansPerMinute = 1_000_000 / 60

func benchSpans(n int, start time.Time) []store.Span {
	spans := make([]store.Span, n)
	models := []string{"gpt-4o", "claude-sonnet", ""}
	for i := range spans {
		s := span("bench", fmt.Sprintf("svc-%d", i%10), models[i/100%3], time.Duration(1+i%997)*time.Millisecond, store.StatusCode(1+i/300%2))
		s.Operation = fmt.Sprintf("op-%d", i/10%10)
		s.StartUnixNano = start.Add(time.Duration(i) * time.Minute / time.Duration(n)).UnixNano()
		s.TraceID[0], s.TraceID[1], s.TraceID[2] = byte(i), byte(i>>8), byte(i>>16)
		s.SpanID[0] = 1
		spans[i] = s
	}
	return spans
}

// BenchmarkIngest counts spans in batches of one minute's worth and
// flushes every quarter minute: ns/op is per span.
func BenchmarkIngest(b *testing.B) {
	spans := benchSpans(spansPerMinute, t0)
	g := New(Options{Instance: "bench"})
	b.ReportAllocs()
	b.ResetTimer()
	var samples int
	for i := 0; i < b.N; i += spansPerMinute / 4 {
		part := spans[i%spansPerMinute : min(i%spansPerMinute+spansPerMinute/4, spansPerMinute)]
		g.Add(part[:min(len(part), b.N-i)])
		e := g.Flush()
		g.Done(e, nil)
		samples = len(e.Samples)
	}
	b.ReportMetric(float64(samples*4), "samples-written/minute")
}

// BenchmarkRollup runs the lower bound of the rollup design over one
// stored minute of spans on each backend: ns/op is per span.
func BenchmarkRollup(b *testing.B) {
	b.Run("embedded", func(b *testing.B) {
		st, err := embedded.Open(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		benchRollup(b, st)
	})
	b.Run("clickhouse", func(b *testing.B) {
		addr := os.Getenv("VIGIL_TEST_CLICKHOUSE")
		if addr == "" {
			b.Skip("VIGIL_TEST_CLICKHOUSE is not set")
		}
		cfg, err := clickhouse.ParseURL(fmt.Sprintf("clickhouse://%s/vigil_bench_%d", addr, time.Now().UnixNano()))
		if err != nil {
			b.Fatal(err)
		}
		st, err := clickhouse.Open(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		defer func() { st.DropDatabase(context.Background()); st.Close() }()
		benchRollup(b, st)
	})
}

func benchRollup(b *testing.B, st interface {
	store.SpanWriter
	store.SLIReader
}) {
	ctx := context.Background()
	if err := st.WriteSpans(ctx, benchSpans(spansPerMinute, t0)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += spansPerMinute {
		for s := 0; s < 10; s++ {
			q := store.SLIQuery{Tenant: "bench", Service: fmt.Sprintf("svc-%d", s), Good: "latency", Latency: 500 * time.Millisecond, Start: t0, End: t0.Add(time.Minute)}
			if mc, err := st.SLICounts(ctx, q); err != nil || len(mc) != 1 {
				b.Fatalf("%v %v", mc, err)
			}
		}
	}
}
