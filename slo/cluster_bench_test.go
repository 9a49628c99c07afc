package slo_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/clickhouse"
)

// BenchmarkEvaluatorTick runs the SLO evaluator's tick (Evaluator.Run:
// each SLO's last ten minutes and the minute in progress rolled up again
// from its spans and written, then every SLO judged over its 30-day
// window and burn-rate windows from the rollups) for 50 SLOs on the
// single server in VIGIL_TEST_CLICKHOUSE and on the cluster in
// VIGIL_TEST_CLICKHOUSE_CLUSTER, in the same run. Each SLO has a month
// of per-minute rollups (2.16 million rows in all, generated inside
// ClickHouse) and 300 spans over the last 15 minutes. The first tick,
// which fills every window from spans, is not timed.
func BenchmarkEvaluatorTick(b *testing.B) {
	targets := map[string]string{}
	if addr := os.Getenv("VIGIL_TEST_CLICKHOUSE"); addr != "" {
		targets["server"] = "clickhouse://" + addr
	}
	if url := os.Getenv("VIGIL_TEST_CLICKHOUSE_CLUSTER"); url != "" {
		targets["cluster"] = url
	}
	for _, name := range []string{"server", "cluster"} {
		b.Run(name, func(b *testing.B) {
			url, ok := targets[name]
			if !ok {
				b.Skipf("no ClickHouse %s to measure (VIGIL_TEST_CLICKHOUSE, VIGIL_TEST_CLICKHOUSE_CLUSTER)", name)
			}
			benchmarkTick(b, url)
		})
	}
}

func benchmarkTick(b *testing.B, url string) {
	ctx := context.Background()
	hosts, query, _ := strings.Cut(url, "?")
	cfg, err := clickhouse.ParseURL(fmt.Sprintf("%s/vigil_tick_bench_%d?%s", hosts, time.Now().UnixNano(), query))
	if err != nil {
		b.Fatal(err)
	}
	st, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.DropDatabase(ctx); st.Close() })

	const slos, minutes, spansPerMinute = 50, 30 * 24 * 60, 20
	tick := time.Now().Truncate(time.Minute)
	history := tick.Add(-15 * time.Minute) // rollups before, spans after
	opts := *cfg.Options
	opts.Auth.Database = cfg.Database
	conn, err := ch.Open(&opts)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	// Every SLO gets 100 events a minute, one of them bad, through the
	// Distributed table on the cluster, synchronously.
	gen := ch.Context(ctx, ch.WithSettings(ch.Settings{"insert_distributed_sync": 1}))
	err = conn.Exec(gen, fmt.Sprintf(`INSERT INTO sli_rollups (tenant, slo, minute, good, total, version)
		SELECT 'default', concat('slo-', toString(number %% %d)), toDateTime(%d + intDiv(number, %d) * 60), 99, 100, 1
		FROM system.numbers LIMIT %d`, slos, history.Add(-minutes*time.Minute).Unix(), slos, slos*minutes))
	if err != nil {
		b.Fatal(err)
	}
	// The last 15 minutes as spans, one in 20 failing.
	var spans []store.Span
	var all []*slo.SLO
	for i := range slos {
		service := fmt.Sprintf("svc-%d", i)
		all = append(all, &slo.SLO{Name: fmt.Sprintf("slo-%d", i), Service: service, Objective: 0.99,
			Window: slo.TimeWindow{Duration: 30 * 24 * time.Hour, Rolling: true}, SLI: slo.SpanAvailability{},
			Alerts: slo.DefaultAlertWindows(30 * 24 * time.Hour)})
		for j := range 15 * spansPerMinute {
			sp := store.Span{Tenant: store.DefaultTenant, Service: service, Operation: "op", Kind: store.SpanKindServer,
				StartUnixNano: history.Add(time.Duration(j) * time.Minute / spansPerMinute).UnixNano(), DurationNano: int64(time.Millisecond)}
			binary.BigEndian.PutUint64(sp.TraceID[8:], uint64(i*100000+j+1))
			binary.BigEndian.PutUint64(sp.SpanID[:], uint64(i*100000+j+1))
			if j%spansPerMinute == 0 {
				sp.StatusCode = store.StatusError
			}
			spans = append(spans, sp)
		}
	}
	if err := st.WriteSpans(ctx, spans); err != nil {
		b.Fatal(err)
	}
	e := &slo.Evaluator{Store: st, SLOs: all}
	if err := e.Run(ctx, tick); err != nil {
		b.Fatalf("the first tick: %v", err)
	}
	for b.Loop() {
		if err := e.Run(ctx, tick); err != nil {
			b.Fatal(err)
		}
	}
	// Every SLO judged the month: the history and the spans.
	statuses, err := slo.ComputeAll(ctx, st, all, tick)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range statuses {
		if s.Counts.Total < minutes*100-15*100 {
			b.Fatalf("%s counted %g events over its window, want about %d", s.SLO.Name, s.Counts.Total, minutes*100)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/tick")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*slos), "µs/slo")
}
