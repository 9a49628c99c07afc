package slo

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/vigil-dev/vigil/store/clickhouse"
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
