package slo

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/vigil-dev/vigil/querier"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/clickhouse"
	"github.com/vigil-dev/vigil/store/embedded"
)

// BenchmarkCompute1000SLOsClickHouse judges 1,000 SLOs over 30-day windows
// from a month of per-minute rollups each (43.2 million rollup rows,
// generated inside ClickHouse): one evaluation round per iteration. Run it
// with -benchtime=1x: a round takes tens of seconds on 2 cores.
func BenchmarkCompute1000SLOsClickHouse(b *testing.B) {
	addr := os.Getenv("VIGIL_TEST_CLICKHOUSE")
	if addr == "" {
		b.Skip("VIGIL_TEST_CLICKHOUSE is not set")
	}
	ctx := context.Background()
	db := fmt.Sprintf("vigil_slo_bench_%d", time.Now().UnixNano())
	cfg, err := clickhouse.ParseURL("clickhouse://" + addr + "/" + db)
	if err != nil {
		b.Fatal(err)
	}
	st, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { st.DropDatabase(ctx); st.Close() }()

	const slos, minutes = 1000, 30 * 24 * 60
	end := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	opts := *cfg.Options
	opts.Auth.Database = cfg.Database
	conn, err := ch.Open(&opts)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	// Every SLO gets 100 events a minute, one of them bad every minute.
	err = conn.Exec(ctx, fmt.Sprintf(`INSERT INTO sli_rollups (tenant, slo, minute, good, total, version)
		SELECT 'default', concat('slo-', toString(number %% %d)), toDateTime(%d + intDiv(number, %d) * 60), 99, 100, 1
		FROM system.numbers LIMIT %d`, slos, end.Add(-minutes*time.Minute).Unix(), slos, slos*minutes))
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d rollup rows in %s", slos*minutes, time.Since(start).Round(time.Millisecond))
	var all []*SLO
	for i := 0; i < slos; i++ {
		all = append(all, &SLO{Name: fmt.Sprintf("slo-%d", i), Service: "svc", Objective: 0.99, Window: TimeWindow{Duration: 30 * day, Rolling: true},
			SLI: SpanAvailability{}, Alerts: DefaultAlertWindows(30 * day)})
	}
	at := end.Add(-time.Second)
	b.ResetTimer()
	for b.Loop() {
		statuses, err := ComputeAll(ctx, st, all, at)
		if err != nil {
			b.Fatal(err)
		}
		for _, status := range statuses {
			if status.Counts.Total != minutes*100 || status.Burns[0].LongRate < 0.99 || status.Burns[0].LongRate > 1.01 {
				b.Fatalf("%s: %g events, burn %v; want %d and 1", status.SLO.Name, status.Counts.Total, status.Burns[0].LongRate, minutes*100)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/round")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*slos), "µs/slo")
}

// BenchmarkSelectorSLI counts 100 counters scraped every 15 s for a day,
// on the embedded store, per minute over a day (an SLO's first fill, a day
// a read) and over the last 11 minutes (what every tick recomputes),
// through the engine: as a selector (an anchored increase over each
// minute) and as any counter query (its values at minute boundaries).
// It decided that selectors go through the engine too: BENCHMARKS.md has
// the numbers against the store read directly, which they replaced.
func BenchmarkSelectorSLI(b *testing.B) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	end := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	start := end.Add(-24 * time.Hour)
	var series []store.Series
	var samples []store.Sample
	for i := 0; i < 100; i++ {
		s := store.NewSeries(store.DefaultTenant, "http_requests_total", store.MetricCounter, store.Attributes{{Key: "instance", Value: fmt.Sprint(i)}})
		series = append(series, s)
		for t := start.Add(-5 * time.Minute); t.Before(end); t = t.Add(15 * time.Second) {
			samples = append(samples, store.Sample{Tenant: store.DefaultTenant, Fingerprint: s.Fingerprint, TimestampMsec: t.UnixMilli(), Value: float64(t.Sub(start) / time.Second)})
		}
	}
	if err := st.WriteMetrics(ctx, series, samples); err != nil {
		b.Fatal(err)
	}
	src := sources{promql: querier.NewEngine(st, querier.DefaultOptions)}
	for _, span := range []time.Duration{24 * time.Hour, 11 * time.Minute} {
		for _, kind := range []queryKind{selectorQuery, counterQuery} {
			name := map[queryKind]string{selectorQuery: "selector", counterQuery: "counter"}[kind]
			b.Run(fmt.Sprintf("%s/%s", formatDuration(span), name), func(b *testing.B) {
				q := query{text: "http_requests_total", kind: kind}
				for b.Loop() {
					if _, err := src.events(ctx, store.DefaultTenant, q, end.Add(-span), end); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
