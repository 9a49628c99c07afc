package prom

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/querier"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// setupSLOs serves the API over an embedded store holding two spans of
// service chat (0.3 s and 3 s in one minute), a metric SLO and a span SLO
// of the default tenant, and a firing alert of the metric SLO.
func setupSLOs(t *testing.T) http.Handler {
	st, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var spans []store.Span
	for i, d := range []time.Duration{300 * time.Millisecond, 3 * time.Second} {
		sp := store.Span{Tenant: "default", Service: "chat", Operation: "POST /chat", StatusCode: store.StatusOK,
			StartUnixNano: t0.Add(time.Duration(i) * time.Second).UnixNano(), DurationNano: int64(d)}
		sp.TraceID[15], sp.SpanID[7] = byte(i+1), byte(i+1)
		spans = append(spans, sp)
	}
	if err := st.WriteSpans(context.Background(), spans); err != nil {
		t.Fatal(err)
	}
	window := slo.AlertWindow{Severity: "page", Long: time.Hour, Short: 5 * time.Minute, Factor: 14.4, BudgetPercent: 2}
	ratio := &slo.SLO{Name: "chat-errors", Service: "chat", Objective: 0.999, SLI: slo.MetricRatio{Bad: `errors_total`, Total: `requests_total`},
		Alerts: []slo.AlertWindow{window}, File: "slos/chat.yaml:3"}
	spanSLO := &slo.SLO{Name: "chat-latency", Service: "chat", Objective: 0.99, SLI: slo.SpanLatency{Latency: time.Second}, Alerts: []slo.AlertWindow{window}}
	labels := map[string]string{"alertname": slo.AlertName, "slo": "chat-errors", "service": "chat", "tenant": "default", "severity": "page", "long_window": "1h", "short_window": "5m"}
	ev, err := slo.AlertTransitions.Event(store.Event{Tenant: "default", ID: "a1", Time: t0, Summary: "firing"},
		slo.AlertTransition{SLO: "chat-errors", Fingerprint: "f1", State: slo.StateFiring, Labels: labels, StartsAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.WriteEvents(context.Background(), []store.Event{ev}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&API{Engine: querier.NewEngine(st, querier.DefaultOptions), Store: st, Spans: st, Events: st,
		SLOs: func() []*slo.SLO { return []*slo.SLO{ratio, spanSLO} }, Now: func() time.Time { return t0.Add(5 * time.Minute) }}).Register(mux)
	return mux
}

func TestExemplars(t *testing.T) {
	h := setupSLOs(t)
	p := "/prometheus/api/v1/query_exemplars"
	window := url.Values{"start": {unix(-time.Minute)}, "end": {unix(5 * time.Minute)}}
	q := func(query string) url.Values {
		v := url.Values{"query": {query}}
		for k, x := range window {
			v[k] = x
		}
		return v
	}
	// One minute holds both spans: its exemplar is the slower, in the
	// bucket of 3 s (le 4).
	code, got := call(t, h, "GET", p, q(`histogram_quantile(0.99, sum by (le, service) (rate(vigil_span_duration_seconds_bucket{service="chat"}[5m])))`), "")
	want := `{"status":"success","data":[{"seriesLabels":{"__name__":"vigil_span_duration_seconds_bucket","le":"4","operation":"POST /chat","service":"chat","status":"ok"},` +
		`"exemplars":[{"labels":{"span_id":"0000000000000002","trace_id":"00000000000000000000000000000002"},"value":"3","timestamp":1795168804}]}]}`
	if code != 200 || got != want {
		t.Errorf("bucket exemplars:\n got %d %s\nwant %s", code, got, want)
	}
	for _, query := range []string{`vigil_span_duration_seconds_count{service="other"}`, `vigil_span_calls_total`, `vigil_span_duration_seconds_sum{status="error"}`} {
		if code, got := call(t, h, "GET", p, q(query), ""); code != 200 || got != `{"status":"success","data":[]}` {
			t.Errorf("%s: %d %s, want none", query, code, got)
		}
	}
	if _, got := call(t, h, "GET", p, q(`vigil_span_duration_seconds_sum`), "acme"); got != `{"status":"success","data":[]}` {
		t.Errorf("another tenant sees %s", got)
	}
}

func TestRulesAndAlerts(t *testing.T) {
	h := setupSLOs(t)
	var rules struct {
		Data struct {
			Groups []struct {
				Name, File string
				Rules      []struct {
					Name, Type, State, Health string
					Alerts                    []struct{ State string }
				}
			}
		}
	}
	_, body := call(t, h, "GET", "/prometheus/api/v1/rules", nil, "")
	if err := json.Unmarshal([]byte(body), &rules); err != nil {
		t.Fatal(err)
	}
	g := rules.Data.Groups
	// The span SLO has no Prometheus rules.
	if len(g) != 2 || g[0].Name != "vigil-slo-chat-errors-sli" || g[0].File != "slos/chat.yaml" || g[0].Rules[0].Type != "recording" {
		t.Fatalf("groups %+v", g)
	}
	alerting := g[1].Rules[0]
	if alerting.Type != "alerting" || alerting.State != "firing" || len(alerting.Alerts) != 1 || alerting.Health != "ok" {
		t.Errorf("alerting rule %+v", alerting)
	}
	if _, body := call(t, h, "GET", "/prometheus/api/v1/rules", url.Values{"type": {"record"}}, ""); strings.Contains(body, `"alerting"`) {
		t.Errorf("type=record lists alerting rules: %s", body)
	}
	code, body := call(t, h, "GET", "/prometheus/api/v1/alerts", nil, "")
	want := `{"status":"success","data":{"alerts":[{"labels":{"alertname":"` + slo.AlertName + `","long_window":"1h","service":"chat","severity":"page","short_window":"5m","slo":"chat-errors","tenant":"default"},"annotations":{},"state":"firing","activeAt":"2026-11-20T10:00:00Z","value":""}]}}`
	if code != 200 || body != want {
		t.Errorf("alerts:\n got %d %s\nwant %s", code, body, want)
	}
	if _, body := call(t, h, "GET", "/prometheus/api/v1/alerts", nil, "acme"); body != `{"status":"success","data":{"alerts":[]}}` {
		t.Errorf("acme's alerts: %s", body)
	}
}

// TestStats: a stats parameter adds the engine's timings and sample
// counts, as Prometheus does.
func TestStats(t *testing.T) {
	h := setup(t, querier.DefaultOptions)
	_, body := call(t, h, "GET", "/prometheus/api/v1/query", url.Values{"query": {`sum(rate(tokens_total[5m]))`}, "time": {unix(10 * time.Minute)}, "stats": {"all"}}, "")
	var out struct {
		Data struct {
			Stats struct {
				Timings map[string]float64
				Samples struct{ TotalQueryableSamples int64 }
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || out.Data.Stats.Samples.TotalQueryableSamples != 20 || len(out.Data.Stats.Timings) == 0 {
		t.Errorf("stats: %v %s", err, body)
	}
}
