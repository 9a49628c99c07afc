package querier

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

// BenchmarkSumRate evaluates sum by (service) (rate(x[5m])) over 1,000
// series (10 services of 100 instances) sampled every 15 s for 24 h (5.76M
// samples), as a range query over the whole day at a 1-minute step, on
// each backend. It reports the samples read from the store and the
// samples the engine processed per query.
func BenchmarkSumRate(b *testing.B) {
	b.Run("embedded", func(b *testing.B) {
		st, err := embedded.Open(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		benchSumRate(b, st)
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
		benchSumRate(b, st)
	})
}

var benchDay = time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC)

func benchSumRate(b *testing.B, st interface {
	store.MetricWriter
	store.MetricQuerier
}) {
	ctx := context.Background()
	const services, instances, step = 10, 100, 15 * time.Second
	for s := 0; s < services; s++ {
		var series []store.Series
		var samples []store.Sample
		for i := 0; i < instances; i++ {
			sr := store.NewSeries("bench", "http_requests_total", store.MetricCounter, store.Attributes{
				{Key: "service", Value: fmt.Sprintf("svc-%d", s)}, {Key: "instance", Value: fmt.Sprintf("i-%d", i)}})
			series = append(series, sr)
			v := 0.0
			for t := benchDay; t.Before(benchDay.Add(24 * time.Hour)); t = t.Add(step) {
				v += float64(1 + (i+s)%7)
				samples = append(samples, store.Sample{Tenant: "bench", Fingerprint: sr.Fingerprint, TimestampMsec: t.UnixMilli(), Value: v})
			}
		}
		if err := st.WriteMetrics(ctx, series, samples); err != nil {
			b.Fatal(err)
		}
	}
	e := NewEngine(st, DefaultOptions)
	b.ReportAllocs()
	b.ResetTimer()
	var read, total int64
	for n := 0; n < b.N; n++ {
		q, err := e.NewRangeQuery(ctx, "bench", `sum by (service) (rate(http_requests_total[5m]))`, benchDay, benchDay.Add(24*time.Hour), time.Minute, 0)
		if err != nil {
			b.Fatal(err)
		}
		res := q.Exec(ctx)
		// Every minute but the first, which has one sample to rate.
		if m, err := res.Matrix(); err != nil || len(m) != services || len(m[0].Floats) != 24*60 {
			b.Fatalf("result: %v, %v", len(m), err)
		}
		read, total = q.SamplesRead(), q.Stats().Samples.TotalSamples
		q.Close()
	}
	b.ReportMetric(float64(read), "store-samples/op")
	b.ReportMetric(float64(total), "engine-samples/op")
}
