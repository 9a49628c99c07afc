package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// testIssuer is a small OpenID provider for auth's unit tests: discovery,
// keys, and the authorization code flow with PKCE, signing what a test
// tells it to. The end-to-end test in cmd/vigil uses a real provider.
type testIssuer struct {
	t      *testing.T
	srv    *httptest.Server
	signer jose.Signer

	mu sync.Mutex
	// login is what the next sign-in proves: the ID token's extra claims
	// and the userinfo's.
	login, userinfo map[string]any
	codes           map[string]pending // by code
}

// pending is an authorization the token endpoint will honour once.
type pending struct {
	challenge, nonce, clientID, redirect string
}

const testClientID, testClientSecret = "vigil", "client-secret-planted-1234"

func newTestIssuer(t *testing.T) *testIssuer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	is := &testIssuer{t: t, signer: signer, codes: map[string]pending{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", is.discovery)
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", is.authorize)
	mux.HandleFunc("POST /token", is.token)
	mux.HandleFunc("GET /userinfo", func(w http.ResponseWriter, r *http.Request) {
		is.mu.Lock()
		defer is.mu.Unlock()
		json.NewEncoder(w).Encode(is.userinfo)
	})
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

func (is *testIssuer) url() string { return is.srv.URL }

func (is *testIssuer) discovery(w http.ResponseWriter, r *http.Request) {
	u := is.srv.URL
	json.NewEncoder(w).Encode(map[string]any{"issuer": u, "authorization_endpoint": u + "/authorize", "token_endpoint": u + "/token",
		"jwks_uri": u + "/keys", "userinfo_endpoint": u + "/userinfo", "id_token_signing_alg_values_supported": []string{"RS256"}})
}

// sign makes a JWT of the claims, signed with the issuer's key.
func (is *testIssuer) sign(claims map[string]any) string {
	is.t.Helper()
	body, _ := json.Marshal(claims)
	jws, err := is.signer.Sign(body)
	if err != nil {
		is.t.Fatal(err)
	}
	s, _ := jws.CompactSerialize()
	return s
}

// claims are a token's standard claims for sub, valid for an hour from now.
func (is *testIssuer) claims(sub, aud string, now time.Time, extra map[string]any) map[string]any {
	c := map[string]any{"iss": is.srv.URL, "sub": sub, "aud": aud, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

// authorize signs the browser in at once (no page) and sends it back to
// the client with a code, as a provider does after its login page.
func (is *testIssuer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "want the code flow with PKCE (S256)", http.StatusBadRequest)
		return
	}
	code := randomHex(8)
	is.mu.Lock()
	is.codes[code] = pending{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), clientID: q.Get("client_id"), redirect: q.Get("redirect_uri")}
	is.mu.Unlock()
	back, _ := url.Parse(q.Get("redirect_uri"))
	back.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// token redeems a code once, checking the client's secret and the PKCE
// verifier.
func (is *testIssuer) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	is.mu.Lock()
	p, found := is.codes[r.PostFormValue("code")]
	delete(is.codes, r.PostFormValue("code"))
	login := is.login
	is.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	switch {
	case id != testClientID || secret != testClientSecret:
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	case !found || p.redirect != r.PostFormValue("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != p.challenge:
		http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
		return
	}
	claims := is.claims("user-1", p.clientID, time.Now(), login)
	claims["nonce"] = p.nonce
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": "at-" + randomHex(8), "token_type": "Bearer", "expires_in": 300, "id_token": is.sign(claims)})
}
