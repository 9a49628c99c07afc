package jaeger

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/jaegertracing/jaeger-idl/thrift-gen/agent"
	"github.com/jaegertracing/jaeger-idl/thrift-gen/jaeger"

	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/store"
)

func ptr[T any](v T) *T { return &v }

func testBatch() *jaeger.Batch {
	return &jaeger.Batch{
		Process: &jaeger.Process{ServiceName: "legacy-ranker", Tags: []*jaeger.Tag{
			{Key: "hostname", VType: jaeger.TagType_STRING, VStr: ptr("node-7")},
			{Key: "jaeger.version", VType: jaeger.TagType_STRING, VStr: ptr("Go-2.30.0")},
		}},
		Spans: []*jaeger.Span{
			{
				TraceIdHigh: 0x0102030405060708, TraceIdLow: 0x090a0b0c0d0e0f10, SpanId: 7, ParentSpanId: 0,
				OperationName: "rank", Flags: 1, StartTime: 1_700_000_000_000_000, Duration: 1500,
				Tags: []*jaeger.Tag{
					{Key: "span.kind", VType: jaeger.TagType_STRING, VStr: ptr("server")},
					{Key: "error", VType: jaeger.TagType_BOOL, VBool: ptr(true)},
					{Key: "gen_ai.request.model", VType: jaeger.TagType_STRING, VStr: ptr("ranker-v3")},
					{Key: "gen_ai.usage.input_tokens", VType: jaeger.TagType_LONG, VLong: ptr(int64(321))},
					{Key: "score", VType: jaeger.TagType_DOUBLE, VDouble: ptr(0.25)},
					{Key: "blob", VType: jaeger.TagType_BINARY, VBinary: []byte{1, 2}},
				},
				Logs: []*jaeger.Log{{Timestamp: 1_700_000_000_000_500, Fields: []*jaeger.Tag{
					{Key: "event", VType: jaeger.TagType_STRING, VStr: ptr("cache miss")},
					{Key: "key", VType: jaeger.TagType_STRING, VStr: ptr("user:1")},
				}}},
			},
			{
				TraceIdHigh: 0x0102030405060708, TraceIdLow: 0x090a0b0c0d0e0f10, SpanId: 8, OperationName: "fetch",
				StartTime: 1_700_000_000_000_100, Duration: 900,
				References: []*jaeger.SpanRef{
					{RefType: jaeger.SpanRefType_CHILD_OF, TraceIdHigh: 0x0102030405060708, TraceIdLow: 0x090a0b0c0d0e0f10, SpanId: 7},
					{RefType: jaeger.SpanRefType_FOLLOWS_FROM, TraceIdLow: 99, SpanId: 98},
				},
			},
			{OperationName: "no ids"},
		},
	}
}

func TestSpansMapping(t *testing.T) {
	spans, rejected, msg := Spans("acme", testBatch(), collector.Mapping{})
	if len(spans) != 2 || rejected != 1 || !strings.Contains(msg, "id is zero") {
		t.Fatalf("%d spans, %d rejected: %s", len(spans), rejected, msg)
	}
	s := spans[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"trace", s.TraceID.String(), "0102030405060708090a0b0c0d0e0f10"},
		{"span", s.SpanID.String(), "0000000000000007"},
		{"service", s.Service, "legacy-ranker"},
		{"start ns", s.StartUnixNano, int64(1_700_000_000_000_000_000)},
		{"duration ns", s.DurationNano, int64(1_500_000)},
		{"kind", s.Kind, store.SpanKindServer},
		{"error", s.StatusCode, store.StatusError},
		{"model", s.Model, "ranker-v3"},
		{"tokens", s.InputTokens, int64(321)},
		{"attributes without kind and error", len(s.Attributes), 4},
		{"double", mustGet(s.Attributes, "score"), "0.25"},
		{"binary", mustGet(s.Attributes, "blob"), "AQI="},
		{"types", typeOf(s.Attributes, "score").String() + " " + typeOf(s.Attributes, "blob").String() + " " + typeOf(s.Attributes, "gen_ai.usage.input_tokens").String() + " " + typeOf(s.Attributes, "gen_ai.request.model").String(), "double bytes int string"},
		{"resource", mustGet(s.Resource, "hostname"), "node-7"},
		{"event", s.Events[0].Name + " " + mustGet(s.Events[0].Attributes, "key"), "cache miss user:1"},
		{"child parent from reference", spans[1].ParentSpanID.String(), "0000000000000007"},
		{"follows-from link", len(spans[1].Links), 1},
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

type memWriter struct {
	mu    sync.Mutex
	spans []store.Span
}

func (m *memWriter) WriteSpans(_ context.Context, s []store.Span) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.spans = append(m.spans, s...)
	return nil
}

func (m *memWriter) count() int { m.mu.Lock(); defer m.mu.Unlock(); return len(m.spans) }

func newReceiver(w *memWriter) *Receiver {
	return &Receiver{Spans: w, Limits: collector.BodyLimits{MaxBytes: 1 << 20, MaxDecodedBytes: 4 << 20}, Stats: collector.NewMetrics(nil), Logger: slog.New(slog.DiscardHandler)}
}

func binaryBatch(t testing.TB) []byte {
	b, err := thrift.NewTSerializer().Write(context.Background(), testBatch())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHTTP(t *testing.T) {
	compact := thrift.NewTSerializer()
	compact.Protocol = thrift.NewTCompactProtocolConf(compact.Transport, nil)
	cb, _ := compact.Write(context.Background(), testBatch())
	cases := []struct {
		name, ct string
		body     []byte
		code     int
		substr   string
	}{
		{"binary", "application/x-thrift", binaryBatch(t), 202, ""},
		{"compact", "application/vnd.apache.thrift.compact", cb, 202, ""},
		{"truncated", "application/x-thrift", binaryBatch(t)[:40], 400, "cannot decode Jaeger Thrift batch"},
		{"json", "application/json", []byte("{}"), 400, "unsupported Content-Type"},
	}
	for _, c := range cases {
		w := &memWriter{}
		req := httptest.NewRequest("POST", "/api/traces", bytes.NewReader(c.body))
		req.Header.Set("Content-Type", c.ct)
		rec := httptest.NewRecorder()
		newReceiver(w).ServeHTTP(rec, req)
		if rec.Code != c.code || !strings.Contains(rec.Body.String(), c.substr) {
			t.Errorf("%s: %d %q", c.name, rec.Code, rec.Body.String())
		}
		if c.code == 202 && w.count() != 2 {
			t.Errorf("%s: stored %d spans", c.name, w.count())
		}
	}
}

// agentDatagram encodes an emitBatch call the way jaeger-client-go's UDP
// transport does.
func agentDatagram(t testing.TB) []byte {
	buf := thrift.NewTMemoryBuffer()
	client := agent.NewAgentClientFactory(buf, thrift.NewTCompactProtocolFactoryConf(nil))
	if err := client.EmitBatch(context.Background(), testBatch()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeAgentMessage(t *testing.T) {
	b, err := decodeAgentMessage(agentDatagram(t))
	if err != nil || len(b.Spans) != 3 || b.Process.ServiceName != "legacy-ranker" {
		t.Fatalf("%v %v", b, err)
	}
	for _, bad := range [][]byte{nil, {0x82}, agentDatagram(t)[:20]} {
		if _, err := decodeAgentMessage(bad); err == nil {
			t.Errorf("decoded %x", bad)
		}
	}
}

func FuzzDecodeAgentMessage(f *testing.F) {
	f.Add(agentDatagram(f))
	f.Add([]byte{0x82, 0x81, 0x01, 0x09, 'e', 'm', 'i', 't', 'B', 'a', 't', 'c', 'h', 0x1c, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		if batch, err := decodeAgentMessage(b); err == nil {
			Spans("acme", batch, collector.Mapping{})
		}
	})
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add(binaryBatch(f), false)
	f.Fuzz(func(t *testing.T, b []byte, compact bool) {
		if batch, err := decodeBatch(b, compact); err == nil {
			Spans("acme", batch, collector.Mapping{})
		}
	})
}
