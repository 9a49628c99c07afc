package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	jaegerclient "github.com/uber/jaeger-client-go"
	jaegercfg "github.com/uber/jaeger-client-go/config"
)

// sendJaeger reports one trace with the archived jaeger-client-go, through
// its UDP agent transport or, with a collector endpoint, its HTTP one.
func sendJaeger(t *testing.T, service string, reporter *jaegercfg.ReporterConfig) jaegerclient.TraceID {
	t.Helper()
	reporter.BufferFlushInterval = 50 * time.Millisecond
	cfg := jaegercfg.Configuration{
		ServiceName: service,
		Sampler:     &jaegercfg.SamplerConfig{Type: jaegerclient.SamplerTypeConst, Param: 1},
		Reporter:    reporter,
		Tags:        []opentracing.Tag{{Key: "deployment.name", Value: "stable"}},
	}
	tracer, closer, err := cfg.NewTracer()
	if err != nil {
		t.Fatal(err)
	}
	root := tracer.StartSpan("rank")
	ext.SpanKindRPCServer.Set(root)
	root.SetTag("gen_ai.request.model", "ranker-v3")
	root.SetTag("gen_ai.usage.input_tokens", 321)
	root.SetTag("gen_ai.request.temperature", 0.25)
	root.SetTag("gen_ai.request.stream", false)
	root.SetTag("request.digest", []byte{0xde, 0xad, 0xbe, 0xef})
	child := tracer.StartSpan("feature-fetch", opentracing.ChildOf(root.Context()))
	child.LogKV("event", "cache miss", "key", "user:1")
	ext.Error.Set(child, true)
	child.Finish()
	root.Finish()
	if err := closer.Close(); err != nil { // flushes
		t.Fatal(err)
	}
	return root.Context().(jaegerclient.SpanContext).TraceID()
}

// TestJaegerClient sends with jaeger-client-go over UDP (agent, :6831
// style) and HTTP (collector, :14268 style), and reads the traces back
// through the Jaeger query API.
func TestJaegerClient(t *testing.T) {
	t.Run("embedded", func(t *testing.T) { testJaegerClient(t, "") })
	t.Run("clickhouse", func(t *testing.T) {
		ch := needClickHouse(t)
		db := fmt.Sprintf("vigil_jaeger_%d", time.Now().UnixNano())
		defer dropDatabase(ch, db)
		testJaegerClient(t, "clickhouse://"+ch+"/"+db)
	})
}

func testJaegerClient(t *testing.T, storeURL string) {
	jaegerHTTP := freeAddr(t)
	// jaeger-client-go sends no credential, and its agent UDP cannot carry
	// one: a trusted network sends into one tenant without a token.
	v := startServe(t, storeURL, "--collector.jaeger-http-address", jaegerHTTP, "--auth.anonymous-ingest-tenant", "default")
	udpTrace := sendJaeger(t, "ranker-udp", &jaegercfg.ReporterConfig{LocalAgentHostPort: v.udp})
	httpTrace := sendJaeger(t, "ranker-http", &jaegercfg.ReporterConfig{CollectorEndpoint: "http://" + jaegerHTTP + "/api/traces"})
	ingestTrace := sendJaeger(t, "ranker-ingest", &jaegercfg.ReporterConfig{CollectorEndpoint: "http://" + v.http + "/api/traces"})

	for _, c := range []struct {
		id      jaegerclient.TraceID
		service string
	}{{udpTrace, "ranker-udp"}, {httpTrace, "ranker-http"}, {ingestTrace, "ranker-ingest"}} {
		var got jaegerTraces
		// UDP is fire-and-forget: poll until the batch has been written.
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			got = jaegerTraces{}
			if code, _ := get(t, v.proc, "http://"+v.web+"/api/traces/"+c.id.String()); code == 200 {
				v.getJSON(t, "/api/traces/"+c.id.String(), &got)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s trace %s never arrived", c.service, c.id)
			}
		}
		tr := got.Data[0]
		if len(tr.Spans) != 2 {
			t.Fatalf("%s: %d spans", c.service, len(tr.Spans))
		}
		for _, p := range tr.Processes {
			if p.ServiceName != c.service {
				t.Errorf("service %q, want %q", p.ServiceName, c.service)
			}
		}
		tags := map[string]map[string]any{}
		typed := map[string]string{}
		for _, s := range tr.Spans {
			tags[s.OperationName] = map[string]any{}
			for _, kv := range s.Tags {
				tags[s.OperationName][kv.Key] = kv.Value
				if s.OperationName == "rank" {
					typed[kv.Key] = fmt.Sprintf("%s %v", kv.Type, kv.Value)
				}
			}
			if s.OperationName == "feature-fetch" && (len(s.References) != 1 || len(s.Logs) != 1) {
				t.Errorf("%s child: %d references, %d logs", c.service, len(s.References), len(s.Logs))
			}
		}
		if tags["rank"]["span.kind"] != "server" || tags["rank"]["gen_ai.request.model"] != "ranker-v3" || tags["feature-fetch"]["error"] != true {
			t.Errorf("%s tags: %v", c.service, tags)
		}
		// The client's typed tags keep their types (binary as base64 JSON).
		for k, want := range map[string]string{
			"gen_ai.request.model":       "string ranker-v3",
			"gen_ai.usage.input_tokens":  "int64 321",
			"gen_ai.request.temperature": "float64 0.25",
			"gen_ai.request.stream":      "bool false",
			"request.digest":             "binary 3q2+7w==",
		} {
			if typed[k] != want {
				t.Errorf("%s: rank tag %s = %q, want %q", c.service, k, typed[k], want)
			}
		}
	}
	// The promoted columns are searchable: the error tag finds the child's trace.
	var found jaegerTraces
	v.getJSON(t, "/api/traces?service=ranker-udp&tag=error:true&lookback=1h", &found)
	if len(found.Data) != 1 {
		t.Errorf("error search found %d traces", len(found.Data))
	}
	v.stop(t)
}
