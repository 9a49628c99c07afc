package main

import (
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// tokens maps the address of a running vigil (host:port) to the API
// token its tests' clients send: startServe makes one with vigil token
// create before the server starts, as a user would.
var tokens sync.Map

// bearerClient sends the token of the address it calls, when the request
// carries no Authorization of its own: the tests' http.Get and http.Post
// authenticate as a user's HTTP client would.
type bearerClient struct{ next http.RoundTripper }

func (b bearerClient) RoundTrip(r *http.Request) (*http.Response, error) {
	if tok, ok := tokens.Load(r.URL.Host); ok && r.Header.Get("Authorization") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+tok.(string))
	}
	return b.next.RoundTrip(r)
}

func init() { http.DefaultClient.Transport = bearerClient{next: http.DefaultTransport} }

// headers are the OTLP exporter headers for a vigil address: its token as
// authorization, and the pairs kv.
func headers(addr string, kv ...string) map[string]string {
	h := map[string]string{}
	if tok, ok := tokens.Load(addr); ok {
		h["authorization"] = "Bearer " + tok.(string)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = kv[i+1]
	}
	return h
}

// createToken runs vigil token create on a data directory (or store) and
// returns the token it prints.
func createToken(t *testing.T, dataDir, storeURL, tenant, role string) string {
	t.Helper()
	args := []string{"token", "create", "--data-dir", dataDir, "--tenant", tenant, "--role", role}
	if storeURL != "" {
		args = append(args, "--store", storeURL)
	}
	cmd := exec.Command(binary, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("vigil token create: %v\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// withToken gives a command run against a server that server's token in
// VIGIL_TOKEN, the environment twin of --token.
func withToken(v *vigilServer, cmd *exec.Cmd) *exec.Cmd {
	cmd.Env = append(os.Environ(), "VIGIL_TOKEN="+v.token)
	return cmd
}
