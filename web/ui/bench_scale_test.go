package ui

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/clickhouse"
	"github.com/vigil-dev/vigil/store/embedded"
)

// BenchmarkPagesAtScale is issue 14's page benchmark at the scale:
// a store holding $VIGIL_BENCH_SPANS spans (10,000,000 unless set) over
// the 24 hours before benchNow, 100,000 metric series, 1,000,000 cost
// lines over 30 days, the 10,000-span trace, 30 days of SLO rollups,
// alerts and actions. It runs only with VIGIL_BENCH_SCALE=1, so the
// ordinary test runs never pay for the set-up.
//
// The store is filled once and kept: the DuckDB file under the
// repository's .cache/uibench (gitignored), and on ClickHouse
// ($VIGIL_TEST_CLICKHOUSE) a database of its own,
// vigil_uibench_<version>_<spans>. A run finds the big trace, which is
// written last, and reuses the store; otherwise it starts afresh.
// VIGIL_BENCH_REFILL=1 forces a fresh fill. Each page reports the median
// and the 90th percentile of its iterations' server times besides Go's
// mean.
func BenchmarkPagesAtScale(b *testing.B) {
	if os.Getenv("VIGIL_BENCH_SCALE") != "1" {
		b.Skip("set VIGIL_BENCH_SCALE=1 to run (it fills a store of 10M spans once, then caches it)")
	}
	size := scaleSize{Spans: 10_000_000, Series: 100_000, CostLines: 1_000_000}
	if s := os.Getenv("VIGIL_BENCH_SPANS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 4 {
			b.Fatalf("VIGIL_BENCH_SPANS=%q: want a number of spans of at least 4", s)
		}
		size.Spans = n
	}
	b.Run("embedded", func(b *testing.B) {
		dir := filepath.Join("..", "..", ".cache", "uibench", fmt.Sprintf("embedded-v%d-%d", scaleDataVersion, size.Spans))
		if os.Getenv("VIGIL_BENCH_REFILL") == "1" {
			if err := os.RemoveAll(dir); err != nil {
				b.Fatal(err)
			}
		}
		st, err := embedded.Open(context.Background(), dir)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		fillAtScale(b, "embedded", st, size)
		benchPages(b, st)
		benchSparklines(b, st)
		benchPickers(b, st)
	})
	b.Run("clickhouse", func(b *testing.B) {
		addr := os.Getenv("VIGIL_TEST_CLICKHOUSE")
		if addr == "" {
			b.Skip("VIGIL_TEST_CLICKHOUSE names no server")
		}
		ctx := context.Background()
		cfg, err := clickhouse.ParseURL(fmt.Sprintf("clickhouse://%s/vigil_uibench_v%d_%d", addr, scaleDataVersion, size.Spans))
		if err != nil {
			b.Fatal(err)
		}
		st, err := clickhouse.Open(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		if os.Getenv("VIGIL_BENCH_REFILL") == "1" {
			if err := st.DropDatabase(ctx); err != nil {
				b.Fatal(err)
			}
			st.Close()
			if st, err = clickhouse.Open(ctx, cfg); err != nil {
				b.Fatal(err)
			}
		}
		fillAtScale(b, "clickhouse", st, size)
		benchPages(b, st)
		benchSparklines(b, st)
		benchPickers(b, st)
	})
}

// benchSparklines measures the services page's sparkline read, the
// default hour's entry spans per service and minute, with the
// percentiles it used to compute and throw away, and with counts only,
// as the page reads it now: the same data in the same run.
func benchSparklines(b *testing.B, st Store) {
	for _, counts := range []bool{false, true} {
		name := map[bool]string{false: "services-sparklines/percentiles", true: "services-sparklines/counts-only"}[counts]
		b.Run(name, func(b *testing.B) {
			q := store.SpanStatsQuery{Tenant: store.DefaultTenant, Start: benchNow.Add(-time.Hour), End: benchNow, Step: time.Minute,
				GroupBy: []store.UsageDimension{"service"}, Entry: true, CountsOnly: counts}
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				if _, err := st.SpanStats(context.Background(), q); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2])/1e6, "ms-median")
		})
	}
}

// benchPickers measures the traces page's pickers both ways in one run:
// the services and operations of every span stored, as the page read
// them before, and those with spans in the default hour, as it reads
// them now.
func benchPickers(b *testing.B, st Store) {
	ctx := context.Background()
	for _, name := range []string{"all-spans", "range"} {
		b.Run("traces-pickers/"+name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				var err error
				if name == "all-spans" {
					if _, err = st.Services(ctx, store.DefaultTenant); err == nil {
						_, err = st.Operations(ctx, store.DefaultTenant, "chat-gateway")
					}
				} else {
					q := store.SpanStatsQuery{Tenant: store.DefaultTenant, Start: benchNow.Add(-time.Hour), End: benchNow, CountsOnly: true, GroupBy: []store.UsageDimension{"service"}}
					if _, err = st.SpanStats(ctx, q); err == nil {
						q.GroupBy, q.Filter = []store.UsageDimension{"operation"}, map[store.UsageDimension]string{"service": "chat-gateway"}
						_, err = st.SpanStats(ctx, q)
					}
				}
				if err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2])/1e6, "ms-median")
		})
	}
}

// scaleDataVersion names the generator below: change it when the data
// changes, so that a cached store of the old data is not reused.
const scaleDataVersion = 1

// scaleSize is how much the scale benchmark's store holds.
type scaleSize struct {
	Spans, Series, CostLines int
}

// scaleBatch is the spans of one write: more than a DuckDB row group
// (122,880 rows), so DuckDB writes them straight to the file instead of
// through its WAL, and on ClickHouse about one insert every few seconds.
const scaleBatch = 131_072

// fillAtScale fills st unless it already holds the data: the 10,000-span
// trace is written last, so finding it whole means an earlier fill ended.
func fillAtScale(b *testing.B, name string, st Store, size scaleSize) {
	ctx := context.Background()
	if spans, err := st.Trace(ctx, store.DefaultTenant, benchTrace); err == nil && len(spans) == 10_000 {
		b.Logf("%s: reusing the store filled by an earlier run (%d spans, %d series, %d cost lines)", name, size.Spans, size.Series, size.CostLines)
		return
	}
	w, ok := st.(interface {
		writer
		WriteCostLines(context.Context, []store.CostLine) error
		WriteMetrics(context.Context, []store.Series, []store.Sample) error
	})
	if !ok {
		b.Fatal("the store cannot be written")
	}
	start := time.Now()
	writeScaleSpans(b, w, size.Spans-10_000)
	b.Logf("%s: %d spans in %s", name, size.Spans-10_000, time.Since(start).Round(time.Second))
	at := time.Now()
	writeScaleSeries(b, w, size.Series)
	b.Logf("%s: %d series in %s", name, size.Series, time.Since(at).Round(time.Second))
	at = time.Now()
	writeScaleCost(b, w, size.CostLines)
	b.Logf("%s: %d cost lines in %s", name, size.CostLines, time.Since(at).Round(time.Second))
	if err := w.WriteRollups(ctx, benchRollups()); err != nil {
		b.Fatal(err)
	}
	evs, err := fixtureEvents()
	if err != nil {
		b.Fatal(err)
	}
	if err := w.WriteEvents(ctx, append(evs, benchActions(b)...)); err != nil {
		b.Fatal(err)
	}
	if err := w.WriteSpans(ctx, bigBenchTrace()); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: filled in %s", name, time.Since(start).Round(time.Second))
}

// writeScaleSpans writes n spans as fillBench's traces of four, over the
// 24 hours before benchNow, in batches of scaleBatch. The batch's spans
// are built in place, so generating 10M costs little next to writing them.
func writeScaleSpans(b *testing.B, w writer, n int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	models := []string{"gpt-4o", "gpt-4o-mini", "claude-sonnet", "llama-3-70b"}
	providers := []string{"openai", "openai", "anthropic", "vllm"}
	traces := n / 4
	every := 24 * time.Hour / time.Duration(traces+1)
	batch := make([]store.Span, 0, scaleBatch)
	resources := map[string]store.Attributes{}
	for _, s := range []string{"chat-gateway", "retriever", "llm-proxy", "embedder"} {
		resources[s] = store.Attributes{{Key: "service.name", Value: s}}
	}
	sp := func(trace store.TraceID, id, parent byte, at time.Time, d time.Duration, service, op string, kind store.SpanKind) store.Span {
		s := store.Span{Tenant: store.DefaultTenant, TraceID: trace, SpanID: store.SpanID{0: byte(trace[11]), 1: byte(trace[10]), 2: byte(trace[9]), 7: id},
			Service: service, Operation: op, Kind: kind, StartUnixNano: at.UnixNano(), DurationNano: int64(d), StatusCode: store.StatusOK, Resource: resources[service]}
		if parent != 0 {
			s.ParentSpanID = store.SpanID{0: byte(trace[11]), 1: byte(trace[10]), 2: byte(trace[9]), 7: parent}
		}
		return s
	}
	flush := func() {
		if err := w.WriteSpans(ctx, batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := 0; i < traces; i++ {
		at := benchNow.Add(-24 * time.Hour).Add(time.Duration(i) * every)
		trace := store.TraceID{0xcc, 1: byte(rng.Uint32()), 8: byte(i >> 24), 9: byte(i >> 16), 10: byte(i >> 8), 11: byte(i), 15: 7}
		took := time.Duration(50+rng.IntN(1500)) * time.Millisecond
		root := sp(trace, 1, 0, at, took, "chat-gateway", "POST /chat", store.SpanKindServer)
		ret := sp(trace, 2, 1, at.Add(2*time.Millisecond), time.Duration(5+rng.IntN(60))*time.Millisecond, "retriever", "search documents", store.SpanKindServer)
		call := sp(trace, 3, 1, at.Add(70*time.Millisecond), took-75*time.Millisecond, "llm-proxy", "chat", store.SpanKindClient)
		m := i % len(models)
		call.Model, call.Provider, call.InputTokens, call.OutputTokens = models[m], providers[m], int64(200+rng.IntN(2000)), int64(20+rng.IntN(600))
		call.Cost = decimal.New(call.InputTokens*25+call.OutputTokens*100, -7)
		emb := sp(trace, 4, 2, at.Add(3*time.Millisecond), 3*time.Millisecond, "embedder", "embeddings", store.SpanKindServer)
		if i%20 == 0 {
			root.StatusCode, call.StatusCode = store.StatusError, store.StatusError
		}
		batch = append(batch, root, ret, call, emb)
		if len(batch)+4 > cap(batch) {
			flush()
		}
	}
	flush()
}

// writeScaleSeries writes n series of a fleet's container metrics (ten
// metric names over pods of 100 deployments), each with the last hour's
// samples every ten minutes.
func writeScaleSeries(b *testing.B, w interface {
	WriteMetrics(context.Context, []store.Series, []store.Sample) error
}, n int) {
	ctx := context.Background()
	names := []string{"container_cpu_usage_seconds_total", "container_memory_working_set_bytes", "container_network_receive_bytes_total",
		"container_network_transmit_bytes_total", "container_fs_reads_total", "container_fs_writes_total", "kube_pod_container_resource_requests",
		"kube_pod_container_resource_limits", "DCGM_FI_DEV_GPU_UTIL", "vllm:num_requests_running"}
	const chunk = 20_000
	series := make([]store.Series, 0, chunk)
	samples := make([]store.Sample, 0, chunk*6)
	flush := func() {
		if err := w.WriteMetrics(ctx, series, samples); err != nil {
			b.Fatal(err)
		}
		series, samples = series[:0], samples[:0]
	}
	for i := 0; i < n; i++ {
		name := names[i%len(names)]
		pod := i / len(names)
		deploy := "svc-" + strconv.Itoa(pod%100)
		s := store.NewSeries(store.DefaultTenant, name, store.MetricGauge, store.Attributes{
			{Key: "namespace", Value: "ns-" + strconv.Itoa(pod%10)}, {Key: "deployment", Value: deploy},
			{Key: "pod", Value: deploy + "-" + strconv.Itoa(pod)}, {Key: "container", Value: "main"}})
		series = append(series, s)
		for k := 0; k < 6; k++ {
			samples = append(samples, store.Sample{Tenant: store.DefaultTenant, Fingerprint: s.Fingerprint,
				TimestampMsec: benchNow.Add(-time.Duration(k*10) * time.Minute).UnixMilli(), Value: float64(i%1000 + k)})
		}
		if len(series) == cap(series) {
			flush()
		}
	}
	flush()
}

// writeScaleCost writes n daily bill lines over the 30 days before
// benchNow: three providers, twenty services, six regions, eight teams and
// ten namespaces, a resource each.
func writeScaleCost(b *testing.B, w interface {
	WriteCostLines(context.Context, []store.CostLine) error
}, n int) {
	ctx := context.Background()
	providers := []string{"AWS", "GCP", "Azure"}
	regions := []string{"us-east-1", "eu-west-1", "europe-west4", "us-central1", "westeurope", "eastus"}
	const chunk = 50_000
	lines := make([]store.CostLine, 0, chunk)
	flush := func() {
		if err := w.WriteCostLines(ctx, lines); err != nil {
			b.Fatal(err)
		}
		lines = lines[:0]
	}
	day := benchNow.Truncate(24 * time.Hour)
	perDay := n / 30
	for i := 0; i < n; i++ {
		d := i / perDay
		if d >= 30 {
			d = 29
		}
		start := day.AddDate(0, 0, -d-1)
		p := providers[i%3]
		c := decimal.New(int64(100+i%9000), -2)
		lines = append(lines, store.CostLine{Tenant: store.DefaultTenant, LineID: "s" + strconv.Itoa(i), Source: "uibench", BillingAccountID: "acct-" + strconv.Itoa(i%4),
			BillingCurrency: "USD", BillingPeriodStart: time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC),
			BillingPeriodEnd: time.Date(start.Year(), start.Month()+1, 1, 0, 0, 0, 0, time.UTC), ChargePeriodStart: start, ChargePeriodEnd: start.AddDate(0, 0, 1),
			ChargeCategory: "Usage", BilledCost: c, EffectiveCost: c.Mul(decimal.New(9, -1)), ListCost: c.Mul(decimal.New(11, -1)),
			ProviderName: p, ServiceName: p + " service " + strconv.Itoa(i%20), RegionID: regions[i%len(regions)], ResourceID: p + "/r/" + strconv.Itoa(i%(perDay+1)),
			Tags: store.Attributes{{Key: "team", Value: "team-" + strconv.Itoa(i%8)}, {Key: "namespace", Value: "ns-" + strconv.Itoa(i%10)}}})
		if len(lines) == cap(lines) {
			flush()
		}
	}
	flush()
}
