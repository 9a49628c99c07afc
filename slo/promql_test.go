package slo

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/querier"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// promFixture is an embedded store with an hour of scrapes before tick,
// every 15 s starting 7 s past the minute (so no sample lies on a minute
// boundary): http_requests_total{code="200"} +9 and {code="500"} +1 a
// scrape, and a queue depth of 5, then 20 for the last ten minutes. It
// returns the store, the engine over it, and a function writing more
// scrapes of the counters from the i-th on.
func promFixture(t *testing.T, tick time.Time) (*embedded.Store, *querier.Engine, func(from, to int)) {
	t.Helper()
	st, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	start := tick.Add(-time.Hour).Add(7 * time.Second)
	ok := store.NewSeries(store.DefaultTenant, "http_requests_total", store.MetricCounter, store.Attributes{{Key: "job", Value: "api"}, {Key: "code", Value: "200"}})
	failed := store.NewSeries(store.DefaultTenant, "http_requests_total", store.MetricCounter, store.Attributes{{Key: "job", Value: "api"}, {Key: "code", Value: "500"}})
	queue := store.NewSeries(store.DefaultTenant, "inference_queue_depth", store.MetricGauge, store.Attributes{{Key: "job", Value: "api"}})
	write := func(from, to int) {
		var samples []store.Sample
		for i := from; i < to; i++ {
			at := start.Add(time.Duration(i) * 15 * time.Second).UnixMilli()
			depth := 5.0
			if i >= 200 {
				depth = 20
			}
			samples = append(samples,
				store.Sample{Tenant: store.DefaultTenant, Fingerprint: ok.Fingerprint, TimestampMsec: at, Value: float64(1000 + 9*i)},
				store.Sample{Tenant: store.DefaultTenant, Fingerprint: failed.Fingerprint, TimestampMsec: at, Value: float64(i)},
				store.Sample{Tenant: store.DefaultTenant, Fingerprint: queue.Fingerprint, TimestampMsec: at, Value: depth})
		}
		if err := st.WriteMetrics(context.Background(), []store.Series{ok, failed, queue}, samples); err != nil {
			t.Fatal(err)
		}
	}
	write(0, 240)
	return st, querier.NewEngine(st, querier.DefaultOptions), write
}

func loadSLOs(t *testing.T, spec string) []*SLO {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slos.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	slos, problems, err := Load([]string{dir}, time.Minute)
	if err != nil || len(problems) > 0 {
		t.Fatalf("Load: %v %v", err, problems)
	}
	return slos
}

const promSpec = `slos:
  - name: rate-ratio
    service: api
    objective: 99%
    metric:
      bad: sum(rate(http_requests_total{job="api",code=~"5.."}[5m]))
      total: sum(rate(http_requests_total{job="api"}[5m]))
  - name: counter-sum
    service: api
    objective: 99%
    metric:
      bad: sum(http_requests_total{job="api",code=~"5.."})
      total: sum(http_requests_total{job="api"})
  - name: selectors
    service: api
    objective: 99%
    metric:
      bad: http_requests_total{job="api",code=~"5.."}
      total: http_requests_total{job="api"}
  - name: increase-ratio
    service: api
    objective: 99%
    metric:
      good: sum(increase(http_requests_total{job="api",code="200"}[5m]))
      total: sum(increase(http_requests_total{job="api"}[5m]))
  - name: sloth-window
    service: api
    objective: 99%
    metric:
      bad: sum(rate(http_requests_total{job="api",code=~"5.."}[{{.window}}]))
      total: sum(rate(http_requests_total{job="api"}[{{.window}}]))
  - name: queue
    service: api
    objective: 99%
    metric:
      gauge: max(inference_queue_depth{job="api"})
      op: lt
      value: 10
`

// scalarAt evaluates a query that yields one series at t.
func scalarAt(t *testing.T, e *querier.Engine, q string, at time.Time) float64 {
	t.Helper()
	m, err := e.QueryRange(context.Background(), store.DefaultTenant, q, at, at, time.Minute)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if len(m) != 1 || len(m[0].Floats) != 1 {
		t.Fatalf("%s at %s: %v, want one value", q, at, m)
	}
	return m[0].Floats[0].F
}

func same(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

// TestPromQLSLIs: PromQL SLIs roll up through the engine, and a window's
// error ratio is what Prometheus computes from the same expressions at
// the minute starts the window holds; the exported recording rules give
// the same numbers.
func TestPromQLSLIs(t *testing.T) {
	ctx := context.Background()
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	st, engine, _ := promFixture(t, tick)
	slos := loadSLOs(t, promSpec)
	e := &Evaluator{Store: st, SLOs: slos, PromQL: engine}
	at := tick.Add(-30 * time.Second) // the windows end at tick
	if err := e.Run(ctx, at); err != nil {
		t.Fatal(err)
	}
	rules, _ := PrometheusRules(slos)
	recorded := map[string]string{} // SLO and window → the rule's expression
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			recorded[r.Labels["slo"]+" "+r.Record] = r.Expr
		}
	}
	// The last minute start the windows hold is tick − 1m: its sample
	// stands for the minute in progress. Prometheus computes each error
	// ratio from the same expressions at the same minute starts.
	last := tick.Add(-time.Minute)
	bad, total := `sum(rate(http_requests_total{job="api",code=~"5.."}[5m]))`, `sum(rate(http_requests_total{job="api"}[5m]))`
	good := `sum(increase(http_requests_total{job="api",code="200"}[5m]))`
	want := map[string]string{
		"rate-ratio":     "sum_over_time(" + bad + "[WIN:1m]) / sum_over_time(" + total + "[WIN:1m])",
		"sloth-window":   "sum_over_time(" + bad + "[WIN:1m]) / sum_over_time(" + total + "[WIN:1m])",
		"increase-ratio": "1 - sum_over_time(" + good + "[WIN:1m]) / sum_over_time(" + strings.ReplaceAll(total, "rate", "increase") + "[WIN:1m])",
		// Counters count their increases: one failed request in ten.
		"counter-sum": "vector(0.1)",
		"selectors":   "vector(0.1)",
		// The queue is sampled at minute starts: deep at the last 9 of the
		// 59 that have a sample before them.
		"queue": `1 - avg_over_time((max(inference_queue_depth{job="api"}) < bool 10)[WIN:1m])`,
	}
	for _, s := range slos {
		status := statusOf(t, st, s, at)
		rule := status.Burns[0].Rule // 1h and 5m
		for _, w := range []struct {
			d      time.Duration
			counts Counts
		}{{rule.Long, status.Burns[0].Long}, {rule.Short, status.Burns[0].Short}} {
			win := formatDuration(w.d)
			got, _ := w.counts.ErrorRatio()
			ratio := scalarAt(t, engine, strings.ReplaceAll(want[s.Name], "WIN", win), last)
			if !same(got, ratio) {
				t.Errorf("%s over %s: error ratio %.15g, Prometheus %.15g", s.Name, win, got, ratio)
			}
			if r := scalarAt(t, engine, recorded[s.Name+" slo:sli_error:ratio_rate"+win], last); !same(r, got) && s.Name != "selectors" && s.Name != "sloth-window" {
				t.Errorf("%s over %s: the exported rule gives %.15g, Vigil %.15g", s.Name, win, r, got)
			}
		}
	}
	// Events: rates sampled a minute apart are 60 × the rate (40 requests
	// a minute); counts over 5m are a fifth of theirs; counters count
	// their increases, so a sum counts what the selectors count, but the
	// first minute, which has no value at its start.
	for name, perMinute := range map[string]float64{"rate-ratio": 40, "increase-ratio": 40, "sloth-window": 40, "counter-sum": 40} {
		s := findSLO(t, slos, name)
		r, err := st.Rollups(ctx, store.RollupQuery{Tenant: store.DefaultTenant, SLO: s.Name, Start: tick.Add(-30 * time.Minute), End: tick.Add(-20 * time.Minute)})
		if err != nil || len(r) != 10 {
			t.Fatalf("%s: %d rollups, %v", name, len(r), err)
		}
		for _, m := range r {
			if !same(m.Total, perMinute) {
				t.Errorf("%s at %s: %g events, want %g", name, m.Minute.Format("15:04"), m.Total, perMinute)
			}
		}
	}
	sel, sum := statusOf(t, st, findSLO(t, slos, "selectors"), at), statusOf(t, st, findSLO(t, slos, "counter-sum"), at)
	if sel.Counts.Total-sum.Counts.Total != 30 { // 3 increases of 10 in the first minute
		t.Errorf("selectors counted %g events, the sum %g; want 30 more", sel.Counts.Total, sum.Counts.Total)
	}
}

func statusOf(t *testing.T, st store.RollupReader, s *SLO, at time.Time) Status {
	t.Helper()
	status, err := Compute(context.Background(), st, s, at)
	if err != nil {
		t.Fatal(err)
	}
	return status
}

// TestPromQLSLILateSamples: samples that arrive after a minute was rolled
// up are counted when the evaluator recomputes recent minutes.
func TestPromQLSLILateSamples(t *testing.T) {
	ctx := context.Background()
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	st, engine, write := promFixture(t, tick)
	slos := loadSLOs(t, promSpec)
	e := &Evaluator{Store: st, SLOs: slos, PromQL: engine}
	if err := e.Run(ctx, tick.Add(-30*time.Second)); err != nil {
		t.Fatal(err)
	}
	s := findSLO(t, slos, "rate-ratio")
	before := statusOf(t, st, s, tick.Add(3*time.Minute))
	write(240, 252) // three more minutes, written after the first run
	if err := e.Run(ctx, tick.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	after := statusOf(t, st, s, tick.Add(3*time.Minute))
	if after.Counts.Total <= before.Counts.Total {
		t.Errorf("late samples not counted: %g events before, %g after", before.Counts.Total, after.Counts.Total)
	}
	want := scalarAt(t, engine, `sum_over_time(sum(rate(http_requests_total{job="api",code=~"5.."}[5m]))[5m:1m]) / sum_over_time(sum(rate(http_requests_total{job="api"}[5m]))[5m:1m])`, tick.Add(3*time.Minute))
	if got, _ := after.Burns[0].Short.ErrorRatio(); !same(got, want) {
		t.Errorf("5m error ratio after the late samples %.15g, want %.15g", got, want)
	}
}

// TestPromQLSLIRawAndErrors: a raw ratio is the mean of its minutes; a
// PromQL SLI without an engine fails its SLO's rollups, saying why.
func TestPromQLSLIRawAndErrors(t *testing.T) {
	ctx := context.Background()
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	st, engine, _ := promFixture(t, tick)
	raw := &SLO{Name: "raw", Service: "api", Objective: 0.99, Window: TimeWindow{Duration: time.Hour, Rolling: true}, Alerts: DefaultAlertWindows(30 * day),
		SLI: RawRatio{Query: `sum(rate(http_requests_total{code="500"}[5m])) / sum(rate(http_requests_total[5m]))`, Failure: true}}
	if err := (&Evaluator{Store: st, SLOs: []*SLO{raw}, PromQL: engine}).Run(ctx, tick.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	status := statusOf(t, st, raw, tick.Add(-time.Second))
	// A value at every minute start but the first (no scrape before it).
	want := 1 - scalarAt(t, engine, `avg_over_time((`+raw.SLI.(RawRatio).Query+`)[1h:1m])`, tick.Add(-time.Minute))
	if status.Counts.Total != 59 || !same(status.Budget.SLI, want) {
		t.Errorf("raw ratio: %g minutes, SLI %.15g; want 59 and %.15g", status.Counts.Total, status.Budget.SLI, want)
	}
	err := (&Evaluator{Store: st, SLOs: []*SLO{raw}}).Run(ctx, tick)
	if !errors.Is(err, errNoEngine) || !strings.Contains(err.Error(), "slo raw:") {
		t.Errorf("without an engine: %v", err)
	}
}

// TestPromQLRulesCheck: the rules exported for PromQL SLIs are rules
// Prometheus (Debian's 2.42, through promtool) loads.
func TestPromQLRulesCheck(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("VIGIL_TEST_STRICT") != "" {
			t.Fatal("promtool not found (Debian's prometheus package ships it)")
		}
		t.Skip("promtool not found")
	}
	slos := loadSLOs(t, promSpec)
	slos = append(slos, &SLO{Name: "raw", Service: "api", Objective: 0.99, Window: TimeWindow{Duration: 30 * day, Rolling: true}, Alerts: DefaultAlertWindows(30 * day),
		SLI: RawRatio{Query: `1 - (sum(sum_over_time(wifi_satisfaction[{{.window}}])) / sum(count_over_time(wifi_satisfaction[{{.window}}])))`}})
	file, skipped := PrometheusRules(slos)
	if len(skipped) > 0 {
		t.Errorf("skipped: %v", skipped)
	}
	data, err := file.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s\n%s", err, out, data)
	}
}
