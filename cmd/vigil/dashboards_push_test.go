package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestDashboardsPush drives `vigil dashboards push` against a Grafana that
// knows nothing yet: the token reaches Grafana from the file or from
// GRAFANA_TOKEN, --dry-run writes nothing, and no token, Grafana's or the
// viewer's, is ever printed, not even when Grafana refuses it.
// (dashboards.Push's own tests cover updates, conflicts and provisioning.)
func TestDashboardsPush(t *testing.T) {
	const grafanaToken, viewerToken = "glsa_cli_secret_31415926", "vigil_viewer_secret_27182818"
	var mu sync.Mutex
	var writes []string
	var secrets []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+grafanaToken {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"message":"invalid API key"}`))
			return
		}
		if r.Method == http.MethodGet {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"message":"not found"}`))
			return
		}
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		writes = append(writes, r.Method+" "+r.URL.Path)
		if s, ok := body["secureJsonData"].(map[string]any); ok {
			secrets = append(secrets, s["httpHeaderValue1"].(string))
		}
		mu.Unlock()
		switch r.URL.Path {
		case "/grafana/api/folders":
			json.NewEncoder(w).Encode(map[string]any{"uid": body["uid"], "title": body["title"], "version": 1})
		case "/grafana/api/datasources":
			w.Write([]byte(`{"id":1,"message":"Datasource added"}`))
		case "/grafana/api/dashboards/db":
			d := body["dashboard"].(map[string]any)
			json.NewEncoder(w).Encode(map[string]any{"id": 1, "uid": d["uid"], "title": d["title"], "status": "success", "url": "/d/x", "version": 1})
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()

	dir := t.TempDir()
	tokenFile, viewerFile, wrongFile := filepath.Join(dir, "grafana"), filepath.Join(dir, "viewer"), filepath.Join(dir, "wrong")
	os.WriteFile(tokenFile, []byte(grafanaToken+"\n"), 0o600)
	os.WriteFile(viewerFile, []byte(viewerToken+"\n"), 0o600)
	os.WriteFile(wrongFile, []byte("glsa_wrong_secret_16180339\n"), 0o600)
	cfgDir := t.TempDir()
	os.WriteFile(filepath.Join(cfgDir, "slos.yaml"), []byte(dashboardSLOs), 0o644)

	push := func(env []string, args ...string) (int, string) {
		t.Helper()
		cmd := exec.Command(binary, append(append([]string{"dashboards", "push", "--grafana-url", srv.URL + "/grafana", "--config-dir", cfgDir}, dashboardFlags...), args...)...)
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "VIGIL_") && !strings.HasPrefix(kv, "GRAFANA_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, env...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.Run()
		for _, secret := range []string{grafanaToken, viewerToken, "glsa_wrong_secret_16180339"} {
			if strings.Contains(out.String(), secret) {
				t.Errorf("push %v printed a token:\n%s", args, out.String())
			}
		}
		return cmd.ProcessState.ExitCode(), out.String()
	}
	writeCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(writes)
	}

	if code, out := push(nil, "--grafana-token-file", tokenFile, "--dry-run"); code != 0 || !strings.Contains(out, "would create") || writeCount() != 0 {
		t.Fatalf("--dry-run: exit %d, %d writes:\n%s", code, writeCount(), out)
	}

	code, out := push([]string{"GRAFANA_TOKEN=" + grafanaToken}, "--viewer-token-file", viewerFile)
	if code != 0 || !strings.Contains(out, "pushed: 14 created, 0 updated, 0 unchanged, 0 refused") {
		t.Fatalf("push with GRAFANA_TOKEN: exit %d:\n%s", code, out)
	}
	if n := strings.Count(strings.Join(writes, "\n"), "POST /grafana/api/dashboards/db"); n != 10 {
		t.Errorf("%d dashboards saved, want 10: %v", n, writes)
	}
	if len(secrets) != 2 || secrets[0] != "Bearer "+viewerToken || secrets[1] != secrets[0] {
		t.Errorf("the data sources were sent %d secrets, want the viewer token twice", len(secrets))
	}

	before := writeCount()
	code, out = push(nil, "--grafana-token-file", wrongFile)
	if code != 2 || !strings.Contains(out, "401") || !strings.Contains(out, "--grafana-token-file or GRAFANA_TOKEN") || writeCount() != before {
		t.Errorf("a wrong token: exit %d, %d writes:\n%s", code, writeCount()-before, out)
	}
	if code, out := push(nil); code != 2 || !strings.Contains(out, "no Grafana token") {
		t.Errorf("no token: exit %d:\n%s", code, out)
	}
}
