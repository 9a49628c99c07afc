package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	elasticsearch "github.com/elastic/go-elasticsearch/v8"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
)

// apiLogs is GET /api/v1/logs's answer.
type apiLogs struct {
	Logs []struct {
		Time           time.Time
		Service        string
		Severity       string
		Body           string
		TraceID        string `json:"trace_id"`
		Attributes     map[string]string
		SeverityNumber int `json:"severity_number"`
	}
	NextPageToken string `json:"next_page_token"`
}

// emitLogs sends three records through the OpenTelemetry SDK's log
// pipeline and an OTLP exporter: the second within a span.
func emitLogs(t *testing.T, exp sdklog.Exporter, service string, spanCtx trace.SpanContext) {
	t.Helper()
	res := resource.NewSchemaless(attribute.String("service.name", service))
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	logger := lp.Logger("vigil-e2e")
	for i, sev := range []otellog.Severity{otellog.SeverityInfo, otellog.SeverityError, otellog.SeverityWarn} {
		var r otellog.Record
		r.SetTimestamp(time.Now())
		r.SetSeverity(sev)
		r.SetSeverityText(sev.String())
		r.SetBody(attribute.StringValue(fmt.Sprintf("%s record %d: upstream model timeout", service, i)))
		r.AddAttributes(attribute.Int("attempt", i))
		ctx := context.Background()
		if i == 1 {
			ctx = trace.ContextWithSpanContext(ctx, spanCtx)
		}
		logger.Emit(ctx, r)
	}
	if err := lp.Shutdown(context.Background()); err != nil {
		t.Fatalf("%s: %v", service, err)
	}
}

// testLogsIngest sends logs the ways shippers do — the OTel SDK over
// OTLP/HTTP and gRPC, Elastic's Go client to the bulk API, Splunk HEC with
// a tenant's token — and finds every record through the API.
func testLogsIngest(t *testing.T, storeURL string) {
	dataDir := t.TempDir()
	// A HEC token is an ingest token: its tenant is where events go.
	hecToken := createToken(t, dataDir, storeURL, "acme", "ingest")
	v := startServe(t, storeURL, "--data-dir", dataDir)
	defer v.stop(t)
	ctx := context.Background()
	spanCtx := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{0xab, 1}, SpanID: trace.SpanID{0xcd, 1}, TraceFlags: trace.FlagsSampled})

	httpExp, err := otlploghttp.New(ctx, otlploghttp.WithEndpoint(v.http), otlploghttp.WithInsecure(), otlploghttp.WithHeaders(headers(v.http)))
	if err != nil {
		t.Fatal(err)
	}
	emitLogs(t, httpExp, "chat-http", spanCtx)
	grpcExp, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(v.grpc), otlploggrpc.WithInsecure(), otlploggrpc.WithHeaders(headers(v.grpc)))
	if err != nil {
		t.Fatal(err)
	}
	emitLogs(t, grpcExp, "chat-grpc", spanCtx)

	// Elastic's client, the token as the password as Filebeat or rsyslog
	// would send it; one document line is broken.
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{"http://" + v.http}, Username: "shipper", Password: v.token})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	bulk := `{"create":{"_index":"filebeat"}}` + "\n" +
		`{"@timestamp":"` + now + `","message":"bulk line one: upstream model timeout","log":{"level":"error"},"service":{"name":"ranker"}}` + "\n" +
		`{"create":{"_index":"filebeat"}}` + "\n" +
		`{"@timestamp": "` + now + `", "message": broken` + "\n" +
		`{"index":{"_index":"filebeat"}}` + "\n" +
		`{"@timestamp":"` + now + `","message":"bulk line three","log":{"level":"info"},"service":{"name":"ranker"}}` + "\n"
	resp, err := es.Bulk(strings.NewReader(bulk))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"errors":true`) || strings.Count(string(body), `"status":201`) != 2 ||
		!strings.Contains(string(body), "document_parsing_exception") {
		t.Fatalf("bulk: %d %s", resp.StatusCode, body)
	}
	resp, err = es.Index("app", strings.NewReader(`{"@timestamp":"`+now+`","message":"one document","service":"ranker"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("index: %d %s", resp.StatusCode, body)
	}
	if info, err := es.Info(); err != nil || info.StatusCode != 200 {
		t.Fatalf("info: %v %v", info, err)
	}

	// Splunk HEC, with the acme tenant's token.
	hec := func(path, body string) (int, string) {
		req, _ := http.NewRequest("POST", "http://"+v.http+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Splunk "+hecToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	ts := fmt.Sprintf("%d.25", time.Now().Unix())
	if code, b := hec("/services/collector/event", `{"time":`+ts+`,"event":"hec event: upstream model timeout","fields":{"service.name":"chat-gateway","severity":"error"}}{"event":{"message":"structured"}}`); code != 200 || !strings.Contains(b, `"code":0`) {
		t.Fatalf("HEC event: %d %s", code, b)
	}
	if code, b := hec("/services/collector/raw?sourcetype=syslog", "raw line a\nraw line b\n"); code != 200 {
		t.Fatalf("HEC raw: %d %s", code, b)
	}
	if code, b := hec("/services/collector/event", `{"event":"no token"}`); code != 200 {
		t.Fatalf("HEC again: %d %s", code, b)
	}
	req, _ := http.NewRequest("POST", "http://"+v.http+"/services/collector/event", strings.NewReader(`{"event":"x"}`))
	req.Header.Set("Authorization", "Splunk not-a-token")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Fatalf("a bad HEC token: %v %v", resp, err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		if strings.Contains(string(b), "not-a-token") {
			t.Errorf("the answer repeats the token: %s", b)
		}
		resp.Body.Close()
	}

	// Counts in = counts stored: 3 + 3 (OTLP) + 2 + 1 (bulk, doc) in the
	// default tenant, 5 HEC events in acme's.
	var all apiLogs
	v.getJSON(t, "/api/v1/logs?limit=1000", &all)
	if len(all.Logs) != 9 {
		t.Fatalf("default tenant has %d records, want 9: %+v", len(all.Logs), all.Logs)
	}
	var acme apiLogs
	v.getJSONTenant(t, "acme", "/api/v1/logs", &acme)
	if len(acme.Logs) != 5 {
		t.Fatalf("acme has %d records, want 5: %+v", len(acme.Logs), acme.Logs)
	}
	var found apiLogs
	v.getJSON(t, "/api/v1/logs?q=upstream+timeout&severity=error", &found)
	services := map[string]bool{}
	for _, l := range found.Logs {
		services[l.Service] = true
	}
	if len(found.Logs) != 3 || !services["chat-http"] || !services["chat-grpc"] || !services["ranker"] {
		t.Errorf("search: %+v", found.Logs)
	}
	var traced apiLogs
	v.getJSON(t, "/api/v1/logs?trace_id="+spanCtx.TraceID().String(), &traced)
	if len(traced.Logs) != 2 || traced.Logs[0].SeverityNumber != 17 {
		t.Errorf("the trace's logs: %+v", traced.Logs)
	}
	// Paging through all nine, four at a time.
	seen, target := 0, "/api/v1/logs?limit=4"
	for range 5 {
		var page apiLogs
		v.getJSON(t, target, &page)
		seen += len(page.Logs)
		if page.NextPageToken == "" {
			break
		}
		target = "/api/v1/logs?limit=4&page_token=" + url.QueryEscape(page.NextPageToken)
	}
	if seen != 9 {
		t.Errorf("paging saw %d records, want 9", seen)
	}
}

func TestLogsIngestEmbedded(t *testing.T) { testLogsIngest(t, "") }

func TestLogsIngestClickHouse(t *testing.T) {
	ch := needClickHouse(t)
	db := fmt.Sprintf("vigil_logs_%d", time.Now().UnixNano())
	testLogsIngest(t, "clickhouse://"+ch+"/"+db)
	dropDatabase(ch, db)
}
