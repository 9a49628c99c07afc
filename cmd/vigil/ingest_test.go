package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// vigilServer is a running `vigil serve` with its ports and an API token
// that may do anything in every tenant.
type vigilServer struct {
	*proc
	web, grpc, http, udp string
	token                string
}

// startServe runs `vigil serve` on free ports of its own.
func startServe(t *testing.T, storeURL string, extra ...string) *vigilServer {
	t.Helper()
	return startServeOn(t, freeAddr(t), storeURL, extra...)
}

// startServeOn is startServe with the web port at web, for a test that
// must know it before the start (an OpenID provider's redirect URL).
func startServeOn(t *testing.T, web, storeURL string, extra ...string) *vigilServer {
	t.Helper()
	v := &vigilServer{web: web, grpc: freeAddr(t), http: freeAddr(t), udp: freeUDPAddr(t)}
	// Auth is on, as by default: the test's clients send a token made
	// before the start, as a user would make one.
	dataDir := t.TempDir()
	for i, a := range extra {
		if a == "--data-dir" && i+1 < len(extra) {
			dataDir = extra[i+1]
		}
	}
	v.token = createToken(t, dataDir, storeURL, "*", "admin")
	for _, addr := range []string{v.web, v.grpc, v.http} {
		tokens.Store(addr, v.token)
	}
	args := []string{"serve", "--data-dir", dataDir, "--web.listen-address", v.web,
		"--collector.otlp-grpc-address", v.grpc, "--collector.http-address", v.http,
		"--collector.jaeger-agent-address", v.udp, "--collector.max-batch-age", "100ms"}
	if storeURL != "" {
		args = append(args, "--store", storeURL)
	}
	v.proc = start(t, nil, append(args, extra...)...)
	if code, _ := get(t, v.proc, "http://"+v.web+"/readyz"); code != 200 {
		t.Fatalf("not ready")
	}
	return v
}

func (v *vigilServer) stop(t *testing.T) {
	v.cmd.Process.Signal(syscall.SIGTERM)
	if code := v.wait(t); code != 0 {
		t.Errorf("exit %d; stderr:\n%s", code, v.stderr)
	}
}

// getJSON fetches a Vigil API path into out.
func (v *vigilServer) getJSON(t *testing.T, path string, out any) {
	t.Helper()
	v.getJSONTenant(t, "", path, out)
}

// getJSONTenant fetches a path as a tenant ("" for the default).
func (v *vigilServer) getJSONTenant(t *testing.T, org, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+v.web+path, nil)
	if org != "" {
		req.Header.Set("X-Scope-OrgID", org)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, body)
	}
}

// sendTraces emits one trace of a chat request through an SDK exporter:
// a server span and a GenAI client span under it.
func sendTraces(t *testing.T, exp sdktrace.SpanExporter, service string) trace.TraceID {
	t.Helper()
	res := resource.NewSchemaless(attribute.String("service.name", service), attribute.String("service.version", "v7"))
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSyncer(exp))
	tr := tp.Tracer("vigil-e2e")
	ctx, root := tr.Start(context.Background(), "POST /chat", trace.WithSpanKind(trace.SpanKindServer))
	_, llm := tr.Start(ctx, "chat gpt-4o", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "chat"),
		attribute.String("gen_ai.provider.name", "openai"),
		attribute.String("gen_ai.request.model", "gpt-4o"),
		attribute.Int("gen_ai.usage.input_tokens", 1000),
		attribute.Int("gen_ai.usage.output_tokens", 500),
		attribute.String("deployment.name", "canary"),
		attribute.Float64("gen_ai.request.temperature", 0.7),
		attribute.Bool("gen_ai.request.stream", true),
		attribute.StringSlice("gen_ai.request.stop_sequences", []string{"END", "STOP"}),
	))
	llm.AddEvent("first_token")
	time.Sleep(2 * time.Millisecond)
	llm.End()
	root.End()
	// WithSyncer exports as spans end; Shutdown returns the exporter's error.
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatalf("exporting to vigil: %v", err)
	}
	return root.SpanContext().TraceID()
}

type jaegerTraces struct {
	Data []struct {
		TraceID string `json:"traceID"`
		Spans   []struct {
			SpanID        string `json:"spanID"`
			OperationName string `json:"operationName"`
			Duration      int64  `json:"duration"`
			References    []struct {
				SpanID string `json:"spanID"`
			} `json:"references"`
			Tags []struct {
				Key   string `json:"key"`
				Type  string `json:"type"`
				Value any    `json:"value"`
			} `json:"tags"`
			Logs []json.RawMessage `json:"logs"`
		} `json:"spans"`
		Processes map[string]struct {
			ServiceName string `json:"serviceName"`
		} `json:"processes"`
	} `json:"data"`
}

func checkTrace(t *testing.T, v *vigilServer, id trace.TraceID, service string) {
	t.Helper()
	var got jaegerTraces
	v.getJSON(t, "/api/traces/"+id.String(), &got)
	if len(got.Data) != 1 || len(got.Data[0].Spans) != 2 {
		t.Fatalf("trace %s: %+v", id, got)
	}
	tr := got.Data[0]
	ops := []string{tr.Spans[0].OperationName, tr.Spans[1].OperationName}
	sort.Strings(ops)
	if ops[0] != "POST /chat" || ops[1] != "chat gpt-4o" {
		t.Errorf("operations %v", ops)
	}
	for _, p := range tr.Processes {
		if p.ServiceName != service {
			t.Errorf("service %q, want %q", p.ServiceName, service)
		}
	}
	for _, s := range tr.Spans {
		if s.OperationName != "chat gpt-4o" {
			continue
		}
		tags := map[string]any{}
		typed := map[string]string{}
		for _, kv := range s.Tags {
			tags[kv.Key] = kv.Value
			typed[kv.Key] = fmt.Sprintf("%s %v", kv.Type, kv.Value)
		}
		// Priced at ingest from the built-in table: 1,000 in and 500 out of gpt-4o.
		if tags["gen_ai.request.model"] != "gpt-4o" || tags["gen_ai.usage.input_tokens"] != 1000.0 || tags["span.kind"] != "client" || tags["gen_ai.usage.cost"] != "0.0075" {
			t.Errorf("llm span tags: %v", tags)
		}
		// Typed as Jaeger's OTLP translator types them.
		for k, want := range map[string]string{
			"gen_ai.request.model":          "string gpt-4o",
			"gen_ai.usage.input_tokens":     "int64 1000",
			"gen_ai.request.temperature":    "float64 0.7",
			"gen_ai.request.stream":         "bool true",
			"gen_ai.request.stop_sequences": `string ["END","STOP"]`,
		} {
			if typed[k] != want {
				t.Errorf("llm span tag %s = %q, want %q", k, typed[k], want)
			}
		}
		if len(s.Logs) != 1 || len(s.References) != 1 || s.Duration < 2000 {
			t.Errorf("llm span: %d logs, %d references, duration %dµs", len(s.Logs), len(s.References), s.Duration)
		}
	}
}

// testIngest sends with each OTel SDK exporter and reads everything back
// through the Jaeger and Prometheus APIs.
func testIngest(t *testing.T, storeURL string) {
	v := startServe(t, storeURL)
	ctx := context.Background()

	grpcExp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(v.grpc), otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithHeaders(headers(v.grpc, "X-Scope-OrgID", "acme")))
	if err != nil {
		t.Fatal(err)
	}
	httpExp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(v.http), otlptracehttp.WithInsecure(),
		otlptracehttp.WithCompression(otlptracehttp.GzipCompression), otlptracehttp.WithHeaders(headers(v.http)))
	if err != nil {
		t.Fatal(err)
	}
	grpcTrace := sendTraces(t, grpcExp, "chat-gateway")
	httpTrace := sendTraces(t, httpExp, "search-api")

	// gRPC went to tenant acme, HTTP to the default tenant.
	var services struct{ Data []string }
	v.getJSON(t, "/api/services", &services)
	if fmt.Sprint(services.Data) != "[search-api]" {
		t.Errorf("default tenant services: %v", services.Data)
	}
	checkTrace(t, v, httpTrace, "search-api")
	req, _ := http.NewRequest("GET", "http://"+v.web+"/api/traces/"+grpcTrace.String(), nil)
	req.Header.Set("X-Scope-OrgID", "acme")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("acme trace: %v %v", resp, err)
	}
	var found jaegerTraces
	v.getJSON(t, "/api/traces?service=search-api&tags="+url.QueryEscape(`{"gen_ai.request.model":"gpt-4o"}`)+"&lookback=1h", &found)
	if len(found.Data) != 1 || found.Data[0].TraceID != httpTrace.String() {
		t.Errorf("search found %d traces", len(found.Data))
	}

	// Unit economics of the priced model call (the default tenant's one).
	var unit struct {
		Groups []struct {
			Group            map[string]string
			Calls            uint64
			PerThousandCalls string `json:"cost_per_1k_calls"`
			PerMillionTokens string `json:"cost_per_1m_tokens"`
		}
	}
	now := time.Now().UTC()
	v.getJSON(t, fmt.Sprintf("/api/v1/cost/unit?from=%s&to=%s&group_by=model,deployment", now.Add(-time.Hour).Format(time.RFC3339), now.Add(time.Minute).Format(time.RFC3339)), &unit)
	if len(unit.Groups) != 1 || unit.Groups[0].Group["model"] != "gpt-4o" || unit.Groups[0].Group["deployment"] != "canary" ||
		unit.Groups[0].PerThousandCalls != "7.5" || unit.Groups[0].PerMillionTokens != "5" {
		t.Errorf("unit cost: %+v", unit.Groups)
	}

	// Metrics through the gRPC metric exporter.
	mexp, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(v.grpc), otlpmetricgrpc.WithInsecure(), otlpmetricgrpc.WithHeaders(headers(v.grpc)))
	if err != nil {
		t.Fatal(err)
	}
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader),
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "vllm"))))
	meter := mp.Meter("vigil-e2e")
	tokens, _ := meter.Int64Counter("gen_ai.client.token.usage.total")
	tokens.Add(ctx, 1500, metricAttrs("gpt-4o"))
	tokens.Add(ctx, 300, metricAttrs("llama"))
	latency, _ := meter.Float64Histogram("inference.latency", sdkmetricUnit("s"))
	for _, x := range []float64{0.02, 0.3, 0.3, 4} {
		latency.Record(ctx, x)
	}
	var rm sdkmetricData
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	if err := mexp.Export(ctx, &rm); err != nil {
		t.Fatalf("exporting metrics: %v; stderr:\n%s", err, v.stderr)
	}
	mexp.Shutdown(ctx)

	var series struct{ Data []map[string]string }
	v.getJSON(t, "/prometheus/api/v1/series?match[]="+url.QueryEscape(`gen_ai_client_token_usage_total`), &series)
	if len(series.Data) != 2 || series.Data[0]["job"] != "vllm" {
		t.Errorf("token series: %v", series.Data)
	}
	var q struct {
		Data struct {
			Result []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	v.getJSON(t, "/prometheus/api/v1/query?query="+url.QueryEscape(`gen_ai_client_token_usage_total{model="gpt-4o"}`), &q)
	if len(q.Data.Result) != 1 || q.Data.Result[0].Value[1] != "1500" {
		t.Errorf("token query: %+v", q.Data.Result)
	}
	// The SDK's default buckets are 0, 5, 10, 25, ...: 0.02, 0.3, 0.3 and 4
	// all fall at or under 5.
	v.getJSON(t, "/prometheus/api/v1/query?query="+url.QueryEscape(`inference_latency_seconds_bucket{le="5"}`), &q)
	if len(q.Data.Result) != 1 || q.Data.Result[0].Value[1] != "4" {
		t.Errorf("histogram bucket le=5: %+v", q.Data.Result)
	}
	v.getJSON(t, "/prometheus/api/v1/query?query="+url.QueryEscape(`inference_latency_seconds_count`), &q)
	if len(q.Data.Result) != 1 || q.Data.Result[0].Value[1] != "4" {
		t.Errorf("histogram count: %+v", q.Data.Result)
	}

	// Vigil's own metrics count what arrived.
	_, m := get(t, v.proc, "http://"+v.web+"/metrics")
	if !strings.Contains(m, `vigil_collector_accepted_items_total{signal="spans",tenant="acme"} 2`) {
		t.Errorf("self-metrics lack accepted spans for acme")
	}
	v.stop(t)
}

func TestIngestEmbedded(t *testing.T) { testIngest(t, "") }

func TestIngestClickHouse(t *testing.T) {
	ch := needClickHouse(t)
	db := fmt.Sprintf("vigil_ingest_%d", time.Now().UnixNano())
	testIngest(t, "clickhouse://"+ch+"/"+db)
	dropDatabase(ch, db)
}
