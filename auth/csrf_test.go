package auth

import (
	"context"
	"crypto/tls"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestCSRF: every change a signed-in browser makes carries the page's
// token, not only the sign-in form; machines, which no other site can
// make send their credential, need none.
func TestCSRF(t *testing.T) {
	f := newFixture(t, Options{})
	password, err := EnsureAdmin(context.Background(), f.st, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{f: f, cookies: map[string]string{}, addr: "192.0.2.1"}
	if resp := b.login("admin", password); resp.StatusCode != 303 {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	cookies := SessionCookie + "=" + b.cookies[SessionCookie] + "; " + csrfCookie + "=" + b.cookies[csrfCookie]
	token := b.cookies[csrfCookie]
	editor := f.token(TokenSpec{Tenant: "acme", Role: Editor})
	for _, c := range []struct {
		name    string
		method  string
		bearer  string
		headers []string
		form    string
		code    int
	}{
		{"a read", "GET", "", []string{"Cookie", cookies}, "", 200},
		{"a change without the token", "POST", "", []string{"Cookie", cookies}, "", 403},
		{"a change with a wrong token", "POST", "", []string{"Cookie", cookies, CSRFHeader, strings.Repeat("0", 32)}, "", 403},
		{"a change with the token in the header", "POST", "", []string{"Cookie", cookies, CSRFHeader, token}, "", 200},
		{"a form with the token", "POST", "", []string{"Cookie", cookies, "Content-Type", "application/x-www-form-urlencoded"}, url.Values{"csrf": {token}}.Encode(), 200},
		{"a form with another token", "POST", "", []string{"Cookie", cookies, "Content-Type", "application/x-www-form-urlencoded"}, "csrf=x", 403},
		{"a machine's change", "POST", editor, nil, "", 200},
	} {
		path := "/read"
		if c.method == "POST" {
			path = "/write"
		}
		r := httptest.NewRequest(c.method, path, strings.NewReader(c.form))
		for i := 0; i+1 < len(c.headers); i += 2 {
			r.Header.Set(c.headers[i], c.headers[i+1])
		}
		if c.bearer != "" {
			r.Header.Set("Authorization", "Bearer "+c.bearer)
		}
		rec := httptest.NewRecorder()
		f.mux.ServeHTTP(rec, r)
		if rec.Code != c.code || c.code == 403 && !strings.Contains(rec.Body.String(), "CSRF token") {
			t.Errorf("%s: %d %s, want %d", c.name, rec.Code, rec.Body, c.code)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t, Options{})
	for _, overTLS := range []bool{false, true} {
		r := httptest.NewRequest("GET", "/login", nil)
		if overTLS {
			r.TLS = &tls.ConnectionState{}
		}
		rec := httptest.NewRecorder()
		f.mux.ServeHTTP(rec, r)
		h := rec.Header()
		csp := h.Get("Content-Security-Policy")
		if h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("TLS %v: headers %v", overTLS, h)
		}
		if hsts := h.Get("Strict-Transport-Security"); (hsts != "") != overTLS {
			t.Errorf("TLS %v: HSTS %q", overTLS, hsts)
		}
	}
	// An API answer, refused or not, is not sniffed either.
	if _, _, h := f.do("GET", "/read", ""); h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("a 401 without nosniff: %v", h)
	}
}
