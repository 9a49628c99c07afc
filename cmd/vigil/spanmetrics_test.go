package main

import (
	"context"
	"net/url"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
)

// promValue asks `vigil serve` an instant PromQL query as tenant org and
// returns the value of its single result, polling until there is one.
func promValue(t *testing.T, v *vigilServer, org, query string) float64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var q struct {
			Data struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		v.getJSONTenant(t, org, "/prometheus/api/v1/query?query="+url.QueryEscape(query), &q)
		if len(q.Data.Result) == 1 {
			s, _ := q.Data.Result[0].Value[1].(string)
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return f
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no single result: %+v; stderr:\n%s", query, q, v.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitValue polls an instant query until its single result is want.
func waitValue(t *testing.T, v *vigilServer, org, query string, want float64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for got := promValue(t, v, org, query); got != want; got = promValue(t, v, org, query) {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v, want %v; stderr:\n%s", query, got, want, v.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// exemplarLeadsToTrace follows Grafana's exemplar link: the trace id of
// an exemplar of the latency series is a trace the Jaeger API returns.
func exemplarLeadsToTrace(t *testing.T, v *vigilServer) {
	t.Helper()
	var ex struct {
		Data []struct {
			SeriesLabels map[string]string `json:"seriesLabels"`
			Exemplars    []struct {
				Labels map[string]string `json:"labels"`
			} `json:"exemplars"`
		} `json:"data"`
	}
	now := time.Now()
	v.getJSONTenant(t, "acme", "/prometheus/api/v1/query_exemplars?"+url.Values{
		"query": {`histogram_quantile(0.99, sum by (le, service) (rate(vigil_span_duration_seconds_bucket{service="chat-gw"}[5m])))`},
		"start": {strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)}, "end": {strconv.FormatInt(now.Add(time.Minute).Unix(), 10)}}.Encode(), &ex)
	if len(ex.Data) == 0 || len(ex.Data[0].Exemplars) == 0 {
		t.Fatalf("no exemplars: %+v", ex)
	}
	id := ex.Data[0].Exemplars[0].Labels["trace_id"]
	var tr jaegerTraces
	v.getJSONTenant(t, "acme", "/api/traces/"+id, &tr)
	if len(tr.Data) != 1 || tr.Data[0].TraceID != id {
		t.Errorf("trace %s of the exemplar: %+v", id, tr)
	}
}

// TestSpanMetrics sends traces through the OpenTelemetry SDK and reads the
// series counted from them with PromQL; after a restart the counters go
// on from where they were, with no reset.
func TestSpanMetrics(t *testing.T) {
	dataDir := t.TempDir()
	flags := []string{"--data-dir", dataDir, "--collector.instance", "c1", "--collector.span-metrics-interval", "200ms"}
	send := func(v *vigilServer) {
		for range 2 { // sendTraces shuts its exporter down
			exp, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(v.grpc), otlptracegrpc.WithInsecure(),
				otlptracegrpc.WithHeaders(headers(v.grpc, "X-Scope-OrgID", "acme")))
			if err != nil {
				t.Fatal(err)
			}
			sendTraces(t, exp, "chat-gw")
		}
	}
	calls := `sum(vigil_span_calls_total{service="chat-gw",operation="chat gpt-4o",model="gpt-4o",deployment="canary",status="unset"})`
	v := startServe(t, "", flags...)
	send(v)
	waitValue(t, v, "acme", calls, 2)
	if got := promValue(t, v, "acme", `sum(vigil_genai_tokens_total{type="input"})`); got != 2000 {
		t.Errorf("input tokens %v, want 2000", got)
	}
	waitValue(t, v, "acme", `sum(vigil_span_duration_seconds_count{service="chat-gw"})`, 4) // server and client spans
	if got := promValue(t, v, "acme", `count(vigil_span_duration_seconds_bucket{operation="POST /chat"})`); got != 18 {
		t.Errorf("%v buckets, want 18 (17 bounds and +Inf)", got)
	}
	exemplarLeadsToTrace(t, v)
	v.stop(t)

	v = startServe(t, "", flags...)
	send(v)
	waitValue(t, v, "acme", calls, 4)
	if got := promValue(t, v, "acme", `sum(resets(vigil_span_calls_total[10m]))`); got != 0 {
		t.Errorf("%v counter resets across the restart, want 0", got)
	}
}
