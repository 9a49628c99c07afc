package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// TestJWTIngestAndRateLimits: a CI job sends spans with a JWT of its own
// issuer, which the auth: section maps to ingest in acme; the section's
// limit for acme answers 429 with Retry-After past its burst, counted in
// /metrics, and an edit of the section lifts it without a restart.
func TestJWTIngestAndRateLimits(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "ci"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "ci", Algorithm: "ES256", Use: "sig"}}})
	}))
	defer keys.Close()
	claims, _ := json.Marshal(map[string]any{"iss": "https://ci.example.com", "sub": "repo:acme/app", "aud": "vigil", "exp": time.Now().Add(time.Hour).Unix()})
	jws, _ := signer.Sign(claims)
	jwt, _ := jws.CompactSerialize()

	configDir := t.TempDir()
	authFile := filepath.Join(configDir, "auth.yaml")
	limited := "auth:\n  subjects:\n    repo:acme/app: {acme: ingest}\n  limits:\n    acme:\n      tenant: {requests_per_second: 0.01, requests_burst: 2}\n"
	os.WriteFile(authFile, []byte(limited), 0o644)
	v := startServe(t, "", "--config-dir", configDir, "--config.poll-interval", "1s",
		"--auth.jwt.issuer", "https://ci.example.com", "--auth.jwt.audience", "vigil", "--auth.jwt.jwks-url", keys.URL)

	send := func() (int, http.Header) {
		req, _ := http.NewRequest("POST", "http://"+v.http+"/v1/traces", strings.NewReader(`{"resourceSpans":[]}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+jwt)
		resp, err := plainClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	for i := range 2 {
		if code, _ := send(); code != 200 {
			t.Fatalf("export %d with the CI job's JWT: %d", i, code)
		}
	}
	if code, h := send(); code != 429 || h.Get("Retry-After") == "" {
		t.Errorf("past acme's burst: %d, Retry-After %q", code, h.Get("Retry-After"))
	}
	if _, body := get(t, v.proc, "http://"+v.web+"/metrics"); !strings.Contains(body, `vigil_auth_rate_limited_total{limit="tenant",tenant="acme",unit="requests"} 1`) {
		t.Errorf("the refusal is not counted:\n%s", grepLines(body, "vigil_auth_rate_limited"))
	}
	// The limit lifted by an edit of the auth: section, read again.
	os.WriteFile(authFile, []byte("auth:\n  subjects:\n    repo:acme/app: {acme: ingest}\n"), 0o644)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if code, _ := send(); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the limit outlives its removal from the auth: section:\n%s", v.stderr)
		}
	}
}

// grepLines are the lines of text that hold s.
func grepLines(text, s string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
