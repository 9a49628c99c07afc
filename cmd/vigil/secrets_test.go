package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/auth"
)

// TestNoSecretInLogsOrAnswers plants a secret in every flag that takes
// one — the webhook secret, the Slack URL and the OpenID Connect client
// secret from files, the ClickHouse password from a file and in the URL —
// and looks for them in Vigil's log and in the answer (body and headers)
// of every route of the web port, sign-in through the provider included.
func TestNoSecretInLogsOrAnswers(t *testing.T) {
	dir := t.TempDir()
	planted := map[string]string{"webhook": "planted-Webhook-secret-1a2b", "slack": "planted-Slack-path-3c4d",
		"oidc": "planted-OIDC-secret-5e6f", "clickhouse": "planted-CH-password-7a8b", "grafana": "planted-Grafana-token-9c0d"}
	file := func(name, v string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(v+"\n"), 0o600)
		return p
	}
	var seen []string
	check := func(where, text string) {
		t.Helper()
		seen = append(seen, where)
		for name, secret := range planted {
			if strings.Contains(text, secret) {
				t.Errorf("the %s secret is in %s:\n%s", name, where, text)
			}
		}
	}

	// The ClickHouse password, from a file and in the URL: start-up fails,
	// and its one line does not repeat it.
	ch := needClickHouse(t)
	for _, args := range [][]string{
		{"--store", "clickhouse://" + ch + "/vigil_secrets", "--store-password-file", file("ch-password", planted["clickhouse"])},
		{"--store", "clickhouse://default:" + planted["clickhouse"] + "%zz@" + ch + "/vigil_secrets"},
	} {
		p := start(t, nil, append(append([]string{"serve", "--web.listen-address", freeAddr(t)}, collectorPorts(t)...), args...)...)
		if code := p.wait(t); code != 1 {
			t.Errorf("a wrong ClickHouse password: exit %d\n%s", code, p.stderr)
		}
		check("the start-up error", p.stderr.String())
	}

	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer receiver.Close()
	web := freeAddr(t)
	op := startOIDCProvider(t, planted["oidc"], "http://"+web+"/login/oidc/callback", "sre")
	v := startServeOn(t, web, "", "--alert.webhook-url", receiver.URL+"/hook", "--alert.webhook-secret-file", file("webhook", planted["webhook"]),
		"--alert.slack-url-file", file("slack", receiver.URL+"/services/"+planted["slack"]),
		"--auth.oidc.issuer", op.issuer, "--auth.oidc.client-id", "vigil", "--auth.oidc.client-secret-file", file("oidc", planted["oidc"]),
		"--auth.oidc.redirect-url", "http://"+web+"/login/oidc/callback",
		"--grafana.url", receiver.URL+"/grafana", "--grafana.token-file", file("grafana", planted["grafana"]))

	// Every route of the web port, as an admin of every tenant.
	routes := portRoutes(t, auth.New(auth.Options{Store: openStore(t), OIDC: &auth.OIDCOptions{Issuer: op.issuer, RedirectURL: "http://" + web + "/login/oidc/callback"}}), false)["web"]
	for _, rt := range routes {
		method := rt.Method
		if method == "" {
			method = "GET"
		}
		// seconds=1: the CPU profile and the trace take that long, not 30 s.
		req, _ := http.NewRequest(method, "http://"+web+pathOf(rt.Pattern)+"?seconds=1", strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+v.token)
		check(rt.String(), answerOf(t, plainClient, req))
	}
	// A sign-in through the provider with a forged code: Vigil redeems it
	// with its client secret, and the provider refuses.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	start, _ := http.NewRequest("GET", "http://"+web+"/login/oidc", nil)
	check("the sign-in's start", answerOf(t, browser, start))
	resp, err := browser.Get("http://" + web + "/login/oidc")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	to, _ := url.Parse(resp.Header.Get("Location"))
	callback, _ := http.NewRequest("GET", "http://"+web+"/login/oidc/callback?code=forged&state="+to.Query().Get("state"), nil)
	if got := answerOf(t, browser, callback); !strings.Contains(got, "502") {
		t.Errorf("a forged code: %s", got)
	}

	v.stop(t)
	check("the log", v.stderr.String())
	if !strings.Contains(v.stderr.String(), "an OpenID Connect sign-in failed") || len(seen) < 40 {
		t.Errorf("looked at %d answers; the forged sign-in is not logged:\n%s", len(seen), v.stderr)
	}
}

// answerOf sends a request and returns its status, headers and body as
// text.
func answerOf(t *testing.T, c *http.Client, req *http.Request) string {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var b strings.Builder
	b.WriteString(resp.Status + "\n")
	resp.Header.Write(&b)
	b.Write(body)
	return b.String()
}
