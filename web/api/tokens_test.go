package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/store/embedded"
)

// checkTokenRoutes holds the token routes to the document and to the
// tenancy rules: an admin of every tenant (v) makes, lists and revokes
// tokens of any tenant; an admin of acme sees, makes and revokes only
// acme's, and another tenant's token is as absent to it as one that never
// existed;
// a token made over HTTP works at once and stops working when revoked.
func checkTokenRoutes(t *testing.T, v *validator, st *embedded.Store, mux http.Handler) {
	jsonBody := http.Header{"Content-Type": {"application/json"}}
	var made struct {
		auth.TokenInfo
		Token string
	}
	decode := func(body []byte, out any) {
		t.Helper()
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
	}
	decode(v.call("POST", "/api/v1/tokens", jsonBody, []byte(`{"name":"scraper","tenant":"*","role":"viewer","expires":"90d"}`), 200), &made)
	if made.Tenant != "*" || made.Role != "viewer" || made.Status != "active" || made.Expires == nil || !strings.HasPrefix(made.Token, "vigil_") || made.CreatedBy == "" {
		t.Errorf("made: %+v", made)
	}
	everyTenant := made.ID
	v.refused("POST", "/api/v1/tokens", jsonBody, []byte(`{"role":"root"}`), 400)
	v.call("POST", "/api/v1/tokens", jsonBody, []byte(`{"role":"viewer","expires":"yesterday"}`), 400)
	v.call("POST", "/api/v1/tokens", jsonBody, []byte(`{"role":"viewer","tenant":"a/b"}`), 400)
	v.refused("POST", "/api/v1/tokens", jsonBody, []byte(`{"role":"viewer","secret":"x"}`), 400)

	acme := newValidator(t, mux)
	acme.bearer = newToken(t, st, "acme", auth.Admin)
	decode(acme.call("POST", "/api/v1/tokens", jsonBody, []byte(`{"name":"ci","role":"ingest"}`), 200), &made)
	if made.Tenant != "acme" || made.Expires != nil {
		t.Errorf("acme's token: %+v", made)
	}
	if body := acme.call("POST", "/api/v1/tokens", jsonBody, []byte(`{"role":"viewer","tenant":"*"}`), 403); !strings.Contains(string(body), "every tenant") {
		t.Errorf("acme's admin making a token of every tenant: %s", body)
	}
	acme.call("POST", "/api/v1/tokens", jsonBody, []byte(`{"role":"viewer","tenant":"globex"}`), 403)
	var listed []auth.TokenInfo
	decode(acme.call("GET", "/api/v1/tokens", http.Header{}, nil, 200), &listed)
	for _, tok := range listed {
		if tok.Tenant != "acme" {
			t.Errorf("acme's admin sees a token of %q: %+v", tok.Tenant, tok)
		}
	}
	if body := acme.call("DELETE", "/api/v1/tokens/"+everyTenant, http.Header{}, nil, 404); !strings.Contains(string(body), "no token "+everyTenant) {
		t.Errorf("acme's admin revoking another's token: %s", body)
	}
	acme.call("DELETE", "/api/v1/tokens/nope", http.Header{}, nil, 404)

	// A viewer token made over HTTP reads at once, and not after it is
	// revoked.
	decode(acme.call("POST", "/api/v1/tokens", jsonBody, []byte(`{"role":"viewer"}`), 200), &made)
	reader := newValidator(t, mux)
	reader.bearer = made.Token
	reader.call("GET", "/api/v1/budgets", http.Header{}, nil, 200)
	reader.call("GET", "/api/v1/tokens", http.Header{}, nil, 403)
	var revoked auth.TokenInfo
	decode(acme.call("DELETE", "/api/v1/tokens/"+made.ID, http.Header{}, nil, 200), &revoked)
	if revoked.Status != "revoked" || revoked.Revoked == nil {
		t.Errorf("revoked: %+v", revoked)
	}
	tenantsOf := func(query string) string {
		t.Helper()
		decode(v.call("GET", "/api/v1/tokens"+query, http.Header{}, nil, 200), &listed)
		var tenants []string
		for _, tok := range listed {
			tenants = append(tenants, tok.Tenant)
		}
		return strings.Join(tenants, ",")
	}
	if got := tenantsOf(""); !strings.Contains(got, "*") || !strings.Contains(got, "acme") || !strings.Contains(got, "default") {
		t.Errorf("the admin of every tenant sees tokens of %v", got)
	}
	if got := tenantsOf("?tenant=acme"); got != "acme,acme,acme" {
		t.Errorf("acme's tokens: %v", got)
	}
	v.call("GET", "/api/v1/tokens?tenant=a/b", http.Header{}, nil, 400)
	decode(acme.call("POST", "/api/v1/tokens", jsonBody, []byte(`{"role":"viewer"}`), 200), &made)
	v.call("DELETE", "/api/v1/tokens/"+made.ID, http.Header{}, nil, 200) // the admin of every tenant revokes acme's
	for _, vv := range []*validator{acme, reader} {
		for k := range vv.seen {
			v.seen[k] = true
		}
	}
}
