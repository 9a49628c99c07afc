package slo

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	_ "github.com/duckdb/duckdb-go/v2" // the DuckDB benchmark fills its file directly

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

// BenchmarkRunningSums measures issue 19's incremental evaluation against
// the full recomputation, in one run on the same rollups: SLOs (default
// 1,000; VIGIL_BENCH_SLOS) with every minute of VIGIL_BENCH_DAYS (default
// 30) of rollups, 100 events a minute, one bad, generated inside the store
// on DuckDB and, when VIGIL_TEST_CLICKHOUSE names a server, on ClickHouse.
// It reports a full recomputation round (ComputeAll, what every tick did),
// the start-up rebuild of the running sums (first with the hourly level
// empty, then with the hours that rebuild wrote back; the full round is
// left out with VIGIL_BENCH_FULL_ROUND=0), and then VIGIL_BENCH_TICKS
// (default 90) ticks a minute apart, each moving every SLO's sums by its
// last 11 recomputed minutes (what the rollup step hands over) and writing
// the hours that left the recompute span: the mean and the slowest tick,
// and which tick that was. Run it with -benchtime=1x: a second iteration
// would find the hourly level filled by the first. The rollup step itself
// (counting the SLOs' spans and writing their minutes) is not measured:
// BenchmarkTick times whole ticks.
func BenchmarkRunningSums(b *testing.B) {
	slos, days, ticks := envInt(b, "VIGIL_BENCH_SLOS", 1000), envInt(b, "VIGIL_BENCH_DAYS", 30), envInt(b, "VIGIL_BENCH_TICKS", 90)
	minutes := days * 24 * 60
	end := time.Date(2026, 11, 26, 0, 30, 0, 0, time.UTC)
	first := end.Add(-time.Duration(minutes) * time.Minute)
	b.Run("DuckDB", func(b *testing.B) {
		ctx := context.Background()
		dir := b.TempDir()
		st, err := embedded.Open(ctx, dir)
		if err != nil {
			b.Fatal(err)
		}
		st.Close() // the schema is made; the rows go in through a connection of its own
		db, err := sql.Open("duckdb", filepath.Join(dir, embedded.FileName))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		_, err = db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO sli_rollups
			SELECT 'default', 'slo-' || (i %% %d)::VARCHAR, to_timestamp(%d + (i // %d) * 60)::TIMESTAMP, 99, 100 FROM range(%d) t(i)`,
			slos, first.Unix(), slos, slos*minutes))
		db.Close()
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("generated %d rollup rows in %s", slos*minutes, time.Since(start).Round(time.Millisecond))
		if st, err = embedded.Open(ctx, dir); err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		benchRunningSums(b, st, slos, minutes, end, ticks)
	})
	b.Run("ClickHouse", func(b *testing.B) {
		ctx := context.Background()
		st, cfg := benchClickHouse(b, "vigil_slo_running")
		opts := *cfg.Options
		opts.Auth.Database = cfg.Database
		conn, err := ch.Open(&opts)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		err = conn.Exec(ctx, fmt.Sprintf(`INSERT INTO sli_rollups (tenant, slo, minute, good, total, version)
			SELECT 'default', concat('slo-', toString(number %% %d)), toDateTime(%d + intDiv(number, %d) * 60), 99, 100, 1
			FROM system.numbers LIMIT %d`, slos, first.Unix(), slos, slos*minutes))
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("generated %d rollup rows in %s", slos*minutes, time.Since(start).Round(time.Millisecond))
		benchRunningSums(b, st, slos, minutes, end, ticks)
	})
}

func benchRunningSums(b *testing.B, st RollupStore, slos, minutes int, end time.Time, ticks int) {
	ctx := context.Background()
	var all []*SLO
	for i := 0; i < slos; i++ {
		all = append(all, &SLO{Name: fmt.Sprintf("slo-%d", i), Service: "svc", Objective: 0.99, Window: TimeWindow{Duration: 30 * day, Rolling: true},
			SLI: SpanAvailability{}, Alerts: DefaultAlertWindows(30 * day)})
	}
	at := end.Add(-time.Second)
	check := func(statuses []Status, err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
		for _, st := range statuses {
			if want := float64(min(minutes, 30*24*60) * 100); st.Counts.Total != want || st.Counts.Good != want*0.99 {
				b.Fatalf("%s: %+v, want %g events", st.SLO.Name, st.Counts, want)
			}
		}
	}
	fullRound := os.Getenv("VIGIL_BENCH_FULL_ROUND") != "0"
	b.ResetTimer()
	for b.Loop() {
		var full, fullCPU time.Duration
		if fullRound {
			start, cpu := time.Now(), cpuTime(b)
			check(ComputeAll(ctx, st, all, at))
			full, fullCPU = time.Since(start), cpuTime(b)-cpu
		}

		// The first start-up finds the hourly level empty (as right after
		// the upgrade that adds it): every hour comes from its minutes, and
		// is written back. The second finds the hours.
		first := &Evaluator{Store: st}
		first.runMu.Lock()
		start, cpu := time.Now(), cpuTime(b)
		check(first.judgeAll(ctx, all, nil, at))
		fromMinutes, fromMinutesCPU := time.Since(start), cpuTime(b)-cpu
		first.runMu.Unlock()

		e := &Evaluator{Store: st}
		e.runMu.Lock()
		start, cpu = time.Now(), cpuTime(b)
		check(e.judgeAll(ctx, all, nil, at))
		startup, startupCPU := time.Since(start), cpuTime(b)-cpu

		// Each tick a new minute enters; the rollup step hands over the
		// 11 minutes it recomputed, unchanged but for the new one.
		var total, slowest time.Duration
		slowestAt := 0
		for i := 1; i <= ticks; i++ {
			tick := at.Add(time.Duration(i) * time.Minute)
			now := unixMinute(tick.Truncate(time.Minute).Add(time.Minute))
			fresh := make(map[string]recomputed, len(all))
			for _, s := range all {
				r := recomputed{from: now - 11}
				for m := now - 11; m < now; m++ {
					r.minutes = append(r.minutes, minute{at: time.Unix(m*60, 0).UTC(), good: 99, total: 100})
				}
				fresh[sloKey(s)] = r
			}
			start = time.Now()
			statuses, err := e.judgeAll(ctx, all, fresh, tick)
			if err == nil {
				err = e.writeHours(ctx)
			}
			d := time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
			if minutes >= 30*24*60 {
				check(statuses, nil) // a full month: the windows keep 100 events a minute
			}
			total += d
			if d > slowest {
				slowest, slowestAt = d, i
			}
		}
		e.runMu.Unlock()
		if fullRound {
			b.ReportMetric(float64(full.Milliseconds()), "ms/full-round")
			b.ReportMetric(float64(fullCPU.Milliseconds()), "cpu-ms/full-round")
		}
		b.ReportMetric(float64(fromMinutes.Milliseconds()), "ms/startup-minutes")
		b.ReportMetric(float64(fromMinutesCPU.Milliseconds()), "cpu-ms/startup-minutes")
		b.ReportMetric(float64(startup.Milliseconds()), "ms/startup-hourly")
		b.ReportMetric(float64(startupCPU.Milliseconds()), "cpu-ms/startup-hourly")
		b.ReportMetric(float64(total.Microseconds())/1000/float64(ticks), "ms/tick")
		b.ReportMetric(float64(slowest.Microseconds())/1000, "ms/slowest-tick")
		b.ReportMetric(float64(slowestAt), "slowest-tick-no")
	}
}

// benchClickHouse opens a new database named from prefix on the server
// in VIGIL_TEST_CLICKHOUSE, dropped when the benchmark ends; it skips the
// benchmark without one.
func benchClickHouse(b *testing.B, prefix string) (*clickhouse.Store, clickhouse.Config) {
	addr := os.Getenv("VIGIL_TEST_CLICKHOUSE")
	if addr == "" {
		b.Skip("VIGIL_TEST_CLICKHOUSE is not set")
	}
	ctx := context.Background()
	cfg, err := clickhouse.ParseURL(fmt.Sprintf("clickhouse://%s/%s_%d", addr, prefix, time.Now().UnixNano()))
	if err != nil {
		b.Fatal(err)
	}
	st, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.DropDatabase(ctx); st.Close() })
	return st, cfg
}

// cpuTime is the CPU time this process has used (a ClickHouse server's is
// not in it).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive whole number", name, v)
	}
	return n
}

// BenchmarkTick measures the evaluator's whole tick after start-up (Run:
// counting each SLO's recent spans and writing its minutes, the running
// sums and the alerts) on spans written through the store:
// VIGIL_BENCH_SLOS span SLOs (default 1,000), four to a service (a
// latency, an availability, an operation's latency and an availability of
// spans with an attribute), over 30-day windows with the workbook's
// rules. Each service has four spans a minute, one slow and, every fifth
// minute, one failed: at the default objective of 0.9 the latency SLOs'
// ticket rule fires, so half the SLOs have an alert re-sent every tick;
// at VIGIL_BENCH_OBJECTIVE=0.5 none fires. Run it with -benchtime=1x.
func BenchmarkTick(b *testing.B) {
	slos, ticks := envInt(b, "VIGIL_BENCH_SLOS", 1000), envInt(b, "VIGIL_BENCH_TICKS", 30)
	b.Run("DuckDB", func(b *testing.B) {
		st, err := embedded.Open(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		benchTick(b, st, slos, ticks)
	})
	b.Run("ClickHouse", func(b *testing.B) {
		st, _ := benchClickHouse(b, "vigil_slo_tick")
		benchTick(b, st, slos, ticks)
	})
}

func benchTick(b *testing.B, st RollupStoreWithSpans, slos, ticks int) {
	ctx := context.Background()
	objective := 0.9
	if v := os.Getenv("VIGIL_BENCH_OBJECTIVE"); v != "" {
		var err error
		if objective, err = strconv.ParseFloat(v, 64); err != nil || objective <= 0 || objective >= 1 {
			b.Fatalf("VIGIL_BENCH_OBJECTIVE=%q: want a number between 0 and 1", v)
		}
	}
	services := (slos + 3) / 4
	var all []*SLO
	for i := 0; i < slos; i++ {
		svc := fmt.Sprintf("svc-%d", i/4)
		s := &SLO{Name: fmt.Sprintf("slo-%d", i), Service: svc, Objective: objective, Window: TimeWindow{Duration: 30 * day, Rolling: true},
			Alerts: DefaultAlertWindows(30 * day)}
		switch i % 4 {
		case 0:
			s.SLI = SpanLatency{Latency: 500 * time.Millisecond}
		case 1:
			s.SLI = SpanAvailability{}
		case 2:
			s.SLI = SpanLatency{SpanFilter: SpanFilter{Operation: "chat"}, Latency: time.Second}
		case 3:
			s.SLI = SpanAvailability{SpanFilter: SpanFilter{Attributes: map[string]string{"route": "/v1/chat"}}}
		}
		all = append(all, s)
	}
	// Spans from 40 minutes before the first tick to the last one, so
	// every tick's recompute span has them.
	end := time.Date(2026, 11, 26, 12, 0, 30, 0, time.UTC)
	first := end.Add(-40 * time.Minute)
	last := end.Add(time.Duration(ticks+1) * time.Minute)
	start := time.Now()
	var batch []store.Span
	n := 0
	for m := first.Truncate(time.Minute); m.Before(last); m = m.Add(time.Minute) {
		for svc := 0; svc < services; svc++ {
			for k := 0; k < 4; k++ {
				n++
				sp := store.Span{Tenant: "default", Service: fmt.Sprintf("svc-%d", svc), Operation: "chat",
					TraceID: store.TraceID{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), 7}, SpanID: store.SpanID{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), 7},
					StartUnixNano: m.Add(time.Duration(k*15) * time.Second).UnixNano(), DurationNano: int64(100 * time.Millisecond),
					Attributes: store.Attributes{{Key: "route", Value: "/v1/chat"}}}
				if k == 3 {
					sp.DurationNano = int64(2 * time.Second)
				}
				if k == 0 && m.Minute()%5 == 0 {
					sp.StatusCode = store.StatusError
				}
				batch = append(batch, sp)
			}
		}
		if len(batch) >= 20000 {
			if err := st.WriteSpans(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := st.WriteSpans(ctx, batch); err != nil {
		b.Fatal(err)
	}
	b.Logf("wrote %d spans of %d services in %s", n, services, time.Since(start).Round(time.Millisecond))

	b.ResetTimer()
	for b.Loop() {
		e := &Evaluator{Store: st, SLOs: all, Alerter: &Alerter{Events: st, Interval: time.Minute}}
		start, cpu := time.Now(), cpuTime(b)
		if err := e.Run(ctx, end); err != nil {
			b.Fatal(err)
		}
		startup, startupCPU := time.Since(start), cpuTime(b)-cpu
		var total, totalCPU, slowest time.Duration
		for i := 1; i <= ticks; i++ {
			start, cpu := time.Now(), cpuTime(b)
			if err := e.Run(ctx, end.Add(time.Duration(i)*time.Minute)); err != nil {
				b.Fatal(err)
			}
			d := time.Since(start)
			total, totalCPU, slowest = total+d, totalCPU+cpuTime(b)-cpu, max(slowest, d)
		}
		// Every SLO wrote its minutes: its window holds the 40 minutes
		// before the first tick and those since.
		statuses, err := ComputeAll(ctx, st, all, end.Add(time.Duration(ticks)*time.Minute))
		if err != nil {
			b.Fatal(err)
		}
		var minutes, failed float64
		for m := first.Truncate(time.Minute); m.Before(end.Add(time.Duration(ticks+1) * time.Minute).Truncate(time.Minute)); m = m.Add(time.Minute) {
			minutes++
			if m.Minute()%5 == 0 {
				failed++
			}
		}
		for i, s := range statuses {
			want := Counts{Good: 3 * minutes, Total: 4 * minutes}
			if i%4 == 1 || i%4 == 3 {
				want.Good = want.Total - failed
			}
			if s.Counts != want {
				b.Fatalf("%s: %+v, want %+v", s.SLO.Name, s.Counts, want)
			}
		}
		b.ReportMetric(float64(len(e.Alerter.Active())), "alerts")
		b.ReportMetric(float64(startup.Milliseconds()), "ms/startup")
		b.ReportMetric(float64(startupCPU.Milliseconds()), "cpu-ms/startup")
		b.ReportMetric(float64(total.Microseconds())/1000/float64(ticks), "ms/tick")
		b.ReportMetric(float64(totalCPU.Microseconds())/1000/float64(ticks), "cpu-ms/tick")
		b.ReportMetric(float64(slowest.Microseconds())/1000, "ms/slowest-tick")
	}
}
