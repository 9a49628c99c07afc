package auth

import (
	"strings"
	"testing"
	"time"
)

func TestJWTs(t *testing.T) {
	is := newTestIssuer(t)
	other := newTestIssuer(t) // signs with a key of its own
	policy := &Policy{
		Groups:   map[string]Grants{"deployers": {"acme": Operator}, "all-viewers": {AllTenants: Viewer}},
		Subjects: map[string]Grants{"ci@acme": {"acme": Ingest}},
	}
	for _, discover := range []bool{true, false} {
		opts := JWTOptions{Issuer: is.url(), Audience: "vigil"}
		if !discover {
			opts.JWKSURL = is.url() + "/keys"
		}
		f := newFixture(t, Options{JWT: &opts, Policy: func() *Policy { return policy }})
		now := f.clock.Now()
		jwt := func(sub, aud string, extra map[string]any) string { return is.sign(is.claims(sub, aud, now, extra)) }
		expired := is.claims("ci@acme", "vigil", now.Add(-2*time.Hour), nil)
		wrongIssuer := is.claims("ci@acme", "vigil", now, map[string]any{"iss": "https://elsewhere"})
		for _, c := range []struct {
			name, method, path, token string
			code                      int
			body                      string
		}{
			{"groups", "POST", "/write", jwt("alice", "vigil", map[string]any{"groups": []string{"deployers", "unknown"}}), 200, "acme jwt:alice"},
			{"one group as a string", "GET", "/read", jwt("bob", "vigil", map[string]any{"groups": "all-viewers"}), 200, "default jwt:bob"},
			{"subject", "POST", "/send", jwt("ci@acme", "vigil", nil), 200, "acme jwt:ci@acme"},
			{"subject without the role", "GET", "/read", jwt("ci@acme", "vigil", nil), 403, "needs the viewer role"},
			{"no role at all", "GET", "/read", jwt("stranger", "vigil", map[string]any{"groups": []string{"x"}}), 403, `the JWT of \"stranger\" holds no role`},
			{"another audience", "GET", "/read", jwt("ci@acme", "grafana", nil), 401, "invalid JWT: expected audience"},
			{"expired", "GET", "/read", is.sign(expired), 401, "invalid JWT: token is expired"},
			{"another issuer's claim", "GET", "/read", is.sign(wrongIssuer), 401, "invalid JWT"},
			{"another key", "GET", "/read", other.sign(is.claims("ci@acme", "vigil", now, nil)), 401, "invalid JWT"},
			{"tampered", "GET", "/read", tamper(jwt("ci@acme", "vigil", nil)), 401, "invalid JWT"},
		} {
			code, body, _ := f.do(c.method, c.path, c.token)
			if code != c.code || !strings.Contains(body, c.body) {
				t.Errorf("discover %v, %s: %d %s; want %d %q", discover, c.name, code, body, c.code, c.body)
			}
			if strings.Contains(body, c.token) || strings.Contains(f.logs.String(), c.token) {
				t.Errorf("%s: the JWT is repeated in an answer or a log", c.name)
			}
		}
	}
}

// tamper changes a JWT's payload and keeps its signature.
func tamper(jwt string) string {
	parts := strings.Split(jwt, ".")
	parts[1] = parts[1][:len(parts[1])-2] + "AA"
	return strings.Join(parts, ".")
}

func TestJWTIssuerDown(t *testing.T) {
	is := newTestIssuer(t)
	tok := is.sign(is.claims("ci@acme", "vigil", time.Now(), nil))
	f := newFixture(t, Options{JWT: &JWTOptions{Issuer: "http://127.0.0.1:1", Audience: "vigil"}})
	code, body, h := f.do("GET", "/read", tok)
	if code != 503 || h.Get("Retry-After") == "" || !strings.Contains(body, "cannot reach the OpenID provider") {
		t.Errorf("issuer down: %d %s", code, body)
	}
	// An API token does not need the provider.
	if code, _, _ := f.do("GET", "/read", f.token(TokenSpec{Tenant: "acme", Role: Viewer})); code != 200 {
		t.Errorf("a Vigil token while the issuer is down: %d", code)
	}
}
