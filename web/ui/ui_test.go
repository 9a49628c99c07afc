package ui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
	"github.com/vigil-dev/vigil/tenant"
)

func TestTimeRange(t *testing.T) {
	for _, tc := range []struct {
		from, to       string
		start, end     time.Time
		problem        string
		zoomF, zoomT   string
		earlier, later string
		step           time.Duration
	}{
		{"", "", fixedNow.Add(-time.Hour), fixedNow, "", "now-2h", "now", "2026-12-03T08:30:00Z", "2026-12-03T10:30:00Z", 2 * time.Minute},
		{"now-15m", "now", fixedNow.Add(-15 * time.Minute), fixedNow, "", "now-30m", "now", "2026-12-03T09:37:30Z", "2026-12-03T10:07:30Z", 30 * time.Second},
		{"2026-12-03T09:00:00Z", "2026-12-03T09:10:00Z", fixedNow.Add(-time.Hour), fixedNow.Add(-50 * time.Minute), "",
			"2026-12-03T08:55:00Z", "2026-12-03T09:15:00Z", "2026-12-03T08:55:00Z", "2026-12-03T09:15:00Z", 30 * time.Second},
		{"yesterday", "", time.Time{}, time.Time{}, "from", "", "", "", "", 0},
		{"now-2x", "", time.Time{}, time.Time{}, "from", "", "", "", "", 0},
		{"now", "now-1h", time.Time{}, time.Time{}, "from", "", "", "", "", 0},
		{"now-30d", "now", time.Time{}, time.Time{}, "from", "", "", "", "", 0},
		{"now-1h", "soon", time.Time{}, time.Time{}, "to", "", "", "", "", 0},
	} {
		tr, fe := parseRange(tc.from, tc.to, defaultFrom, fixedNow, 7*24*time.Hour)
		if tc.problem != "" {
			if fe == nil || fe.Field != tc.problem {
				t.Errorf("%q..%q: problem %+v, want one with %s", tc.from, tc.to, fe, tc.problem)
			}
			continue
		}
		if fe != nil || !tr.Start.Equal(tc.start) || !tr.End.Equal(tc.end) {
			t.Errorf("%q..%q = %v..%v %+v", tc.from, tc.to, tr.Start, tr.End, fe)
		}
		if f, to := tr.zoomOut(); f != tc.zoomF || to != tc.zoomT {
			t.Errorf("%q..%q zoomed out: %s..%s", tc.from, tc.to, f, to)
		}
		if f, _ := tr.shift(-1); f != tc.earlier {
			t.Errorf("%q..%q earlier: from %s", tc.from, tc.to, f)
		}
		if _, to := tr.shift(1); to != tc.later {
			t.Errorf("%q..%q later: to %s", tc.from, tc.to, to)
		}
		if s := tr.step(30); s != tc.step {
			t.Errorf("%q..%q step %s, want %s", tc.from, tc.to, s, tc.step)
		}
	}
}

// TestCriticalPath: a root of 0–100 with children A 0–40, B 30–90 (which
// has a child C 35–80) and D 10–20; the path is the root, B, C and D: B
// ends last, A overlaps B's start, and D ended before it.
func TestCriticalPath(t *testing.T) {
	mk := func(id, parent byte, start, end int64) store.Span {
		sp := store.Span{SpanID: store.SpanID{7: id}, StartUnixNano: start, DurationNano: end - start, Operation: string('a' + rune(id))}
		if parent != 0 {
			sp.ParentSpanID = store.SpanID{7: parent}
		}
		return sp
	}
	w := layout([]store.Span{mk(1, 0, 0, 100), mk(2, 1, 0, 40), mk(3, 1, 30, 90), mk(4, 3, 35, 80), mk(5, 1, 10, 20), mk(6, 9, 50, 60)})
	var order, critical []string
	for i, s := range w.Spans {
		order = append(order, strings.Repeat(" ", w.Depth[i])+s.SpanID.String()[15:])
		if w.Critical[i] {
			critical = append(critical, s.SpanID.String()[15:])
		}
	}
	if got := strings.Join(order, ","); got != "1, 2, 5, 3,  4,6" {
		t.Errorf("tree order %q", got)
	}
	if got := strings.Join(critical, ","); got != "1,5,3,4" {
		t.Errorf("critical path %q", got)
	}
	if w.Total != 100 || w.Start != 0 {
		t.Errorf("total %d start %d", w.Total, w.Start)
	}
}

// TestBrowser: a page's ?tenant= reaches the guard as X-Scope-OrgID; the
// guard's refusals become a redirect to /login (HX-Redirect for htmx)
// and a page saying why, while API routes keep their JSON.
func TestBrowser(t *testing.T) {
	st, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tok, _, err := auth.CreateToken(context.Background(), st, auth.TokenSpec{Tenant: "acme", Role: auth.Viewer}, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	mux := auth.NewMux(auth.New(auth.Options{Store: st}))
	seen := ""
	mux.Handle(auth.Route{Method: "GET", Pattern: "/services", Role: auth.Viewer, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = tenant.FromHTTP(r)
	})}, auth.Route{Method: "GET", Pattern: "/api/x", Role: auth.Viewer, Handler: http.NotFoundHandler()})
	h := Browser(mux)
	for _, tc := range []struct {
		path, token string
		htmx        bool
		code        int
		want        string // in a header or the body
	}{
		{"/services?tenant=acme", tok, false, 200, ""},
		{"/services", "", false, 303, "/login"},
		{"/services", "", true, 401, "Hx-Redirect: /login"},
		{"/services?tenant=globex", tok, false, 403, `tenant &#34;globex&#34; is not one of yours`},
		{"/api/x", "", false, 401, `{"error":`},
	} {
		r := httptest.NewRequest("GET", tc.path, nil)
		if tc.token != "" {
			r.Header.Set("Authorization", "Bearer "+tc.token)
		}
		if tc.htmx {
			r.Header.Set("HX-Request", "true")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var all strings.Builder
		w.Header().Write(&all)
		all.WriteString(w.Body.String())
		if w.Code != tc.code || !strings.Contains(all.String(), tc.want) {
			t.Errorf("%s: %d\n%s", tc.path, w.Code, all.String())
		}
	}
	if seen != "acme" {
		t.Errorf("the page acted in tenant %q", seen)
	}
}

// TestCreateSilence: the form needs its CSRF token; a good one records
// the silence and sends the browser back to the alerts page; a bad one
// shows the page again with the problem beside the form's field.
func TestCreateSilence(t *testing.T) {
	st := fixtureStore(t)
	h := fixtureUI(t, st)
	post := func(form url.Values, csrf bool) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/alerts/silences?tenant=default", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r = asPerson(r)
		if !csrf {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w
		}
		return serve(h, r)
	}
	good := url.Values{"csrf": {csrfToken}, "fingerprint": {"f1"}, "matchers": {"slo=chat-availability\nseverity=page"}, "duration": {"2h"}, "comment": {"deploying a fix"}}
	if w := post(good, false); w.Code != 403 || !strings.Contains(w.Body.String(), "The form expired") {
		t.Errorf("without the cookie: %d", w.Code)
	}
	bad := url.Values{"csrf": {csrfToken}, "fingerprint": {"f1"}, "matchers": {"slo chat"}, "duration": {"2h"}, "comment": {"x"}}
	if w := post(bad, true); w.Code != 400 || !strings.Contains(w.Body.String(), `&#34;slo chat&#34; is not label=value`) {
		t.Errorf("bad matchers: %d\n%s", w.Code, w.Body)
	}
	w := post(good, true)
	if w.Code != 303 || !strings.HasPrefix(w.Header().Get("Location"), "/alerts?silenced=") {
		t.Fatalf("good: %d %v", w.Code, w.Header())
	}
	ss, err := slo.ActiveSilences(context.Background(), st, store.DefaultTenant, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range ss {
		found = found || s.Comment == "deploying a fix" && s.CreatedBy == "person:ada" && s.Matchers["severity"] == "page"
	}
	if !found {
		t.Errorf("the silence was not recorded: %+v", ss)
	}
}
