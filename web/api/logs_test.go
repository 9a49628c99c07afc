package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// checkLogRoutes writes logs and holds GET /api/v1/logs's answers to the
// document: a search, paging to the end, and refused parameters. now is
// the API's clock.
func checkLogRoutes(t *testing.T, v *validator, st *embedded.Store, now time.Time) {
	t.Helper()
	var recs []store.LogRecord
	for i := range 5 {
		r := store.LogRecord{Tenant: store.DefaultTenant, ID: uint64(i + 1), TimeUnixNano: now.Add(-time.Duration(10-i) * time.Minute).UnixNano(),
			ObservedUnixNano: now.UnixNano(), Service: "chat-gateway", Severity: store.SeverityInfo, SeverityText: "INFO",
			Body: fmt.Sprintf("request %d served", i), Resource: store.Attributes{{Key: "host.name", Value: "node-1"}}}
		if i%2 == 1 {
			r.Severity, r.Body, r.TraceID, r.SpanID = store.SeverityError, fmt.Sprintf("request %d failed: upstream timeout", i), store.TraceID{9, byte(i)}, store.SpanID{1}
			r.Attributes = store.Attributes{{Key: "http.status", Value: "504"}}
		}
		recs = append(recs, r)
	}
	if err := st.WriteLogs(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	none := http.Header{}
	var page logsPage
	body := v.call("GET", "/api/v1/logs?severity=error&q=Upstream+TIMEOUT&attr=http.status%3D504&service=chat-gateway", none, nil, 200)
	if err := json.Unmarshal(body, &page); err != nil || len(page.Logs) != 2 || page.Logs[0].Body != "request 3 failed: upstream timeout" ||
		page.Logs[0].TraceID != (store.TraceID{9, 3}).String() || page.Logs[0].Severity != "error" || page.NextPageToken != "" {
		t.Errorf("search: %s", body)
	}
	// Paging, two at a time, to the end.
	var bodies []string
	target := "/api/v1/logs?limit=2"
	for range 5 {
		body := v.call("GET", target, none, nil, 200)
		page = logsPage{}
		json.Unmarshal(body, &page)
		for _, l := range page.Logs {
			bodies = append(bodies, l.Body)
		}
		if page.NextPageToken == "" {
			break
		}
		target = "/api/v1/logs?limit=2&page_token=" + url.QueryEscape(page.NextPageToken)
	}
	if got := strings.Join(bodies, "|"); got != "request 4 served|request 3 failed: upstream timeout|request 2 served|request 1 failed: upstream timeout|request 0 served" {
		t.Errorf("pages: %s", got)
	}
	// A trace's logs, without a window.
	body = v.call("GET", "/api/v1/logs?trace_id="+(store.TraceID{9, 1}).String(), none, nil, 200)
	if json.Unmarshal(body, &page); len(page.Logs) != 1 || page.Logs[0].Body != "request 1 failed: upstream timeout" {
		t.Errorf("trace: %s", body)
	}
	for _, bad := range []struct{ query, want string }{
		{"severity=loud", "severity"},
		{"limit=0", "limit"},
		{"limit=1001", "limit"},
		{"page_token=zzz", "page_token"},
		{"trace_id=xyz", "trace_id"},
		{"attr=novalue", "attr"},
		{"q=---", "at least one word"},
		{"from=2026-01-02&to=2026-01-01", "not before"},
	} {
		if body := v.refusedOrBad(bad.query); !strings.Contains(body, bad.want) {
			t.Errorf("%s: %s", bad.query, body)
		}
	}
}

// refusedOrBad sends a logs search the handler answers 400: one the
// document itself allows (its parameters are strings).
func (v *validator) refusedOrBad(query string) string {
	v.t.Helper()
	target := "/api/v1/logs?" + query
	if strings.HasPrefix(query, "limit=") {
		return string(v.refused("GET", target, http.Header{}, nil, 400))
	}
	return string(v.call("GET", target, http.Header{}, nil, 400))
}
