package ui

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/analyzer/rightsize"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/clickhouse"
	"github.com/vigil-dev/vigil/store/embedded"
)

// BenchmarkPages measures each page's server time (the handler, its
// store reads and its rendering, without the network) on a store holding
// a day of a busy AI fleet: $VIGIL_BENCH_SPANS spans (default 1,000,000)
// spread evenly over the 24 hours before benchNow, so the pages' default
// hour holds a 24th of them; a trace of 10,000 spans; 30 days of per-
// minute rollups of two SLOs; alerts. On the embedded store always, and
// on ClickHouse when $VIGIL_TEST_CLICKHOUSE names a server.
func BenchmarkPages(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("VIGIL_BENCH_SPANS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatalf("VIGIL_BENCH_SPANS=%q: %v", s, err)
		}
	}
	backends := []struct {
		name string
		open func(b *testing.B) Store
	}{{"embedded", openEmbedded}}
	if os.Getenv("VIGIL_TEST_CLICKHOUSE") != "" {
		backends = append(backends, struct {
			name string
			open func(b *testing.B) Store
		}{"clickhouse", openClickHouse})
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			st := be.open(b)
			start := time.Now()
			fillBench(b, st, n)
			b.Logf("%s: wrote %d spans, a 10,000-span trace and 30 days of rollups in %s", be.name, n, time.Since(start).Round(time.Second))
			benchPages(b, st)
		})
	}
}

// benchNow is the end of the benchmark's data: the pages' "now".
var benchNow = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

// benchTrace is the 10,000-span trace.
var benchTrace = store.TraceID{0xb1, 0x9, 15: 1}

func benchPages(b *testing.B, st Store) {
	slos := fixtureSLOList(b)
	now := func() time.Time { return benchNow }
	engine := actions.New(actions.Options{Store: st, SLOs: func() []*slo.SLO { return slos }, Now: now})
	u := New(Options{Store: st, SLOs: func() []*slo.SLO { return slos }, Now: now, PanelTimeout: time.Minute, Actions: engine,
		Budgets: fixtureBudgets, DriftMonitors: fixtureMonitors, ConfigStatus: fixtureConfigStatus})
	h := Browser(muxOf(u))
	for _, p := range []struct{ name, url string }{
		{"services", "/services"},
		{"service", "/services/chat-gateway"},
		{"service-charts", "/services/chat-gateway?panel=red"},
		{"traces", "/traces?service=chat-gateway"},
		{"traces-errors-slow", "/traces?service=llm-proxy&status=error&min=500ms&limit=500"},
		{"trace-10k-spans", "/traces/" + benchTrace.String()},
		{"slos", "/slos"},
		{"slo", "/slos/chat-availability"},
		{"slo-charts", "/slos/chat-availability?panel=charts"},
		{"alerts", "/alerts"},
		{"llm", "/llm"},
		{"cost", "/cost"},
		{"cost-daily-drill", "/cost?by=service&f=provider%3AAWS&view=daily"},
		{"cost-calls", "/cost?source=calls&by=model&from=now-1h"},
		{"actions", "/actions"},
		{"action", "/actions/act-rollback"},
		{"audit", "/actions/audit"},
		{"drift", "/drift"},
		{"canaries", "/canaries"},
		{"recommendations", "/recommendations"},
		{"settings", "/settings"},
	} {
		b.Run(p.name, func(b *testing.B) {
			var size int
			var took []time.Duration
			for b.Loop() {
				w := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(w, httptest.NewRequest("GET", p.url, nil))
				took = append(took, time.Since(start))
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d\n%.2000s", p.url, w.Code, w.Body)
				}
				size = w.Body.Len()
			}
			b.ReportMetric(float64(size), "B/page")
			// The targets are medians; a few slow iterations on a
			// shared machine move the mean that ns/op reports, not these.
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2])/1e6, "ms-median")
			b.ReportMetric(float64(took[len(took)*9/10])/1e6, "ms-p90")
		})
	}
}

func openEmbedded(b *testing.B) Store {
	st, err := embedded.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

func openClickHouse(b *testing.B) Store {
	ctx := context.Background()
	cfg, err := clickhouse.ParseURL(fmt.Sprintf("clickhouse://%s/vigil_ui_bench_%d", os.Getenv("VIGIL_TEST_CLICKHOUSE"), time.Now().UnixNano()))
	if err != nil {
		b.Fatal(err)
	}
	st, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		st.DropDatabase(ctx)
		st.Close()
	})
	return st
}

// writer is what filling a store needs.
type writer interface {
	WriteSpans(context.Context, []store.Span) error
	WriteRollups(context.Context, []store.Rollup) error
	WriteEvents(context.Context, []store.Event) error
}

// fillBench writes n spans as traces of four (a gateway request, a
// retrieval, a model call and, one in three, an embedding; one in twenty
// failing), in batches of 20,000, then the big trace, rollups and alerts.
func fillBench(b *testing.B, st Store, n int) {
	w, ok := st.(writer)
	if !ok {
		b.Fatal("the store cannot be written")
	}
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	models := []string{"gpt-4o", "gpt-4o-mini", "claude-sonnet", "llama-3-70b"}
	batch := make([]store.Span, 0, 20000)
	every := 24 * time.Hour / time.Duration(n/4+1)
	flush := func() {
		if err := w.WriteSpans(ctx, batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := 0; i < n/4; i++ {
		at := benchNow.Add(-24 * time.Hour).Add(time.Duration(i) * every)
		trace := store.TraceID{0xcc, 8: byte(i >> 24), 9: byte(i >> 16), 10: byte(i >> 8), 11: byte(i), 15: 7}
		took := time.Duration(50+rng.IntN(1500)) * time.Millisecond
		root := span(trace, 1, 0, at, took, "chat-gateway", "POST /chat", store.SpanKindServer)
		ret := span(trace, 2, 1, at.Add(2*time.Millisecond), time.Duration(5+rng.IntN(60))*time.Millisecond, "retriever", "search documents", store.SpanKindServer)
		call := span(trace, 3, 1, at.Add(70*time.Millisecond), took-75*time.Millisecond, "llm-proxy", "chat", store.SpanKindClient)
		call.Model, call.Provider, call.InputTokens, call.OutputTokens = models[i%len(models)], "openai", int64(200+rng.IntN(2000)), int64(20+rng.IntN(600))
		call.Cost = decimal.New(call.InputTokens*25+call.OutputTokens*100, -7)
		emb := span(trace, 4, 2, at.Add(3*time.Millisecond), 3*time.Millisecond, "embedder", "embeddings", store.SpanKindServer)
		if i%20 == 0 {
			root.StatusCode, call.StatusCode = store.StatusError, store.StatusError
		}
		batch = append(batch, root, ret, call, emb)
		if len(batch) >= cap(batch)-4 {
			flush()
		}
	}
	flush()
	for _, sp := range bigBenchTrace() {
		if batch = append(batch, sp); len(batch) >= cap(batch) {
			flush()
		}
	}
	flush()
	if err := w.WriteRollups(ctx, benchRollups()); err != nil {
		b.Fatal(err)
	}
	evs, err := fixtureEvents()
	if err == nil {
		err = w.WriteEvents(ctx, evs)
	}
	if err != nil {
		b.Fatal(err)
	}
	// The cost and actions pages' data: 30 days of bills and the fixture's
	// actions (benchNow is the fixture's now).
	if err := st.(interface {
		WriteCostLines(context.Context, []store.CostLine) error
	}).WriteCostLines(ctx, fixtureBills()); err != nil {
		b.Fatal(err)
	}
	if err := w.WriteEvents(ctx, benchActions(b)); err != nil {
		b.Fatal(err)
	}
}

// benchActions are the fixture's actions' transitions.
func benchActions(b *testing.B) []store.Event {
	var acts []store.Event
	for _, a := range fixtureActions(rightsize.Advice{Namespace: "llm", Kind: "Deployment", Workload: "chat-gateway"}) {
		for _, s := range a {
			ev, err := s()
			if err != nil {
				b.Fatal(err)
			}
			acts = append(acts, ev)
		}
	}
	return acts
}

// bigBenchTrace is 10,000 spans: a root, 99 workers, 100 steps each.
func bigBenchTrace() []store.Span {
	at := benchNow.Add(-20 * time.Minute)
	out := []store.Span{span(benchTrace, 0, 0, at, 1200*time.Millisecond, "batch", "embed corpus", store.SpanKindServer)}
	out[0].SpanID = store.SpanID{0xff}
	for w := 0; w < 99; w++ {
		worker := span(benchTrace, 0, 0, at.Add(time.Duration(w)*time.Millisecond), 990*time.Millisecond, "batch", fmt.Sprintf("worker %d", w), store.SpanKindInternal)
		worker.SpanID, worker.ParentSpanID = store.SpanID{0xfe, 7: byte(w)}, out[0].SpanID
		out = append(out, worker)
		for s := 0; s < 100; s++ {
			step := span(benchTrace, 0, 0, at.Add(time.Duration(w+s*9)*time.Millisecond), 8*time.Millisecond, "embedder", "embeddings", store.SpanKindClient)
			step.SpanID, step.ParentSpanID = store.SpanID{0xfd, 6: byte(w), 7: byte(s)}, worker.SpanID
			out = append(out, step)
		}
	}
	return out
}

// benchRollups are 30 days of both fixture SLOs' minutes.
func benchRollups() []store.Rollup {
	var out []store.Rollup
	for m := benchNow.Add(-30 * 24 * time.Hour); m.Before(benchNow); m = m.Add(time.Minute) {
		out = append(out, store.Rollup{Tenant: store.DefaultTenant, SLO: "chat-availability", Minute: m, Good: 995, Total: 1000},
			store.Rollup{Tenant: store.DefaultTenant, SLO: "chat-latency", Minute: m, Good: 999, Total: 1000})
	}
	return out
}
