package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRecommendations(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"strategy":"vpa","recommendations":[{"namespace":"shop","kind":"Deployment","workload":"api","container":"app","monthly_saving":"1.5","values":[{"resource":"cpu","setting":"request","current":1,"recommended":0.4}]}]}`))
	}))
	defer srv.Close()
	c, err := New(srv.URL+"/vigil/", Options{Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	recs, err := c.Recommendations(context.Background(), RecommendationQuery{Strategy: "vpa", Namespace: "shop", From: from, To: from.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if got.URL.Path != "/vigil/api/v1/recommendations" || got.Header.Get("X-Scope-OrgID") != "acme" {
		t.Errorf("asked %s as %q", got.URL.Path, got.Header.Get("X-Scope-OrgID"))
	}
	if q := got.URL.Query(); q.Encode() != "from=2026-11-01T00%3A00%3A00Z&namespace=shop&strategy=vpa&to=2026-11-01T01%3A00%3A00Z" {
		t.Errorf("query %s", q.Encode())
	}
	if len(recs) != 1 || recs[0].Workload != "api" || recs[0].MonthlySaving.String() != "1.5" || recs[0].Values[0].Recommended != 0.4 {
		t.Errorf("recommendations %+v", recs)
	}

	// No tenant: no header.
	c, _ = New(srv.URL, Options{})
	if _, err := c.Recommendations(context.Background(), RecommendationQuery{}); err != nil || got.Header.Values("X-Scope-OrgID") != nil || got.URL.RawQuery != "" {
		t.Errorf("without a tenant or filters: %v, header %v, query %q", err, got.Header.Values("X-Scope-OrgID"), got.URL.RawQuery)
	}
}

func TestErrorsQuoteTheAPI(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("case") {
		case "api":
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"unknown strategy \"magic\": want simple, vpa or kubecost"}` + "\n"))
		case "proxy":
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>upstream down</html>\n"))
		case "garbage":
			w.Write([]byte("not json"))
		case "slow":
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		}
	}))
	defer srv.Close()
	c, _ := New(srv.URL, Options{Timeout: 100 * time.Millisecond})
	ask := func(name string) error {
		var out any
		return c.Get(context.Background(), "/api/v1/x", map[string][]string{"case": {name}}, &out)
	}

	err := ask("api")
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 || ae.Message != `unknown strategy "magic": want simple, vpa or kubecost` ||
		err.Error() != srv.URL+` answered 400 Bad Request: unknown strategy "magic": want simple, vpa or kubecost` {
		t.Errorf("API error: %v", err)
	}
	if err := ask("proxy"); !errors.As(err, &ae) || ae.StatusCode != 502 || ae.Message != "<html>upstream down</html>" {
		t.Errorf("proxy error: %v", err)
	}
	if err := ask("garbage"); err == nil || !strings.Contains(err.Error(), "not the JSON expected") || !strings.Contains(err.Error(), "not json") {
		t.Errorf("garbage: %v", err)
	}
	start := time.Now()
	if err := ask("slow"); err == nil || !strings.Contains(err.Error(), "did not answer within 100ms") || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow: %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("the timeout did not stop the call: %s", d)
	}
	srv.Close()
	if err := ask("api"); err == nil || !strings.HasPrefix(err.Error(), "cannot ask "+srv.URL+": ") {
		t.Errorf("server gone: %v", err)
	}

	for _, bad := range []string{"vigil:8080", "ftp://vigil", "http://", "http://vigil:8080/?x=1", "://"} {
		if _, err := New(bad, Options{}); err == nil || !strings.Contains(err.Error(), "is not a server URL: want one such as http://vigil:8080") {
			t.Errorf("New(%q): %v", bad, err)
		}
	}
}
