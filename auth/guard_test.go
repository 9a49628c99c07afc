package auth

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
	"github.com/vigil-dev/vigil/tenant"
)

// clock is a settable time for sessions, token expiry and login limits.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time             { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration)        { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *clock                      { return &clock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)} }
func (f *fixture) token(s TokenSpec) string { return f.tokenAt(s, f.clock.Now()) }

type fixture struct {
	t     *testing.T
	st    *embedded.Store
	clock *clock
	guard *Guard
	mux   *Mux
	logs  *bytes.Buffer
}

func newFixture(t *testing.T, opts Options) *fixture {
	st, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, st: st, clock: newClock(), logs: &bytes.Buffer{}}
	opts.Store, opts.Now = st, f.clock.Now
	opts.Logger = slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.guard = New(opts)
	f.mux = NewMux(f.guard)
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		org, err := tenant.FromHTTP(r)
		fmt.Fprintf(w, "%s %s %v", org, FromContext(r.Context()).Subject(), err)
	})
	f.mux.Handle(
		Route{Method: "GET", Pattern: "/read", Role: Viewer, Handler: echo},
		Route{Method: "POST", Pattern: "/write", Role: Editor, Handler: echo},
		Route{Method: "POST", Pattern: "/send", Role: Ingest, Handler: echo},
		Route{Method: "GET", Pattern: "/metrics", Role: Viewer, Scope: ServerScope, Handler: echo},
		Route{Method: "GET", Pattern: "/healthz", Role: Public, Handler: echo},
	)
	f.mux.Handle(f.guard.Routes()...)
	return f
}

func (f *fixture) tokenAt(s TokenSpec, now time.Time) string {
	f.t.Helper()
	tok, _, err := CreateToken(context.Background(), f.st, s, "test", now)
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// do sends a request with a bearer token (if any) and headers as k, v pairs.
func (f *fixture) do(method, path, bearer string, kv ...string) (int, string, http.Header) {
	f.t.Helper()
	r := httptest.NewRequest(method, path, nil)
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Header.Set(kv[i], kv[i+1])
	}
	rec := httptest.NewRecorder()
	f.mux.ServeHTTP(rec, r)
	return rec.Code, rec.Body.String(), rec.Header()
}

func TestGuardHTTP(t *testing.T) {
	f := newFixture(t, Options{})
	viewer := f.token(TokenSpec{Tenant: "acme", Role: Viewer})
	editor := f.token(TokenSpec{Tenant: "acme", Role: Editor})
	ingest := f.token(TokenSpec{Tenant: "acme", Role: Ingest})
	root := f.token(TokenSpec{Tenant: AllTenants, Role: Admin})
	scraper := f.token(TokenSpec{Tenant: AllTenants, Role: Viewer})
	expiring := f.token(TokenSpec{Tenant: "acme", Role: Viewer, Expires: f.clock.Now().Add(time.Hour)})
	forged := viewer[:len(viewer)-4] + "0000"
	for _, c := range []struct {
		method, path, token string
		headers             []string
		code                int
		body                string
	}{
		{"GET", "/healthz", "", nil, 200, "default nobody"},
		{"GET", "/healthz", forged, nil, 200, ""}, // a bad credential does not close an open route
		{"GET", "/read", "", nil, 401, "authentication required"},
		{"GET", "/read", forged, nil, 401, "invalid API token"},
		{"GET", "/read", "not-a-token", nil, 401, "not a Vigil API token"},
		{"GET", "/read", viewer, nil, 200, "acme token:"},
		{"GET", "/read", viewer, []string{"X-Scope-OrgID", "acme"}, 200, "acme token:"},
		{"GET", "/read", viewer, []string{"X-Scope-OrgID", "beta"}, 403, `tenant \"beta\" is not one of yours`},
		{"GET", "/read", viewer, []string{"X-Scope-OrgID", "a/b"}, 400, "tenant id"},
		{"POST", "/write", viewer, nil, 403, `this needs the editor role in tenant \"acme\"`},
		{"POST", "/write", editor, nil, 200, "acme"},
		{"GET", "/read", ingest, nil, 403, "needs the viewer role"},
		{"POST", "/send", ingest, nil, 200, "acme"},
		{"POST", "/send", editor, nil, 403, "needs the ingest role"},
		{"POST", "/send", root, []string{"X-Scope-OrgID", "beta"}, 200, "beta"},
		{"POST", "/send", "", nil, 401, "authentication required"},
		{"GET", "/metrics", viewer, nil, 403, "in every tenant"},
		{"GET", "/metrics", scraper, nil, 200, ""},
		{"GET", "/read", expiring, nil, 200, "acme"},
	} {
		code, body, h := f.do(c.method, c.path, c.token, c.headers...)
		if code != c.code || !strings.Contains(body, c.body) {
			t.Errorf("%s %s %v: %d %s; want %d %q", c.method, c.path, c.headers, code, body, c.code, c.body)
		}
		if code == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), `Bearer realm="vigil"`) {
			t.Errorf("%s %s: 401 without a challenge", c.method, c.path)
		}
	}
	// Expiry, and revocation once the cache has let go of the row.
	f.clock.Add(time.Hour)
	if code, body, _ := f.do("GET", "/read", expiring, ""); code != 401 || !strings.Contains(body, "expired") {
		t.Errorf("expired token: %d %s", code, body)
	}
	id, _, _ := ParseToken(viewer)
	if _, err := RevokeToken(context.Background(), f.st, id, "test", f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(tokenCacheTTL)
	if code, body, _ := f.do("GET", "/read", viewer, ""); code != 401 || !strings.Contains(body, "revoked") {
		t.Errorf("revoked token: %d %s", code, body)
	}
	// Every 403 is in the audit log, in the tenant it was for.
	f.flushAudit()
	got := f.audit("beta", ActionForbidden)
	if len(got) != 1 || !strings.HasPrefix(got[0].Actor, "token:") || got[0].Target != "GET /read" {
		t.Errorf("beta's audit log of 403s: %+v", got)
	}
	if got := f.audit("acme", ActionForbidden); len(got) != 4 {
		t.Errorf("acme's audit log has %d 403s, want 4: %+v", len(got), got)
	}
}

func TestAnonymousIngest(t *testing.T) {
	f := newFixture(t, Options{AnonymousIngestTenant: "lan"})
	for _, c := range []struct {
		method, path string
		headers      []string
		code         int
		body         string
	}{
		{"POST", "/send", nil, 200, "lan anonymous:anonymous"},
		{"POST", "/send", []string{"X-Scope-OrgID", "lan"}, 200, "lan"},
		{"POST", "/send", []string{"X-Scope-OrgID", "acme"}, 403, "not one of yours"},
		{"GET", "/read", nil, 401, "authentication required"},
		{"POST", "/write", nil, 401, "authentication required"},
	} {
		if code, body, _ := f.do(c.method, c.path, "", c.headers...); code != c.code || !strings.Contains(body, c.body) {
			t.Errorf("%s %s %v: %d %s; want %d %q", c.method, c.path, c.headers, code, body, c.code, c.body)
		}
	}
}

func TestGuardDisabled(t *testing.T) {
	f := newFixture(t, Options{Disabled: true})
	for _, path := range []string{"/read", "/metrics"} {
		if code, body, _ := f.do("GET", path, "", "X-Scope-OrgID", "beta"); code != 200 || !strings.HasPrefix(body, "beta nobody") {
			t.Errorf("GET %s with auth disabled: %d %s", path, code, body)
		}
	}
	if code, body, _ := f.do("POST", "/write", ""); code != 200 || !strings.HasPrefix(body, "default") {
		t.Errorf("POST /write with auth disabled: %d %s", code, body)
	}
}

func (f *fixture) flushAudit() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.guard.Audit().Run(ctx) // a cancelled run writes what is queued and returns
}

func (f *fixture) audit(org string, action Action) []Audit {
	f.t.Helper()
	evs, err := Audits.Read(context.Background(), f.st, store.EventQuery{Tenant: org, Start: time.Unix(0, 0), End: time.Now().Add(time.Hour)})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []Audit
	for _, ev := range evs {
		if ev.Value.Action == action {
			out = append(out, ev.Value)
		}
	}
	return out
}

// browser is a client that keeps cookies the way a browser on loopback
// does, Secure ones included.
type browser struct {
	f       *fixture
	cookies map[string]string
	addr    string
}

func (b *browser) send(method, path string, form url.Values) *http.Response {
	b.f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, "http://127.0.0.1:8080"+path, body)
	r.RemoteAddr = b.addr + ":5555"
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.cookies {
		r.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	rec := httptest.NewRecorder()
	b.f.mux.ServeHTTP(rec, r)
	resp := rec.Result()
	for _, c := range resp.Cookies() {
		if !c.Secure || !c.HttpOnly {
			b.f.t.Errorf("cookie %s: Secure %v HttpOnly %v on loopback", c.Name, c.Secure, c.HttpOnly)
		}
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return resp
}

// login loads the form (for its CSRF token) and posts it.
func (b *browser) login(user, password string) *http.Response {
	b.send("GET", "/login", nil)
	return b.send("POST", "/login", url.Values{"csrf": {b.cookies[csrfCookie]}, "username": {user}, "password": {password}})
}

func TestLoginLogout(t *testing.T) {
	f := newFixture(t, Options{LoginLimits: LoginLimits{User: LoginLimit{Burst: 5, Every: 20 * time.Second}, Addr: LoginLimit{Burst: 20, Every: 3 * time.Second}}})
	password, err := EnsureAdmin(context.Background(), f.st, f.clock.Now())
	if err != nil || password == "" {
		t.Fatalf("EnsureAdmin: %q, %v", password, err)
	}
	if again, err := EnsureAdmin(context.Background(), f.st, f.clock.Now()); again != "" || err != nil {
		t.Fatalf("a second EnsureAdmin: %q, %v: the password is shown once", again, err)
	}
	b := &browser{f: f, cookies: map[string]string{}, addr: "192.0.2.1"}

	// A form posted without its CSRF token (from another site) is refused.
	if resp := b.send("POST", "/login", url.Values{"username": {"admin"}, "password": {password}}); resp.StatusCode != 403 {
		t.Errorf("login without CSRF token: %d", resp.StatusCode)
	}
	// Brute force: 100 bad attempts from one address; the limit answers
	// 429 long before the hundredth, without checking the password.
	var limited int
	for i := 0; i < 100; i++ {
		switch resp := b.login("admin", fmt.Sprintf("guess-%d", i)); resp.StatusCode {
		case 429:
			limited++
			if resp.Header.Get("Retry-After") == "" {
				t.Errorf("429 without Retry-After")
			}
		case 401:
		default:
			t.Fatalf("bad attempt %d: %d", i, resp.StatusCode)
		}
	}
	if limited < 90 {
		t.Errorf("%d of 100 bad attempts were limited, want at least 90", limited)
	}
	if resp := b.login("admin", password); resp.StatusCode != 429 {
		t.Errorf("the right password during the lock-out: %d, want 429", resp.StatusCode)
	}
	// After the window the real password works, from the same address.
	f.clock.Add(5 * time.Minute)
	resp := b.login("admin", password)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/" || b.cookies[SessionCookie] == "" {
		t.Fatalf("login after the window: %d %v", resp.StatusCode, resp.Header)
	}
	session := b.cookies[SessionCookie]
	if code, body, _ := f.do("GET", "/read", "", "Cookie", SessionCookie+"="+session, "X-Scope-OrgID", "beta"); code != 200 || !strings.HasPrefix(body, "beta person:admin") {
		t.Errorf("a session of the local admin reads any tenant: %d %s", code, body)
	}
	// Idle expiry: a session unused for longer than the idle timeout ends.
	f.clock.Add(DefaultSessionIdle + time.Minute)
	if code, _, _ := f.do("GET", "/read", "", "Cookie", SessionCookie+"="+session); code != 401 {
		t.Errorf("an idle session: %d, want 401", code)
	}
	b.login("admin", password)
	session = b.cookies[SessionCookie]
	if resp := b.send("POST", "/logout", url.Values{"csrf": {b.cookies[csrfCookie]}}); resp.StatusCode != 303 || b.cookies[SessionCookie] != "" {
		t.Errorf("logout: %d, cookie %q", resp.StatusCode, b.cookies[SessionCookie])
	}
	// Logout ends the session in the store: a copy of the cookie is dead.
	if code, _, _ := f.do("GET", "/read", "", "Cookie", SessionCookie+"="+session); code != 401 {
		t.Errorf("the cookie of an ended session: %d, want 401", code)
	}
	f.flushAudit()
	for action, want := range map[Action]int{ActionLogin: 2, ActionLogout: 1} {
		if got := len(f.audit("default", action)); got != want {
			t.Errorf("%d %s records, want %d", got, action, want)
		}
	}
	if got := len(f.audit("default", ActionLoginFailed)); got < 5 || got > 15 {
		t.Errorf("%d failed logins audited; the limited ones are not checked, so want the few before the limit", got)
	}
	// No secret in a log line, an audit record or an error.
	evs, _ := f.st.Events(context.Background(), store.EventQuery{Tenant: "default", Start: time.Unix(0, 0), End: time.Now().Add(time.Hour)})
	var all strings.Builder
	all.WriteString(f.logs.String())
	for _, ev := range evs {
		all.WriteString(ev.Payload + ev.Summary)
	}
	for _, secret := range []string{password, session, "guess-1"} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("a secret %q is in the logs or the audit log", secret)
		}
	}
}
