package elastic

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/store"
)

type memLogs struct {
	mu   sync.Mutex
	logs []store.LogRecord
	err  error
}

func (m *memLogs) WriteLogs(_ context.Context, l []store.LogRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.logs = append(m.logs, l...)
	return nil
}

var now = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func newReceiver(m *memLogs) (*Receiver, http.Handler) {
	r := &Receiver{Logs: m, Limits: collector.BodyLimits{MaxBytes: 1 << 20, MaxDecodedBytes: 4 << 20}, Stats: collector.NewMetrics(nil), Now: func() time.Time { return now }}
	mux := http.NewServeMux()
	for _, rt := range r.Routes() {
		mux.Handle(rt.String(), rt.Handler)
	}
	return r, mux
}

func do(h http.Handler, method, path string, body []byte, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

const mixedBulk = `{"create":{"_index":"filebeat-8"}}
{"@timestamp":"2026-12-01T09:59:58.123456789Z","message":"GET /chat 200","log":{"level":"info"},"service":{"name":"chat-gateway"},"host":{"name":"node-1"},"trace":{"id":"0102030405060708090a0b0c0d0e0f10"},"span":{"id":"0102030405060708"},"http":{"status":200},"tags":["a","b"]}
{"index":{"_index":"logs","_id":"doc-7"}}
{"message": broken json
{"index":{}}
{"message":"no index in the action: the URL's"}
this is not an action
{"message":"the document of the bad action"}
{"delete":{"_index":"logs","_id":"x"}}
{"index":{"_index":"logs"}}
{"timestamp":1764583200000,"msg":"epoch millis","level":"ERROR","app":"ranker"}
{"create":{"_index":"logs"}}
{"@timestamp":"yesterday","message":"bad date"}
{"index":{"_index":"logs"}}
{"rsyslog":"no message field","severity":"err","programname":"sshd"}
`

func TestBulkItemsAndNeighbours(t *testing.T) {
	m := &memLogs{}
	_, h := newReceiver(m)
	rec := do(h, "POST", "/_bulk", []byte(mixedBulk), "Content-Type", "application/x-ndjson", "X-Scope-OrgID", "acme")
	if rec.Code != 200 || rec.Header().Get("X-Elastic-Product") != "Elasticsearch" {
		t.Fatalf("status %d, headers %v: %s", rec.Code, rec.Header(), rec.Body)
	}
	var resp struct {
		Errors bool
		Items  []map[string]struct {
			Index  string `json:"_index"`
			ID     string `json:"_id"`
			Status int
			Result string
			Error  *struct{ Type, Reason string }
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	type want struct {
		action string
		status int
		reason string
	}
	wants := []want{
		{"create", 201, ""},
		{"index", 400, "line [4]: cannot parse the document"},
		{"index", 400, "index is missing"},
		{"index", 400, "malformed action/metadata line [7]"},
		{"delete", 400, "append-only"},
		{"index", 201, ""},
		{"create", 400, `cannot parse the time "yesterday"`},
		{"index", 201, ""},
	}
	if !resp.Errors || len(resp.Items) != len(wants) {
		t.Fatalf("errors=%v, %d items, want %d: %s", resp.Errors, len(resp.Items), len(wants), rec.Body)
	}
	for i, w := range wants {
		it, ok := resp.Items[i][w.action]
		if !ok || it.Status != w.status {
			t.Errorf("item %d = %+v, want %s %d", i, resp.Items[i], w.action, w.status)
			continue
		}
		if w.reason == "" && (it.Result != "created" || it.ID == "" || it.Error != nil) {
			t.Errorf("item %d = %+v, want created", i, it)
		}
		if w.reason != "" && (it.Error == nil || !strings.Contains(it.Error.Reason, w.reason)) {
			t.Errorf("item %d error = %+v, want %q", i, it.Error, w.reason)
		}
	}
	if len(m.logs) != 3 {
		t.Fatalf("stored %d records, want 3", len(m.logs))
	}
	fb := m.logs[0]
	if fb.Tenant != "acme" || fb.Body != "GET /chat 200" || fb.Service != "chat-gateway" || fb.Severity != store.SeverityInfo ||
		fb.TimeUnixNano != time.Date(2026, 12, 1, 9, 59, 58, 123456789, time.UTC).UnixNano() || fb.TraceID.String() != "0102030405060708090a0b0c0d0e0f10" ||
		fb.SpanID.String() != "0102030405060708" || fb.ObservedUnixNano != now.UnixNano() {
		t.Errorf("Filebeat record = %+v", fb)
	}
	if v, _ := fb.Resource.Get("host.name"); v != "node-1" {
		t.Errorf("resource = %v", fb.Resource)
	}
	if v, _ := fb.Attributes.Get("http.status"); v != "200" {
		t.Errorf("attributes = %v", fb.Attributes)
	}
	if v, _ := fb.Attributes.Get("tags"); v != `["a","b"]` {
		t.Errorf("array attribute = %q", v)
	}
	if v, _ := fb.Attributes.Get("elasticsearch.index"); v != "filebeat-8" {
		t.Errorf("index attribute = %q", v)
	}
	ms := m.logs[1]
	if ms.Body != "epoch millis" || ms.Severity != store.SeverityError || ms.Service != "ranker" || ms.TimeUnixNano != 1764583200000*int64(time.Millisecond) {
		t.Errorf("epoch record = %+v", ms)
	}
	rs := m.logs[2]
	if rs.Body != `{"rsyslog":"no message field","severity":"err","programname":"sshd"}` || rs.Service != "sshd" || rs.Severity != store.SeverityError || rs.TimeUnixNano != now.UnixNano() {
		t.Errorf("record without a message = %+v", rs)
	}
}

func TestBulkIndexFromURLAndGzip(t *testing.T) {
	m := &memLogs{}
	_, h := newReceiver(m)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("{\"index\":{}}\n{\"message\":\"one\"}\n{\"index\":{}}\r\n{\"message\":\"two\"}"))
	zw.Close()
	rec := do(h, "POST", "/app-logs/_bulk", buf.Bytes(), "Content-Encoding", "gzip")
	if rec.Code != 200 || strings.Contains(rec.Body.String(), `"errors":true`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if len(m.logs) != 2 || m.logs[1].Body != "two" {
		t.Fatalf("stored %+v", m.logs)
	}
	if v, _ := m.logs[0].Attributes.Get("elasticsearch.index"); v != "app-logs" {
		t.Errorf("index = %q", v)
	}
}

func TestBulkRequestErrors(t *testing.T) {
	m := &memLogs{}
	_, h := newReceiver(m)
	for _, c := range []struct {
		body string
		code int
		want string
	}{
		{"", 400, "holds no action"},
		{"\n\n", 400, "holds no action"},
	} {
		rec := do(h, "POST", "/_bulk", []byte(c.body))
		if rec.Code != c.code || !strings.Contains(rec.Body.String(), c.want) || !strings.Contains(rec.Body.String(), `"root_cause"`) {
			t.Errorf("body %q: %d %s", c.body, rec.Code, rec.Body)
		}
	}
	// The store's pipeline is full: the whole request is retried.
	m.err = collector.ErrBusy
	rec := do(h, "POST", "/_bulk", []byte("{\"index\":{\"_index\":\"x\"}}\n{\"message\":\"m\"}\n"))
	if rec.Code != 429 || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "es_rejected_execution_exception") {
		t.Errorf("busy: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	m.err = errors.Join(collector.ErrUnavailable)
	if rec := do(h, "POST", "/_bulk", []byte("{\"index\":{\"_index\":\"x\"}}\n{\"message\":\"m\"}\n")); rec.Code != 503 {
		t.Errorf("unavailable: %d", rec.Code)
	}
}

func TestDocAndInfo(t *testing.T) {
	m := &memLogs{}
	_, h := newReceiver(m)
	rec := do(h, "PUT", "/app/_doc/abc", []byte(`{"message":"one doc","level":"warn"}`))
	if rec.Code != 201 || !strings.Contains(rec.Body.String(), `"_id":"abc"`) || !strings.Contains(rec.Body.String(), `"result":"created"`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if len(m.logs) != 1 || m.logs[0].Severity != store.SeverityWarn {
		t.Fatalf("stored %+v", m.logs)
	}
	if rec := do(h, "POST", "/app/_doc", []byte(`[1,2]`)); rec.Code != 400 || !strings.Contains(rec.Body.String(), "JSON object") {
		t.Errorf("array document: %d %s", rec.Code, rec.Body)
	}
	rec = do(h, "GET", "/", nil)
	var i struct{ Version struct{ Number string } }
	if json.Unmarshal(rec.Body.Bytes(), &i); rec.Code != 200 || i.Version.Number != Version {
		t.Errorf("GET / = %d %s", rec.Code, rec.Body)
	}
}

func FuzzBulk(f *testing.F) {
	f.Add([]byte(mixedBulk))
	f.Add([]byte("{\"index\":{}}\n"))
	f.Add([]byte("{\"update\":{\"_index\":1}}\n{}\n{\"create\":{\"_index\":\"a\"}}\n{\"message\":{\"x\":null}}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		items := parseBulk("acme", "idx", body, now)
		lines := len(splitLines(body))
		if len(items) > lines {
			t.Fatalf("%d items from %d lines", len(items), lines)
		}
		for _, it := range items {
			if (it.rec != nil) != (it.status == 201) || it.rec == nil && it.reason == "" {
				t.Fatalf("item %+v", it)
			}
			if it.rec != nil && (it.rec.Tenant != "acme" || store.ValidateLog(it.rec) != nil) {
				t.Fatalf("record %+v", it.rec)
			}
		}
		r := response(items, 0)
		if _, err := json.Marshal(r); err != nil {
			t.Fatal(err)
		}
	})
}
