package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vigil-dev/vigil/actions"
)

// A decision goes as a POST naming its version and key, its reason in
// the body; a refusal is an *APIError with the status.
func TestDecide(t *testing.T) {
	var got *http.Request
	var body map[string]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &body)
		if r.Header.Get("If-Match") == `"2"` {
			w.WriteHeader(http.StatusConflict)
			w.Write([]byte(`{"error":"the action changed since it was read: version 2, now 3 (approved)"}`))
			return
		}
		w.Write([]byte(`{"id":"a1","state":"approved","version":3,"timeline":[{"at":"2026-11-01T00:00:00Z","state":"approved","decision":"approve","actor":"token:x"}]}`))
	}))
	defer srv.Close()
	c, err := New(srv.URL, Options{Token: "vigil_t", Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.Decide(context.Background(), "a1", actions.VerbApprove, "looks right", 0, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != "POST" || got.URL.Path != "/api/v1/actions/a1/approve" || got.Header.Get("If-Match") != "*" || got.Header.Get("Idempotency-Key") != "k1" ||
		got.Header.Get("Content-Type") != "application/json" || got.Header.Get("Authorization") != "Bearer vigil_t" || body["reason"] != "looks right" {
		t.Errorf("sent %s %s %v %v", got.Method, got.URL.Path, got.Header, body)
	}
	if a.State != actions.Approved || a.Version != 3 || a.Timeline[0].Decision != actions.VerbApprove {
		t.Errorf("answer %+v", a)
	}
	_, err = c.Decide(context.Background(), "a1", actions.VerbReject, "no", 2, "")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusConflict || got.Header.Get("Idempotency-Key") != "" {
		t.Errorf("a stale version: %v", err)
	}
}

func TestActionsQuery(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Write([]byte(`{"actions":[{"id":"a1","state":"proposed","change":"replicas 4 → 8"}],"next_page_token":"p2"}`))
	}))
	defer srv.Close()
	c, _ := New(srv.URL, Options{})
	page, err := c.Actions(context.Background(), ActionQuery{States: []actions.State{actions.Proposed, actions.Approved}, Policy: "p", Limit: 10})
	if err != nil || len(page.Actions) != 1 || page.Actions[0].Change != "replicas 4 → 8" || page.NextPageToken != "p2" {
		t.Fatalf("%+v %v", page, err)
	}
	if q := got.URL.RawQuery; q != "limit=10&policy=p&state=proposed%2Capproved" {
		t.Errorf("query %s", q)
	}
}
