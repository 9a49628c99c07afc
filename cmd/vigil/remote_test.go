package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runVigil runs the binary with env added and returns its stdout, its stderr
// and its exit code.
func runVigil(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("vigil %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// TestCLIThroughServer runs the store commands against a running vigil
// serve on the embedded store — with --server, with VIGIL_SERVER, and on
// their own when they find the store locked — and holds their output and
// exit codes to what the same commands print on a store of their own.
func TestCLIThroughServer(t *testing.T) {
	dir, local := t.TempDir(), t.TempDir()
	bad := filepath.Join(local, "bad-rows.csv")
	sample, err := os.ReadFile(focusSample)
	if err != nil {
		t.Fatal(err)
	}
	// The sample's header, then a line short of fields: rejected, exit 1.
	header, _, _ := strings.Cut(string(sample), "\n")
	os.WriteFile(bad, []byte(header+"\n1,2,3\n"), 0o644)

	// On a store of its own: what the commands print there.
	wantOut, _, code := runVigil(t, nil, "import", "billing", "--data-dir", local, focusSample)
	if code != 0 || !strings.Contains(wantOut, "1000 accepted, 0 rejected") {
		t.Fatalf("local import: exit %d\n%s", code, wantOut)
	}
	wantBad, _, wantBadCode := runVigil(t, nil, "import", "billing", "--data-dir", local, "--output", "json", bad)
	if wantBadCode != 1 || !strings.Contains(wantBad, `"rejected": 1`) {
		t.Fatalf("local import of a bad row: exit %d\n%s", wantBadCode, wantBad)
	}

	viewer := createToken(t, dir, "", "default", "viewer") // made before the server holds the store
	v := startServe(t, "", "--data-dir", dir)
	url := "http://" + v.web
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte(v.token+"\n"), 0o600)
	for _, c := range []struct {
		name string
		env  []string
		args []string
	}{
		{"--server and VIGIL_TOKEN", []string{"VIGIL_TOKEN=" + v.token}, []string{"--server", url}},
		{"VIGIL_SERVER and --token-file", []string{"VIGIL_SERVER=" + url}, []string{"--token-file", tokenFile}},
		{"the locked store's server", []string{"VIGIL_TOKEN=" + v.token}, []string{"--data-dir", dir}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, stderr, code := runVigil(t, c.env, append([]string{"import", "billing", focusSample}, c.args...)...)
			if code != 0 || out != wantOut {
				t.Errorf("import: exit %d\n%s\nwant:\n%s\nstderr: %s", code, out, wantOut, stderr)
			}
			if strings.Contains(stderr, v.token) || strings.Contains(out, v.token) {
				t.Errorf("the token is in the output")
			}
			out, _, code = runVigil(t, c.env, append([]string{"import", "billing", "--output", "json", bad}, c.args...)...)
			if code != wantBadCode || out != wantBad {
				t.Errorf("import of a bad row: exit %d, want %d\n%s\nwant:\n%s", code, wantBadCode, out, wantBad)
			}
		})
	}
	// The locked store's server is named on standard error when asked.
	if _, stderr, _ := runVigil(t, []string{"VIGIL_TOKEN=" + v.token}, "import", "billing", "--data-dir", dir, focusSample); !strings.Contains(stderr, "held by vigil serve (pid ") || !strings.Contains(stderr, "asking it at "+url) {
		t.Errorf("no note of the server asked: %s", stderr)
	}
	checkCostTotal(t, v)

	// A token short of the role: the server's refusal, exit 1.
	if _, stderr, code := runVigil(t, []string{"VIGIL_TOKEN=" + viewer}, "import", "billing", "--server", url, focusSample); code != 1 || !strings.Contains(stderr, "403 Forbidden") || !strings.Contains(stderr, "editor") || strings.Contains(stderr, viewer) {
		t.Errorf("a viewer importing: exit %d: %s", code, stderr)
	}
	// A bad --server and an unreadable --token-file say which.
	if _, stderr, code := runVigil(t, []string{"VIGIL_TOKEN=x"}, "import", "billing", "--server", "vigil:8080", focusSample); code != 1 || !strings.Contains(stderr, `--server: "vigil:8080" is not a server URL`) {
		t.Errorf("bad --server: exit %d: %s", code, stderr)
	}
	if _, stderr, code := runVigil(t, nil, "import", "billing", "--server", url, "--token-file", filepath.Join(dir, "nope"), focusSample); code != 1 || !strings.Contains(stderr, "--token-file: open ") {
		t.Errorf("missing --token-file: exit %d: %s", code, stderr)
	}

	// Repricing through the server prints what it prints on the store.
	sendModelCalls(t, v)
	from, to := time.Now().UTC().Add(-time.Hour).Truncate(time.Second), time.Now().UTC().Add(time.Minute).Truncate(time.Second)
	modelCosts(t, v, from, to, 4)
	priceFile := filepath.Join(local, "prices.yaml")
	os.WriteFile(priceFile, []byte(newPrices), 0o644)
	rangeArgs := []string{"cost", "reprice", "--dry-run", "--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339), "--price-file", priceFile}
	tokenEnv := []string{"VIGIL_TOKEN=" + v.token}
	var served []string
	for _, args := range [][]string{rangeArgs, append(rangeArgs, "--tenant", "default"), append(rangeArgs, "--output", "json")} {
		out, stderr, code := runVigil(t, tokenEnv, append(args, "--data-dir", dir)...)
		if code != 0 {
			t.Fatalf("reprice through the server: exit %d: %s", code, stderr)
		}
		served = append(served, out)
	}
	if !strings.Contains(served[0], "every tenant: would reprice (dry run, nothing written) 2 spans") || !strings.Contains(served[1], "tenant default: would reprice") {
		t.Errorf("reprice through the server:\n%s\n%s", served[0], served[1])
	}
	// Tokens through the server that holds the store: made, listed and
	// revoked as on the store, and listed the same after it stops.
	made, stderr, code := runVigil(t, tokenEnv, "token", "create", "--data-dir", dir, "--tenant", "acme", "--role", "viewer", "--name", "ci", "--expires", "30d")
	made = strings.TrimSpace(made)
	if code != 0 || !strings.HasPrefix(made, "vigil_") || !strings.Contains(stderr, "viewer in tenant acme") {
		t.Fatalf("token create through the server: exit %d: %q %s", code, made, stderr)
	}
	id := strings.Split(made, "_")[1]
	if out, stderr, code := runVigil(t, tokenEnv, "token", "revoke", "--data-dir", dir, id); code != 0 || !strings.Contains(out, "token "+id+" revoked at ") {
		t.Errorf("token revoke through the server: exit %d: %s %s", code, out, stderr)
	}
	listed, stderr, code := runVigil(t, tokenEnv, "token", "list", "--server", url, "--tenant", "acme", "--output", "json")
	if code != 0 || !strings.Contains(listed, `"status": "revoked"`) || strings.Contains(listed, made) {
		t.Errorf("token list through the server: exit %d: %s %s", code, listed, stderr)
	}
	if _, stderr, code := runVigil(t, []string{"VIGIL_TOKEN=" + viewer}, "token", "list", "--server", url); code != 1 || !strings.Contains(stderr, "admin") {
		t.Errorf("a viewer listing tokens: exit %d: %s", code, stderr)
	}
	v.stop(t)
	if local, stderr, code := runVigil(t, nil, "token", "list", "--data-dir", dir, "--tenant", "acme", "--output", "json"); code != 0 || local != listed {
		t.Errorf("token list on the store: exit %d %s\n%s\nthrough the server:\n%s", code, stderr, local, listed)
	}
	for i, args := range [][]string{rangeArgs, append(rangeArgs, "--tenant", "default"), append(rangeArgs, "--output", "json")} {
		out, stderr, code := runVigil(t, nil, append(args, "--data-dir", dir)...)
		if code != 0 || out != served[i] {
			t.Errorf("reprice %v on the store: exit %d %s\n%s\nthrough the server:\n%s", args[2:], code, stderr, out, served[i])
		}
	}
}
