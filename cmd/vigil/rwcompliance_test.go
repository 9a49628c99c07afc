package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// rwCompliance is Prometheus's remote-write receiver compliance suite, a Go
// module of tests run against a receiver named in its config.yml. It is
// run from a copy of its own module, so its dependencies never enter
// Vigil's go.mod (its go.mod also names another module path than the one
// it is served under, so it cannot be required anyway).
const rwCompliance = "github.com/prometheus/compliance/remotewrite/receiver@v0.0.0-20260806071727-67b8327a2e93"

// TestRemoteWriteCompliance runs the suite against `vigil serve`. Every
// test must pass but those that count exemplars written: Vigil does not
// store remote-written exemplars (its exemplars are its spans'), and says
// so with X-Prometheus-Remote-Write-Exemplars-Written: 0.
func TestRemoteWriteCompliance(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads and builds the suite")
	}
	dir := suiteCopy(t)
	v := startServe(t, "")
	os.WriteFile(filepath.Join(dir, "config.yml"), []byte("remote_write:\n  - name: vigil\n    url: http://"+v.http+"/api/v1/write\n    authorization:\n      credentials: "+v.token+"\n"), 0o644)
	cmd := exec.Command("go", "test", "-count=1", "-json", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	results, output := readTestJSON(out)
	cmd.Wait()
	passed, failed := 0, 0
	for _, name := range leafTests(results) {
		switch results[name] {
		case "pass":
			passed++
		case "fail":
			failed++
			if !strings.Contains(output[name], "exemplars written") {
				t.Errorf("%s failed:\n%s", name, output[name])
			}
		}
	}
	t.Logf("remote-write receiver compliance: %d passed, %d failed (exemplars not stored)", passed, failed)
	if passed == 0 {
		t.Fatalf("no test of the suite passed; go test said:\n%s", stderr.String())
	}
}

// suiteCopy downloads the suite's module and copies it where it can be
// built (the module cache is read-only).
func suiteCopy(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", rwCompliance).Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v", rwCompliance, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download: %v: %s", err, out)
	}
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-r", mod.Dir+"/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("copying the suite: %v: %s", err, out)
	}
	if out, err := exec.Command("chmod", "-R", "u+w", dir).CombinedOutput(); err != nil {
		t.Fatalf("chmod: %v: %s", err, out)
	}
	return dir
}

// readTestJSON reads `go test -json` events: each test's last action and
// its output.
func readTestJSON(r io.Reader) (results, output map[string]string) {
	results, output = map[string]string{}, map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e struct{ Action, Test, Output string }
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Test == "" {
			continue
		}
		switch e.Action {
		case "pass", "fail", "skip":
			results[e.Test] = e.Action
		case "output":
			output[e.Test] += e.Output
		}
	}
	return results, output
}

// leafTests are the tests without subtests: what the suite checks.
func leafTests(results map[string]string) []string {
	parents := map[string]bool{}
	for n := range results {
		for i := strings.LastIndexByte(n, '/'); i > 0; i = strings.LastIndexByte(n[:i], '/') {
			parents[n[:i]] = true
		}
	}
	var leaves []string
	for n := range results {
		if !parents[n] {
			leaves = append(leaves, n)
		}
	}
	sort.Strings(leaves)
	return leaves
}
