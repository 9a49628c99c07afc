package otlp

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/store"
)

func genAITraces() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	res := rs.Resource().Attributes()
	res.PutStr("service.name", "chat-gateway")
	res.PutStr("service.version", "v42")
	res.PutStr("deployment.environment.name", "prod")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("openai")
	ss.Scope().SetVersion("1.0")
	sp := ss.Spans().AppendEmpty()
	sp.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	sp.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
	sp.SetParentSpanID(pcommon.SpanID{8, 7, 6, 5, 4, 3, 2, 1})
	sp.SetName("chat gpt-4o")
	sp.SetKind(ptrace.SpanKindClient)
	sp.SetStartTimestamp(1_700_000_000_000_000_000)
	sp.SetEndTimestamp(1_700_000_000_800_000_123)
	sp.Status().SetCode(ptrace.StatusCodeError)
	sp.Status().SetMessage("rate limited")
	a := sp.Attributes()
	a.PutStr("gen_ai.request.model", "gpt-4o")
	a.PutStr("gen_ai.response.model", "gpt-4o-2024-08-06")
	a.PutStr("gen_ai.system", "openai")
	a.PutStr("gen_ai.operation.name", "chat")
	a.PutInt("gen_ai.usage.input_tokens", 1000)
	a.PutInt("gen_ai.usage.output_tokens", 500)
	a.PutStr("gen_ai.usage.cache_read.input_tokens", "200")
	a.PutDouble("temperature", 0.5)
	a.PutBool("stream", true)
	a.PutStr("deployment.name", "canary")
	a.PutEmptyBytes("digest").FromRaw([]byte{0xde, 0xad})
	arr := a.PutEmptySlice("stop")
	arr.AppendEmpty().SetStr("END")
	arr.AppendEmpty().SetInt(3)
	a.PutEmptyMap("meta").PutStr("team", "ml")
	a.PutEmpty("nothing")
	res.PutInt("host.cpu.count", 64)
	ev := sp.Events().AppendEmpty()
	ev.SetName("first_token")
	ev.SetTimestamp(1_700_000_000_100_000_000)
	ev.Attributes().PutInt("index", 0)
	ln := sp.Links().AppendEmpty()
	ln.SetTraceID(pcommon.TraceID{9})
	ln.SetSpanID(pcommon.SpanID{9})
	return td
}

func TestSpansMapping(t *testing.T) {
	spans, rejected, msg := Spans("acme", genAITraces(), collector.Mapping{})
	if rejected != 0 || len(spans) != 1 {
		t.Fatalf("rejected %d (%s), got %d spans", rejected, msg, len(spans))
	}
	s := spans[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"tenant", s.Tenant, "acme"},
		{"trace id", s.TraceID.String(), "0102030405060708090a0b0c0d0e0f10"},
		{"parent", s.ParentSpanID.String(), "0807060504030201"},
		{"service", s.Service, "chat-gateway"},
		{"operation", s.Operation, "chat gpt-4o"},
		{"kind", s.Kind, store.SpanKindClient},
		{"start", s.StartUnixNano, int64(1_700_000_000_000_000_000)},
		{"duration", s.DurationNano, int64(800_000_123)},
		{"status", s.StatusCode, store.StatusError},
		{"message", s.StatusMessage, "rate limited"},
		{"scope", s.ScopeName + "@" + s.ScopeVersion, "openai@1.0"},
		{"model prefers the response model", s.Model, "gpt-4o-2024-08-06"},
		{"provider from gen_ai.system", s.Provider, "openai"},
		{"operation type", s.OperationType, "chat"},
		{"input", s.InputTokens, int64(1000)},
		{"output", s.OutputTokens, int64(500)},
		{"cached (string value)", s.CachedTokens, int64(200)},
		{"model version from service.version", s.ModelVersion, "v42"},
		{"deployment attribute wins over the environment", s.Deployment, "canary"},
		{"double attribute", mustGet(s.Attributes, "temperature"), "0.5"},
		{"bool attribute", mustGet(s.Attributes, "stream"), "true"},
		{"resource", mustGet(s.Resource, "deployment.environment.name"), "prod"},
		{"string type", typeOf(s.Attributes, "gen_ai.system"), store.AttrString},
		{"int type", typeOf(s.Attributes, "gen_ai.usage.input_tokens"), store.AttrInt},
		{"double type", typeOf(s.Attributes, "temperature"), store.AttrDouble},
		{"bool type", typeOf(s.Attributes, "stream"), store.AttrBool},
		{"bytes", mustGet(s.Attributes, "digest") + " " + typeOf(s.Attributes, "digest").String(), "3q0= bytes"},
		{"array", mustGet(s.Attributes, "stop") + " " + typeOf(s.Attributes, "stop").String(), `["END",3] array`},
		{"map", mustGet(s.Attributes, "meta") + " " + typeOf(s.Attributes, "meta").String(), `{"team":"ml"} map`},
		{"empty value is an empty string", mustGet(s.Attributes, "nothing") + typeOf(s.Attributes, "nothing").String(), "string"},
		{"resource int type", typeOf(s.Resource, "host.cpu.count"), store.AttrInt},
		{"event attribute type", typeOf(s.Events[0].Attributes, "index"), store.AttrInt},
		{"event", s.Events[0].Name + "@" + mustGet(s.Events[0].Attributes, "index"), "first_token@0"},
		{"link", s.Links[0].TraceID.String()[:2], "09"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func mustGet(a store.Attributes, k string) string { v, _ := a.Get(k); return v }

// typeOf is the type of the first attribute with key k; -1 when there is none.
func typeOf(a store.Attributes, k string) store.AttrType {
	for _, kv := range a {
		if kv.Key == k {
			return kv.Type
		}
	}
	return -1
}

func TestSpansRejectInvalid(t *testing.T) {
	td := genAITraces()
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	noTrace := spans.AppendEmpty()
	noTrace.SetName("no trace id")
	backwards := spans.AppendEmpty()
	genAITraces().ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).CopyTo(backwards)
	backwards.SetEndTimestamp(1)
	// No service.name: the conventions' unknown_service.
	rs := td.ResourceSpans().AppendEmpty()
	genAITraces().ResourceSpans().At(0).ScopeSpans().CopyTo(rs.ScopeSpans())

	got, rejected, msg := Spans("acme", td, collector.Mapping{DeploymentAttribute: "absent"})
	if len(got) != 2 || rejected != 2 || msg != `span "no trace id": trace id is empty` {
		t.Fatalf("got %d spans, rejected %d: %q", len(got), rejected, msg)
	}
	if got[1].Service != "unknown_service" || got[0].Deployment != "prod" {
		t.Errorf("service %q, deployment %q", got[1].Service, got[0].Deployment)
	}
}
