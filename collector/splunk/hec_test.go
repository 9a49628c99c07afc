package splunk

import (
	"bytes"
	"context"
	"encoding/json"
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

func handler(m *memLogs) http.Handler {
	r := &Receiver{Logs: m, Limits: collector.BodyLimits{MaxBytes: 1 << 20, MaxDecodedBytes: 4 << 20}, Stats: collector.NewMetrics(nil), Now: func() time.Time { return now }}
	mux := http.NewServeMux()
	for _, rt := range r.Routes() {
		mux.Handle(rt.String(), rt.Handler)
	}
	return mux
}

type hecAnswer struct {
	Text    string
	Code    int
	Invalid *int `json:"invalid-event-number"`
	Detail  string
}

func post(t *testing.T, h http.Handler, path, body string) (int, hecAnswer) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", path, strings.NewReader(body)))
	var a hecAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("%s: %v: %s", path, err, rec.Body)
	}
	return rec.Code, a
}

func TestEvents(t *testing.T) {
	m := &memLogs{}
	h := handler(m)
	body := `{"time":1764583200.123456789,"host":"node-1","source":"/var/log/app.log","sourcetype":"app","index":"main","event":"connection refused","fields":{"service.name":"chat-gateway","severity":"error","trace_id":"0102030405060708090a0b0c0d0e0f10","span_id":"0102030405060708","region":"eu","n":3}}` +
		`{"event":{"message":"structured","level":"warn"},"time":"1764583201"}` + "\n" +
		`{"event":"no time"}`
	code, a := post(t, h, "/services/collector/event", body)
	if code != 200 || a.Code != 0 || a.Text != "Success" {
		t.Fatalf("%d %+v", code, a)
	}
	if len(m.logs) != 3 {
		t.Fatalf("stored %d, want 3", len(m.logs))
	}
	r := m.logs[0]
	if r.TimeUnixNano != 1764583200123456789 || r.Body != "connection refused" || r.Service != "chat-gateway" || r.Severity != store.SeverityError ||
		r.TraceID.String() != "0102030405060708090a0b0c0d0e0f10" || r.SpanID.String() != "0102030405060708" {
		t.Errorf("first = %+v", r)
	}
	for k, want := range map[string]string{"com.splunk.source": "/var/log/app.log", "com.splunk.sourcetype": "app", "com.splunk.index": "main", "region": "eu", "n": "3"} {
		if v, _ := r.Attributes.Get(k); v != want {
			t.Errorf("attribute %s = %q, want %q (%v)", k, v, want, r.Attributes)
		}
	}
	if v, _ := r.Resource.Get("host.name"); v != "node-1" {
		t.Errorf("resource = %v", r.Resource)
	}
	if s := m.logs[1]; s.Body != `{"message":"structured","level":"warn"}` || s.Severity != store.SeverityWarn || s.TimeUnixNano != 1764583201*int64(time.Second) {
		t.Errorf("object event = %+v", s)
	}
	if s := m.logs[2]; s.TimeUnixNano != now.UnixNano() || s.Service != "unknown_service" {
		t.Errorf("event without time = %+v", s)
	}
}

func TestInvalidEventsKeepTheirNeighbours(t *testing.T) {
	for _, c := range []struct {
		name, body    string
		code, invalid int
		stored        int
		text          string
	}{
		{"no event", `{"event":"a"}{"time":1764583200}{"event":"c"}`, 12, 1, 2, "Event field is required"},
		{"blank event", `{"event":"a"}{"event":"  "}`, 13, 1, 1, "Event field cannot be blank"},
		{"bad time", `{"event":"a","time":"noon"}{"event":"b"}`, 6, 0, 1, "Invalid data format"},
		{"not JSON", `{"event":"a"}{"event":"b"}{event`, 6, 2, 2, "Invalid data format"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := &memLogs{}
			code, a := post(t, handler(m), "/services/collector/event/1.0", c.body)
			if code != 400 || a.Code != c.code || a.Text != c.text || a.Invalid == nil || *a.Invalid != c.invalid {
				t.Errorf("%d %+v", code, a)
			}
			if len(m.logs) != c.stored {
				t.Errorf("stored %d, want %d", len(m.logs), c.stored)
			}
		})
	}
	m := &memLogs{}
	if code, a := post(t, handler(m), "/services/collector/event", " "); code != 400 || a.Code != 5 || a.Text != "No data" {
		t.Errorf("empty: %d %+v", code, a)
	}
}

func TestRawAndBusy(t *testing.T) {
	m := &memLogs{}
	h := handler(m)
	code, a := post(t, h, "/services/collector/raw?host=web-1&sourcetype=syslog", "line one\r\n\nline two\n")
	if code != 200 || a.Code != 0 || len(m.logs) != 2 || m.logs[1].Body != "line two" {
		t.Fatalf("%d %+v %+v", code, a, m.logs)
	}
	if v, _ := m.logs[0].Resource.Get("host.name"); v != "web-1" {
		t.Errorf("host = %q", v)
	}
	m.err = collector.ErrBusy
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/services/collector", bytes.NewReader([]byte(`{"event":"x"}`))))
	if rec.Code != 429 || !strings.Contains(rec.Body.String(), `"code":9`) {
		t.Errorf("busy: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/services/collector/health", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"code":17`) {
		t.Errorf("health: %d %s", rec.Code, rec.Body)
	}
}

func FuzzEvents(f *testing.F) {
	f.Add([]byte(`{"time":1764583200.5,"event":{"a":1},"fields":{"severity":"err","x":[1]}}{"event":"b"}`))
	f.Add([]byte(`{"event":""}{"event":null}{"time":-1,"event":"x"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		recs, bad := parseEvents("acme", body, meta{}, now)
		for i := range recs {
			if err := store.ValidateLog(&recs[i]); err != nil || recs[i].Body == "" || recs[i].Tenant != "acme" {
				t.Fatalf("record %+v: %v", recs[i], err)
			}
		}
		if bad != nil && bad.text == "" {
			t.Fatalf("invalid without text: %+v", bad)
		}
		if len(recs) == 0 && bad == nil {
			t.Fatalf("nothing stored and nothing wrong in %q", body)
		}
	})
}
