package jaeger

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func setup(t *testing.T) http.Handler {
	st, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tid, _ := store.ParseTraceID("0af7651916cd43dd8448eb211c80319c")
	root := store.Span{
		Tenant: "default", TraceID: tid, SpanID: store.SpanID{1}, Service: "chat-gateway", Operation: "POST /chat",
		Kind: store.SpanKindServer, StartUnixNano: t0.UnixNano(), DurationNano: int64(800 * time.Millisecond),
		StatusCode: store.StatusError, StatusMessage: "upstream 503",
		Resource:   store.Attributes{{Key: "service.name", Value: "chat-gateway"}, {Key: "host.name", Value: "node-1"}},
		Attributes: store.Attributes{{Key: "http.route", Value: "/chat"}},
		Events:     []store.SpanEvent{{TimeUnixNano: t0.UnixNano() + 1000, Name: "retry", Attributes: store.Attributes{{Key: "attempt", Value: "2"}}}},
	}
	child := store.Span{
		Tenant: "default", TraceID: tid, SpanID: store.SpanID{2}, ParentSpanID: store.SpanID{1}, Service: "llm-proxy", Operation: "chat gpt-4o",
		Kind: store.SpanKindClient, StartUnixNano: t0.UnixNano() + 5000, DurationNano: int64(700 * time.Millisecond),
		Attributes: store.Attributes{{Key: "gen_ai.request.model", Value: "gpt-4o"}},
	}
	other := root
	other.Tenant = "acme"
	if err := st.WriteSpans(context.Background(), []store.Span{root, child, other}); err != nil {
		t.Fatal(err)
	}
	mux := auth.NewMux(auth.Disabled())
	(&API{Spans: st, Now: func() time.Time { return t0.Add(time.Minute) }}).Register(mux)
	return mux
}

func get(t *testing.T, h http.Handler, path string, headers ...string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s: %v: %s", path, err, rec.Body.String())
	}
	return rec.Code, body
}

func TestServicesAndOperations(t *testing.T) {
	h := setup(t)
	if code, b := get(t, h, "/api/services"); code != 200 || mustJSON(b["data"]) != `["chat-gateway","llm-proxy"]` {
		t.Errorf("services: %d %v", code, b)
	}
	if code, b := get(t, h, "/api/services/chat-gateway/operations"); code != 200 || mustJSON(b["data"]) != `["POST /chat"]` {
		t.Errorf("operations: %d %v", code, b)
	}
	if code, b := get(t, h, "/api/operations?service=llm-proxy&spanKind=client"); code != 200 || mustJSON(b["data"]) != `[{"name":"chat gpt-4o","spanKind":"client"}]` {
		t.Errorf("operations with kind: %d %v", code, b)
	}
	if code, _ := get(t, h, "/api/operations"); code != 400 {
		t.Errorf("operations without service: %d", code)
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestTraceByID(t *testing.T) {
	h := setup(t)
	code, b := get(t, h, "/api/traces/0af7651916cd43dd8448eb211c80319c")
	if code != 200 {
		t.Fatalf("%d %v", code, b)
	}
	tr := b["data"].([]any)[0].(map[string]any)
	spans := tr["spans"].([]any)
	if tr["traceID"] != "0af7651916cd43dd8448eb211c80319c" || len(spans) != 2 || len(tr["processes"].(map[string]any)) != 2 {
		t.Fatalf("trace: %s", mustJSON(tr))
	}
	root, child := spans[0].(map[string]any), spans[1].(map[string]any)
	js := mustJSON(root)
	for _, want := range []string{
		fmt.Sprintf(`"startTime":%d`, t0.UnixMicro()), `"duration":800000`, `"operationName":"POST /chat"`,
		`{"key":"span.kind","type":"string","value":"server"}`, `{"key":"error","type":"bool","value":true}`,
		`{"key":"otel.status_description","type":"string","value":"upstream 503"}`,
		fmt.Sprintf(`"logs":[{"fields":[{"key":"event","type":"string","value":"retry"},{"key":"attempt","type":"string","value":"2"}],"timestamp":%d}]`, t0.UnixMicro()+1),
	} {
		if !strings.Contains(js, want) {
			t.Errorf("root span lacks %s:\n%s", want, js)
		}
	}
	if mustJSON(child["references"]) != `[{"refType":"CHILD_OF","spanID":"0100000000000000","traceID":"0af7651916cd43dd8448eb211c80319c"}]` {
		t.Errorf("child references: %s", mustJSON(child["references"]))
	}
	if code, b := get(t, h, "/api/traces/00000000000000000000000000000001"); code != 404 || !strings.Contains(mustJSON(b["errors"]), "not found") {
		t.Errorf("missing trace: %d %v", code, b)
	}
	if code, _ := get(t, h, "/api/traces/not-hex"); code != 400 {
		t.Errorf("bad id: %d", code)
	}
	// Another tenant sees its own copy only.
	if code, b := get(t, h, "/api/traces/0af7651916cd43dd8448eb211c80319c", "X-Scope-OrgID", "acme"); code != 200 || len(b["data"].([]any)[0].(map[string]any)["spans"].([]any)) != 1 {
		t.Errorf("tenant acme: %d %v", code, b)
	}
}

func TestFindTraces(t *testing.T) {
	h := setup(t)
	start, end := t0.Add(-time.Minute).UnixMicro(), t0.Add(time.Minute).UnixMicro()
	cases := []struct {
		query string
		n     int
	}{
		{"service=chat-gateway", 1},
		{"service=chat-gateway&tags=" + url.QueryEscape(`{"error":"true"}`), 1},
		{"service=llm-proxy&tags=" + url.QueryEscape(`{"gen_ai.request.model":"gpt-4o"}`), 1},
		{"service=llm-proxy&tag=gen_ai.request.model:gpt-3", 0},
		{"service=chat-gateway&minDuration=900ms", 0},
		{"service=chat-gateway&maxDuration=1s&minDuration=500ms", 1},
		{"service=chat-gateway&operation=GET", 0},
		{"service=chat-gateway&lookback=1s", 0},
		{"service=chat-gateway&start=" + itoa(start) + "&end=" + itoa(end) + "&limit=5", 1},
		{"traceID=0af7651916cd43dd8448eb211c80319c", 1},
	}
	for _, c := range cases {
		code, b := get(t, h, "/api/traces?"+c.query)
		if code != 200 || len(b["data"].([]any)) != c.n {
			t.Errorf("%s: %d, %d traces, want %d: %v", c.query, code, len(b["data"].([]any)), c.n, b["errors"])
		}
	}
	for _, bad := range []string{"", "service=x&minDuration=fast", "service=x&tags=notjson", "service=x&limit=-1", "service=x&start=yesterday", "service=x&tag=nocolon"} {
		if code, _ := get(t, h, "/api/traces?"+bad); code != 400 {
			t.Errorf("%q: %d, want 400", bad, code)
		}
	}
}

func itoa(n int64) string    { return jsonNum(n) }
func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestTypedTags checks each stored type comes out as Jaeger's query
// service writes it after its OTLP translator, through the API.
func TestTypedTags(t *testing.T) {
	st, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tid := store.TraceID{15: 7}
	sp := store.Span{
		Tenant: "default", TraceID: tid, SpanID: store.SpanID{7}, Service: "chat", Operation: "op",
		StartUnixNano: t0.UnixNano(), DurationNano: 1000,
		Resource: store.Attributes{{Key: "host.cpu.count", Value: "64", Type: store.AttrInt}},
		Attributes: store.Attributes{
			{Key: "s", Value: "text"},
			{Key: "i", Value: "-42", Type: store.AttrInt},
			{Key: "big", Value: "9007199254740993", Type: store.AttrInt},
			{Key: "d", Value: "0.25", Type: store.AttrDouble},
			{Key: "nan", Value: "NaN", Type: store.AttrDouble},
			{Key: "inf", Value: "-Infinity", Type: store.AttrDouble},
			{Key: "b", Value: "true", Type: store.AttrBool},
			{Key: "bytes", Value: "3q2+7w==", Type: store.AttrBytes},
			{Key: "arr", Value: `["a",1]`, Type: store.AttrArray},
			{Key: "map", Value: `{"k":"v"}`, Type: store.AttrMap},
			{Key: "bad int", Value: "forty", Type: store.AttrInt},
		},
		Events: []store.SpanEvent{{TimeUnixNano: t0.UnixNano(), Name: "e", Attributes: store.Attributes{{Key: "n", Value: "3", Type: store.AttrInt}}}},
	}
	if err := st.WriteSpans(context.Background(), []store.Span{sp}); err != nil {
		t.Fatal(err)
	}
	mux := auth.NewMux(auth.Disabled())
	(&API{Spans: st, Now: func() time.Time { return t0.Add(time.Minute) }}).Register(mux)
	code, b := get(t, mux, "/api/traces/"+tid.String())
	if code != 200 {
		t.Fatalf("%d %v", code, b)
	}
	tr := b["data"].([]any)[0].(map[string]any)
	js := mustJSON(tr)
	for _, want := range []string{
		`{"key":"s","type":"string","value":"text"}`,
		`{"key":"i","type":"int64","value":-42}`,
		`{"key":"big","type":"int64","value":"9007199254740993"}`,
		`{"key":"d","type":"float64","value":0.25}`,
		`{"key":"nan","type":"float64","value":"NaN"}`,
		`{"key":"inf","type":"float64","value":"-Infinity"}`,
		`{"key":"b","type":"bool","value":true}`,
		`{"key":"bytes","type":"binary","value":"3q2+7w=="}`,
		`{"key":"arr","type":"string","value":"[\"a\",1]"}`,
		`{"key":"map","type":"string","value":"{\"k\":\"v\"}"}`,
		`{"key":"bad int","type":"string","value":"forty"}`,
		`{"key":"n","type":"int64","value":3}`,
		`{"key":"host.cpu.count","type":"int64","value":64}`,
	} {
		if !strings.Contains(js, want) {
			t.Errorf("trace lacks %s:\n%s", want, js)
		}
	}
}
