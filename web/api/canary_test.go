package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

func TestCanary(t *testing.T) {
	s, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var spans []store.Span
	// 200 requests a side, 100–199 ms on stable, twice that on the canary.
	for i := range 400 {
		dep, d := "stable", time.Duration(100+i%100)*time.Millisecond
		if i%2 == 1 {
			dep, d = "canary", 2*d
		}
		sp := store.Span{Tenant: store.DefaultTenant, Service: "chat", Operation: "generate", Deployment: dep, DurationNano: int64(d),
			StartUnixNano: t0.Add(time.Duration(i) * time.Second).UnixNano(), StatusCode: store.StatusOK}
		sp.TraceID[0], sp.TraceID[1], sp.SpanID[0], sp.SpanID[1] = 1, byte(i), byte(i>>8), byte(i)
		spans = append(spans, sp)
	}
	if err := s.WriteSpans(context.Background(), spans); err != nil {
		t.Fatal(err)
	}
	mux := auth.NewMux(auth.Disabled())
	(&API{Store: s}).Register(mux)

	const window = "&from=2026-11-20T10:00:00Z&to=2026-11-20T11:00:00Z"
	code, body := do(t, mux, "GET", "/api/v1/canary?service=chat"+window, "", nil)
	var res struct {
		Verdict string `json:"verdict"`
		Spec    struct{ By, Canary, Baseline string }
		Metrics []struct {
			Name           string
			Classification string
			Latency        *struct {
				CanaryN          int     `json:"canary_n"`
				BaselineMedianMS float64 `json:"baseline_median_ms"`
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil || code != 200 {
		t.Fatalf("%d %s (%v)", code, body, err)
	}
	if res.Verdict != "fail" || res.Spec.By != "deployment" || res.Spec.Canary != "canary" || res.Spec.Baseline != "stable" ||
		res.Metrics[0].Classification != "High" || res.Metrics[0].Latency.CanaryN != 200 || res.Metrics[0].Latency.BaselineMedianMS != 149 {
		t.Errorf("slower canary: %s", body)
	}
	// Another tenant sees none of it.
	req := func(path, org string) (int, string) {
		r, _ := http.NewRequest("GET", path, nil)
		r.Header.Set("X-Scope-OrgID", org)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	if code, body := req("/api/v1/canary?service=chat"+window, "globex"); code != 200 || !strings.Contains(body, `"verdict":"inconclusive"`) {
		t.Errorf("other tenant: %d %s", code, body)
	}
	for _, tc := range []struct{ query, want string }{
		{"service=chat", `parameter \"from\" is required`},
		{"canary=a" + window, "service is required"},
		{"service=chat&canary=x&baseline=x" + window, "both"},
		{"service=chat&by=pod" + window, `by \"pod\"`},
		{"service=chat&limit=-3" + window, `parameter \"limit\"`},
		{"service=chat&limit=2000000" + window, `parameter \"limit\": 2000000 is above 1000000`},
		{"service=chat&alpha=abc" + window, `parameter \"alpha\"`},
		{"service=chat&alpha=1" + window, "alpha 1"},
	} {
		if code, body := do(t, mux, "GET", "/api/v1/canary?"+tc.query, "", nil); code != 400 || !strings.Contains(body, tc.want) {
			t.Errorf("%s: got %d %s, want 400 with %q", tc.query, code, body, tc.want)
		}
	}
}
