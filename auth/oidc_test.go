package auth

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func oidcFixture(t *testing.T, local bool) (*fixture, *testIssuer) {
	is := newTestIssuer(t)
	policy := &Policy{Groups: map[string]Grants{"sre": {"acme": Operator}, "finance": {"globex": Viewer}}}
	f := newFixture(t, Options{LocalLogin: local, Policy: func() *Policy { return policy }, OIDC: &OIDCOptions{
		Issuer: is.url(), ClientID: testClientID, ClientSecret: testClientSecret,
		RedirectURL: "http://127.0.0.1:8080/auth/callback", Scopes: []string{"profile", "email"}}})
	return f, is
}

// oidcLogin walks a browser through the provider: Vigil's start, the
// provider's authorization (which signs in at once), Vigil's callback.
func (b *browser) oidcLogin(t *testing.T) *http.Response {
	t.Helper()
	resp := b.send("GET", StartPath, nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("start: %d", resp.StatusCode)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	at, err := noFollow.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	at.Body.Close()
	back, err := url.Parse(at.Header.Get("Location"))
	if err != nil || at.StatusCode != http.StatusFound {
		t.Fatalf("the provider's answer: %d %q", at.StatusCode, at.Header.Get("Location"))
	}
	return b.send("GET", back.Path+"?"+back.RawQuery, nil)
}

func body(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestOIDCLogin(t *testing.T) {
	f, is := oidcFixture(t, false)
	b := &browser{f: f, cookies: map[string]string{}, addr: "192.0.2.7"}

	// Groups in the ID token.
	is.login = map[string]any{"email": "alice@example.com", "groups": []string{"sre", "unmapped"}}
	resp := b.oidcLogin(t)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" || b.cookies[SessionCookie] == "" {
		t.Fatalf("callback: %d %s", resp.StatusCode, body(resp))
	}
	if _, ok := b.cookies[flightCookie]; ok {
		t.Errorf("the sign-in's cookie outlives its callback")
	}
	session := b.cookies[SessionCookie]
	csrf := randomHex(16) // as a page of Vigil's would have set it
	if code, got, _ := f.do("POST", "/write", "", "Cookie", SessionCookie+"="+session+"; "+csrfCookie+"="+csrf, CSRFHeader, csrf); code != 200 || !strings.HasPrefix(got, "acme person:alice@example.com") {
		t.Errorf("alice's session: %d %s", code, got)
	}

	// Groups only from the userinfo endpoint, as some providers keep them.
	b2 := &browser{f: f, cookies: map[string]string{}, addr: "192.0.2.8"}
	is.login = map[string]any{"preferred_username": "bob"}
	is.userinfo = map[string]any{"sub": "user-1", "groups": "finance"}
	if resp := b2.oidcLogin(t); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob's callback: %d %s", resp.StatusCode, body(resp))
	}
	if code, got, _ := f.do("GET", "/read", "", "Cookie", SessionCookie+"="+b2.cookies[SessionCookie]); code != 200 || !strings.HasPrefix(got, "globex person:bob") {
		t.Errorf("bob's session: %d %s", code, got)
	}

	// A userinfo of another subject is not believed.
	is.userinfo = map[string]any{"sub": "someone-else", "groups": "sre"}
	if resp := (&browser{f: f, cookies: map[string]string{}, addr: "192.0.2.9"}).oidcLogin(t); resp.StatusCode != http.StatusBadGateway {
		t.Errorf("userinfo of another subject: %d", resp.StatusCode)
	}

	// Signed in at the provider, but no group maps to a role: no session.
	is.login = map[string]any{"email": "eve@example.com", "groups": []string{"interns"}}
	b3 := &browser{f: f, cookies: map[string]string{}, addr: "192.0.2.10"}
	if resp := b3.oidcLogin(t); resp.StatusCode != http.StatusForbidden || !strings.Contains(body(resp), "none of your groups holds a role") || b3.cookies[SessionCookie] != "" {
		t.Errorf("no role: %d, session %q", resp.StatusCode, b3.cookies[SessionCookie])
	}

	f.flushAudit()
	logins := f.audit("default", ActionLogin)
	var details []string
	for _, l := range logins {
		details = append(details, l.Actor+" "+l.Detail)
	}
	if len(logins) != 2 || !slices.Contains(details, "person:alice@example.com OpenID Connect; groups: sre, unmapped") {
		t.Errorf("logins audited: %+v", logins)
	}
	if failed := f.audit("default", ActionLoginFailed); len(failed) != 2 {
		t.Errorf("failed logins audited: %+v", failed)
	}
	if strings.Contains(f.logs.String(), testClientSecret) {
		t.Errorf("the client secret is in the log")
	}
}

func TestOIDCForgedCallbacks(t *testing.T) {
	f, is := oidcFixture(t, false)
	is.login = map[string]any{"email": "alice@example.com", "groups": []string{"sre"}}
	b := &browser{f: f, cookies: map[string]string{}, addr: "192.0.2.7"}
	for _, c := range []struct {
		name  string
		query string
		code  int
		body  string
	}{
		// An attacker's own code, without the victim's sign-in in flight.
		{"no sign-in in flight", "code=abc&state=def", 400, "expired or began in another browser"},
		{"the provider refused", "error=access_denied&error_description=the+user+said+no", 401, "access_denied the user said no"},
	} {
		resp := b.send("GET", "/auth/callback?"+c.query, nil)
		if got := body(resp); resp.StatusCode != c.code || !strings.Contains(got, c.body) {
			t.Errorf("%s: %d %s", c.name, resp.StatusCode, got)
		}
	}
	// A state that is not the one this browser left with.
	b.send("GET", StartPath, nil)
	if resp := b.send("GET", "/auth/callback?code=abc&state=other", nil); resp.StatusCode != 400 {
		t.Errorf("another state: %d", resp.StatusCode)
	}
}

func TestOIDCTurnsLocalLoginOff(t *testing.T) {
	for _, local := range []bool{false, true} {
		f, _ := oidcFixture(t, local)
		b := &browser{f: f, cookies: map[string]string{}, addr: "192.0.2.7"}
		page := body(b.send("GET", "/login", nil))
		if !strings.Contains(page, `href="/login/oidc"`) || strings.Contains(page, `action="/login"`) == !local {
			t.Errorf("local %v: the sign-in page:\n%s", local, page)
		}
		resp := b.send("POST", "/login", url.Values{"csrf": {b.cookies[csrfCookie]}, "username": {"admin"}, "password": {"x"}})
		if want := map[bool]int{false: 404, true: 401}[local]; resp.StatusCode != want {
			t.Errorf("local %v: a password sign-in: %d, want %d", local, resp.StatusCode, want)
		}
	}
}
