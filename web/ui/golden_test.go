package ui

import (
	"context"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/tenant"
)

var update = flag.Bool("update", false, "rewrite the golden pages in testdata/golden")

// failing is the fixture store with one read that fails, to show how a
// page says which panel could not load.
type failing struct {
	Store
}

func (failing) Usage(context.Context, store.UsageQuery) ([]store.UsageGroup, error) {
	return nil, errors.New("connection refused")
}

func (failing) Events(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// csrfToken is the token of the golden pages' forms: the cookie the
// requests carry, so pages are the same every run.
const csrfToken = "00112233445566778899aabbccddeeff"

// fixtureUI is the UI over the fixture store at fixedNow, behind a guard
// that lets everything through, and Browser, as the web port serves it.
func fixtureUI(t testing.TB, st Store) http.Handler {
	return Browser(muxOf(fixtureUIOf(t, st)))
}

// fixtureUIOf is the UI over the fixture store at fixedNow, with a real
// actions engine over the same store.
func fixtureUIOf(t testing.TB, st Store) *UI {
	slos := fixtureSLOList(t)
	now := func() time.Time { return fixedNow }
	engine := actions.New(actions.Options{Store: st, SLOs: func() []*slo.SLO { return slos }, Now: now})
	return New(Options{Store: st, SLOs: func() []*slo.SLO { return slos }, Now: now, PanelTimeout: time.Second, Actions: engine,
		Budgets: fixtureBudgets, DriftMonitors: fixtureMonitors, ConfigStatus: fixtureConfigStatus,
		Build: Build{Version: "v1.2.3", GoVersion: "go1.26", Platform: "linux/amd64"}})
}

// muxOf serves the UI's routes behind a guard that lets all through.
func muxOf(u *UI) *auth.Mux {
	mux := auth.NewMux(auth.Disabled())
	mux.Handle(u.Routes()...)
	return mux
}

// asPerson makes a request come from a signed-in person who holds two
// tenants, as the guard would leave it.
func asPerson(r *http.Request) *http.Request {
	id := &auth.Identity{Kind: auth.KindPerson, Name: "ada", Grants: auth.Grants{store.DefaultTenant: auth.Editor, "acme": auth.Viewer}, Session: "s"}
	return r.WithContext(tenant.NewContext(auth.NewContext(r.Context(), id), store.DefaultTenant))
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	r.AddCookie(&http.Cookie{Name: "vigil_csrf", Value: csrfToken})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestGolden renders every page, its fragments and panels, and its
// problems, with fixed data, and compares them with testdata/golden
// (go test -run TestGolden -update rewrites them). Templates fail only
// when they run: this runs every one.
func TestGolden(t *testing.T) {
	st := fixtureStore(t)
	h := fixtureUI(t, st)
	broken := fixtureUI(t, failing{st})
	trace := "/traces/" + fixtureTrace.String()
	for _, tc := range []struct {
		name, url string
		status    int
		h         http.Handler
		person    bool
		htmx      bool
	}{
		{"services", "/services", 200, h, true, false},
		{"services-sorted", "/services?sort=p99&q=chat", 200, h, false, false},
		{"services-fragment", "/services?sort=-errors", 200, h, false, true},
		{"services-bad-range", "/services?from=yesterday", 400, h, false, false},
		{"services-bad-sort", "/services?sort=colour", 400, h, false, false},
		{"services-usage-fails", "/services", 200, broken, false, false},
		{"service", "/services/chat-gateway", 200, h, false, false},
		{"service-panel-red", "/services/chat-gateway?panel=red&by=model&latency=p50", 200, h, false, true},
		{"service-unknown", "/services/nope", 404, h, false, false},
		{"service-bad-by", "/services/chat-gateway?by=colour", 400, h, false, false},
		{"traces", "/traces?service=chat-gateway&sort=-duration&limit=5", 200, h, false, false},
		{"traces-filters", "/traces?service=llm-proxy&operation=chat+gpt-4o&model=gpt-4o&status=error&min=100ms&attr=user.tier%3Dpro", 200, h, false, false},
		{"traces-bad", "/traces?min=fast&limit=0&status=maybe", 400, h, false, false},
		{"traces-unknown-service", "/traces?service=nope", 404, h, false, false},
		{"trace", trace + "?span=0000000000000003", 200, h, true, false},
		{"trace-panel-span", trace + "?span=0000000000000004&panel=span", 200, h, false, true},
		{"trace-bad-id", "/traces/xyz", 400, h, false, false},
		{"trace-missing", "/traces/0123456789abcdef", 404, h, false, false},
		{"trace-missing-span", trace + "?span=00000000000000ff", 404, h, false, false},
		{"slos", "/slos", 200, h, false, false},
		{"slos-broken", "/slos", 200, broken, false, false},
		{"slo", "/slos/chat-availability", 200, h, false, false},
		{"slo-panel-charts", "/slos/chat-availability?panel=charts&from=now-3h", 200, h, false, true},
		{"slo-unknown", "/slos/nope", 404, h, false, false},
		{"alerts", "/alerts", 200, h, true, false},
		{"alerts-panel-deliveries", "/alerts?panel=deliveries", 200, h, false, true},
		{"alerts-bad-state", "/alerts?state=asleep", 400, h, false, false},
		{"bad-panel", "/services?panel=nope", 400, h, false, false},
		{"actions", "/actions", 200, h, true, false},
		{"actions-all", "/actions?state=all&policy=rollback-canary", 200, h, false, false},
		{"actions-bad-state", "/actions?state=sleeping", 400, h, false, false},
		{"action", "/actions/act-rollback", 200, h, true, false},
		{"action-done", "/actions/act-hook", 200, h, true, false},
		{"action-dry-run", "/actions/act-scale", 200, h, false, false},
		{"action-panel-timeline", "/actions/act-hook?panel=timeline", 200, h, false, true},
		{"action-unknown", "/actions/nope", 404, h, false, false},
		{"audit", "/actions/audit?from=now-1d", 200, h, false, false},
		{"audit-bad", "/actions/audit?state=x&format=xml", 400, h, false, false},
		{"cost", "/cost", 200, h, true, false},
		{"cost-drill", "/cost?by=service&f=provider%3AAWS&view=daily&from=now-7d", 200, h, false, false},
		{"cost-calls", "/cost?source=calls&by=model&from=now-1h", 200, h, false, false},
		{"cost-bad", "/cost?by=colour&f=nonsense&view=weekly", 400, h, false, false},
		{"llm", "/llm", 200, h, false, false},
		{"llm-by-provider", "/llm?by=provider", 200, h, false, true},
		{"llm-by-team", "/llm?by=team", 200, h, false, true},
		{"llm-bad-by", "/llm?by=colour", 400, h, false, false},
		{"drift", "/drift", 200, h, false, false},
		{"drift-report", "/drift/prompt-tokens", 200, h, false, false},
		{"drift-unknown", "/drift/nope", 404, h, false, false},
		{"drift-bad-at", "/drift/prompt-tokens?at=yesterday", 400, h, false, false},
		{"canaries", "/canaries", 200, h, false, false},
		{"canaries-bad-range", "/canaries?from=soon", 400, h, false, false},
		{"recommendations", "/recommendations", 200, h, false, false},
		{"settings", "/settings", 200, h, true, false},
		{"settings-signin-off", "/settings", 200, h, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.url, nil)
			if tc.person {
				r = asPerson(r)
			}
			if tc.htmx {
				r.Header.Set("HX-Request", "true")
			}
			w := serve(tc.h, r)
			if w.Code != tc.status {
				t.Errorf("%s: status %d, want %d", tc.url, w.Code, tc.status)
			}
			if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("%s: CSP %q", tc.url, csp)
			}
			golden(t, tc.name, w.Body.String())
		})
	}
}

// golden compares a page with its golden file, or rewrites it.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".html")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (run with -update to rewrite, then read the diff)\n%s", name, path, firstDiff(string(want), got))
	}
}

// firstDiff shows the first line where two pages differ.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range min(len(wl), len(gl)) {
		if wl[i] != gl[i] {
			return "line " + strconv.Itoa(i+1) + ":\n want " + wl[i] + "\n  got " + gl[i]
		}
	}
	return "one is a prefix of the other"
}
