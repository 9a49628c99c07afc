package otlp

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/store"
)

// memWriter keeps what it is given; err, when set, is returned instead.
type memWriter struct {
	mu      sync.Mutex
	spans   []store.Span
	samples []store.Sample
	err     error
}

func (m *memWriter) WriteSpans(_ context.Context, s []store.Span) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	// A copy: the receiver reuses the rows' buffers after WriteSpans.
	for _, sp := range s {
		sp.Resource, sp.Attributes = slices.Clone(sp.Resource), slices.Clone(sp.Attributes)
		sp.Events, sp.Links = slices.Clone(sp.Events), slices.Clone(sp.Links)
		for i := range sp.Events {
			sp.Events[i].Attributes = slices.Clone(sp.Events[i].Attributes)
		}
		for i := range sp.Links {
			sp.Links[i].Attributes = slices.Clone(sp.Links[i].Attributes)
		}
		m.spans = append(m.spans, sp)
	}
	return nil
}

func (m *memWriter) WriteMetrics(_ context.Context, _ []store.Series, s []store.Sample) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.samples = append(m.samples, s...)
	return nil
}

func newReceiver(w *memWriter) *Receiver {
	return &Receiver{Spans: w, Metrics: w, Limits: collector.BodyLimits{MaxBytes: 1 << 20, MaxDecodedBytes: 4 << 20}, Stats: collector.NewMetrics(nil)}
}

func protoBody(t testing.TB) []byte {
	b, err := ptraceotlp.NewExportRequestFromTraces(genAITraces()).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func post(h http.HandlerFunc, body []byte, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/v1/traces", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-protobuf")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h(rec, req)
	return rec
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestHTTPTraces(t *testing.T) {
	w := &memWriter{}
	r := newReceiver(w)
	body := protoBody(t)
	jsonBody, _ := ptraceotlp.NewExportRequestFromTraces(genAITraces()).MarshalJSON()

	cases := []struct {
		name   string
		body   []byte
		header map[string]string
		code   int
		substr string
	}{
		{"protobuf", body, nil, 200, ""},
		{"json", jsonBody, map[string]string{"Content-Type": "application/json"}, 200, ""},
		{"gzip", gz(body), map[string]string{"Content-Encoding": "gzip"}, 200, ""},
		{"tenant", body, map[string]string{"X-Scope-OrgID": "globex"}, 200, ""},
		{"bad tenant", body, map[string]string{"X-Scope-OrgID": "a/b"}, 400, "tenant id"},
		{"truncated protobuf", body[:len(body)/2], nil, 400, "cannot decode OTLP traces (application/x-protobuf)"},
		{"garbage json", []byte(`{"resourceSpans": [{"scopeSpans": 7}]}`), map[string]string{"Content-Type": "application/json"}, 400, "cannot decode OTLP traces (application/json)"},
		{"wrong content type", body, map[string]string{"Content-Type": "text/plain"}, 400, "unsupported Content-Type"},
		{"bad gzip", []byte("not gzip"), map[string]string{"Content-Encoding": "gzip"}, 400, "gzip"},
		{"unknown encoding", body, map[string]string{"Content-Encoding": "br"}, 400, "unsupported Content-Encoding"},
		{"gzip bomb", gz(make([]byte, 8<<20)), map[string]string{"Content-Encoding": "gzip"}, 413, "decompresses to over"},
		{"too large", make([]byte, 2<<20), nil, 413, "request too large"},
	}
	for _, c := range cases {
		rec := post(r.HandleTraces, c.body, c.header)
		if rec.Code != c.code || !strings.Contains(rec.Body.String(), c.substr) {
			t.Errorf("%s: %d %q, want %d containing %q", c.name, rec.Code, rec.Body.String(), c.code, c.substr)
		}
	}
	if len(w.spans) != 4 {
		t.Fatalf("stored %d spans, want 4 (one per accepted request)", len(w.spans))
	}
	if w.spans[3].Tenant != "globex" || w.spans[0].Tenant != store.DefaultTenant {
		t.Errorf("tenants %q %q", w.spans[0].Tenant, w.spans[3].Tenant)
	}
}

func TestHTTPPartialSuccessAndBackpressure(t *testing.T) {
	w := &memWriter{}
	r := newReceiver(w)
	td := genAITraces()
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().AppendEmpty().SetName("no ids")
	body, _ := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	rec := post(r.HandleTraces, body, nil)
	resp := ptraceotlp.NewExportResponse()
	if err := resp.UnmarshalProto(rec.Body.Bytes()); err != nil || rec.Code != 200 {
		t.Fatalf("%d %v", rec.Code, err)
	}
	if resp.PartialSuccess().RejectedSpans() != 1 || !strings.Contains(resp.PartialSuccess().ErrorMessage(), "trace id is empty") {
		t.Errorf("partial success = %d %q", resp.PartialSuccess().RejectedSpans(), resp.PartialSuccess().ErrorMessage())
	}

	for _, c := range []struct {
		err  error
		code int
	}{{collector.ErrBusy, 429}, {collector.ErrUnavailable, 503}} {
		w.err = c.err
		rec = post(r.HandleTraces, protoBody(t), nil)
		if rec.Code != c.code || rec.Header().Get("Retry-After") == "" {
			t.Errorf("writer error %v: %d, Retry-After %q", c.err, rec.Code, rec.Header().Get("Retry-After"))
		}
	}
	w.err = nil
	r.Rate = collector.NewTenantLimiter(1, 1)
	post(r.HandleTraces, protoBody(t), nil)
	if rec := post(r.HandleTraces, protoBody(t), nil); rec.Code != 429 || !strings.Contains(rec.Body.String(), "rate limit") {
		t.Errorf("over the tenant rate: %d %q", rec.Code, rec.Body.String())
	}
}

func FuzzHTTPTraces(f *testing.F) {
	f.Add(protoBody(f), false)
	js, _ := ptraceotlp.NewExportRequestFromTraces(genAITraces()).MarshalJSON()
	f.Add(js, true)
	f.Add([]byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}, false)
	f.Fuzz(func(t *testing.T, body []byte, isJSON bool) {
		w := &memWriter{}
		r := newReceiver(w)
		h := map[string]string{}
		if isJSON {
			h["Content-Type"] = "application/json"
		}
		rec := post(r.HandleTraces, body, h)
		if rec.Code != 200 && rec.Code != 400 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
		if rec.Code == 400 && len(w.spans) > 0 {
			t.Fatal("a rejected request stored spans")
		}
		io.Copy(io.Discard, rec.Body)
	})
}
