package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// needChromium is the path of Debian's chromium (scripts/deps installs
// it), or skips the test without it unless VIGIL_TEST_STRICT is set.
func needChromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("VIGIL_TEST_STRICT") != "" {
			t.Fatal("VIGIL_TEST_STRICT is set but chromium is not installed (scripts/deps installs it)")
		}
		t.Skip("chromium is not installed")
	}
	return path
}

// oidcProvider is a real OpenID provider on loopback: tools/oidcop, the
// example provider of github.com/zitadel/oidc, with one client and one
// user in the groups given.
type oidcProvider struct {
	issuer, user, password string
}

func startOIDCProvider(t *testing.T, clientSecret, redirect string, groups ...string) *oidcProvider {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "oidcop")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Join("..", "..", "tools", "oidcop")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building tools/oidcop: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	op := &oidcProvider{issuer: "http://localhost:" + port + "/", user: "alice", password: "alice-Password-planted-5678"}
	p := startProgram(t, bin, nil, "-addr", addr, "-host", "localhost", "-client-id", "vigil", "-client-secret", clientSecret,
		"-redirect-uri", redirect, "-user", op.user, "-password", op.password, "-email", "alice@example.com", "-groups", strings.Join(groups, ","))
	if code, _ := get(t, p, op.issuer+".well-known/openid-configuration"); code != 200 {
		t.Fatalf("the OpenID provider's discovery: %d", code)
	}
	return op
}

// TestOIDCBrowserLogin is the sign-in a person makes: headless Chromium
// opens Vigil, follows "Sign in with ..." to a real OpenID provider's
// page, types a user and password there, and comes back to Vigil signed
// in with the role the auth: section gives the user's group — and no
// more. Then the session acts as the browser would, CSRF token and all,
// and signs out.
func TestOIDCBrowserLogin(t *testing.T) {
	chromium := needChromium(t)
	web := freeAddr(t)
	base := "http://" + web
	clientSecret := "oidc-client-Secret-planted-1234"
	op := startOIDCProvider(t, clientSecret, base+"/login/oidc/callback", "sre", "interns")

	dir := t.TempDir()
	configDir, secretFile := filepath.Join(dir, "config"), filepath.Join(dir, "oidc-secret")
	os.Mkdir(configDir, 0o755)
	os.WriteFile(filepath.Join(configDir, "auth.yaml"), []byte("auth:\n  groups:\n    sre: {acme: operator}\n    admins: {\"*\": admin}\n"), 0o644)
	os.WriteFile(secretFile, []byte(clientSecret+"\n"), 0o600)
	v := startServeOn(t, web, "", "--data-dir", filepath.Join(dir, "data"), "--config-dir", configDir,
		"--auth.oidc.issuer", op.issuer, "--auth.oidc.client-id", "vigil", "--auth.oidc.client-secret-file", secretFile,
		"--auth.oidc.redirect-url", base+"/login/oidc/callback")
	if log := v.stderr.String(); !strings.Contains(log, "through the OpenID provider") || strings.Contains(log, "password=") {
		t.Errorf("with an OpenID provider the local admin is made anyway:\n%s", log)
	}

	actx, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.UserDataDir(filepath.Join(dir, "chromium")))...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"), // signed out, Vigil sends the browser to /login
		chromedp.Click(chromedp.CSS(`a[href="/login/oidc"]`)),
		chromedp.WaitVisible(chromedp.ID("username")), // the provider's own page
		chromedp.SendKeys(chromedp.ID("username"), op.user),
		chromedp.SendKeys(chromedp.ID("password"), op.password),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".who")), // the web UI, signed in
	)
	if err != nil {
		t.Fatalf("signing in through the provider: %v\nvigil:\n%s", err, v.stderr)
	}
	// The group sre is operator in acme and nothing else: the UI opens
	// on acme's services and offers no other tenant.
	location, _ := chromedp.Run(ctx, chromedp.Location())
	who, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".who")))
	tenants, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#tenant-pick option')].map(o => o.value)`))
	if !strings.HasPrefix(location, base+"/services") || !strings.Contains(who, "alice@example.com") || !slices.Equal(tenants, []string{"acme"}) {
		t.Fatalf("after signing in, at %s as %q with tenants %q", location, who, tenants)
	}

	// The session acts as the browser: reads, is refused what operator
	// may not, and changes only with the page's CSRF token.
	for _, c := range []struct {
		name, script, want string
	}{
		{"a read", `fetch('/api/v1/slos').then(r => r.status)`, "200"},
		{"the audit log, which needs admin", `fetch('/api/v1/audit').then(r => r.status)`, "403"},
		{"another tenant", `fetch('/api/v1/slos', {headers: {'X-Scope-OrgID': 'globex'}}).then(r => r.status)`, "403"},
		{"a change without the CSRF token", `fetch('/api/v1/silences', {method: 'POST', body: '{"matchers":{"slo":"x"},"duration":"1h"}'}).then(r => r.text())`, "CSRF token"},
		{"a change with it", `fetch('/api/v1/silences', {method: 'POST', headers: {'X-CSRF-Token': document.querySelector('input[name=csrf]').value},
			body: '{"matchers":{"slo":"x"},"duration":"1h"}'}).then(r => r.status)`, "200"},
	} {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[any](c.script, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if s := fmt.Sprint(got); !strings.Contains(s, c.want) {
			t.Errorf("%s: %q, want %q", c.name, s, c.want)
		}
	}

	// Signing out ends the session: the API answers 401 again.
	err = chromedp.Do(ctx, chromedp.Click(`//button[text()="Sign out"]`), chromedp.WaitVisible(chromedp.CSS(`a[href="/login/oidc"]`)))
	status, err2 := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch('/api/v1/slos').then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil || err2 != nil || status != 401 {
		t.Errorf("after signing out: %d, %v, %v", status, err, err2)
	}

	// The sign-in is in the audit log (written each second), with the
	// groups that gave the role.
	var audit []struct{ Action, Actor, Detail string }
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		v.getJSON(t, "/api/v1/audit", &audit)
		if slices.ContainsFunc(audit, func(a struct{ Action, Actor, Detail string }) bool {
			return a.Action == "login" && a.Actor == "person:alice@example.com" && strings.Contains(a.Detail, "groups: sre, interns")
		}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no audited sign-in of alice: %+v", audit)
		}
	}
	v.stop(t)
	for _, secret := range []string{clientSecret, op.password} {
		if strings.Contains(v.stderr.String(), secret) {
			t.Errorf("a secret is in Vigil's log: %s", secret)
		}
	}
}
