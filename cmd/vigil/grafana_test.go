package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDashboardsSyncOnReload: a serve with --grafana.url keeps Grafana's
// SLO dashboards in step with the config directory: a reload that changes
// one SLO pushes that SLO's dashboard alone, into its team's folder, and
// the delivery log (/api/v1/alerts/deliveries?receiver=grafana) and the
// dispatcher's metric record it; the token is never printed.
func TestDashboardsSyncOnReload(t *testing.T) {
	const grafanaToken = "glsa_sync_secret_14142135"
	var mu sync.Mutex
	var saved []string // uid of each dashboard saved, folder uid after a slash
	var unauthorized int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+grafanaToken {
			mu.Lock()
			unauthorized++
			mu.Unlock()
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
		switch r.URL.Path {
		case "/api/folders":
			json.NewEncoder(w).Encode(map[string]any{"uid": body["uid"], "title": body["title"], "version": 1})
		case "/api/dashboards/db":
			d := body["dashboard"].(map[string]any)
			mu.Lock()
			saved = append(saved, d["uid"].(string)+"/"+body["folderUid"].(string))
			mu.Unlock()
			json.NewEncoder(w).Encode(map[string]any{"id": 1, "uid": d["uid"], "title": d["title"], "status": "success", "url": "/d/x", "version": 1})
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "grafana-token")
	os.WriteFile(tokenFile, []byte(grafanaToken+"\n"), 0o600)
	cfgDir := t.TempDir()
	os.WriteFile(filepath.Join(cfgDir, "slos.yaml"), []byte(dashboardSLOs), 0o644)

	v := startServe(t, "", "--config-dir", cfgDir, "--config.poll-interval", "1s", "--analyzer.interval", "1s",
		"--grafana.url", srv.URL, "--grafana.token-file", tokenFile, "--grafana.team", "chat=chat-gateway,ranker")
	// The sync job's first tick is the baseline: nothing is pushed.
	waitMetric(t, v, `vigil_analyzer_job_runs_total{job="grafana"}`)
	time.Sleep(2 * time.Second)
	mu.Lock()
	if len(saved) != 0 {
		t.Errorf("pushed %v before any reload", saved)
	}
	mu.Unlock()

	// A reload raises chat-latency's objective.
	changed := strings.Replace(dashboardSLOs, "latency: 500ms\n    objective: 99%", "latency: 500ms\n    objective: 99.5%", 1)
	if changed == dashboardSLOs {
		t.Fatal("chat-latency's objective not found in dashboardSLOs")
	}
	os.WriteFile(filepath.Join(cfgDir, "slos.yaml"), []byte(changed), 0o644)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		mu.Lock()
		n := len(saved)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no dashboard pushed after the reload; stderr:\n%s", v.stderr)
		}
	}
	var log []struct {
		Receiver, URL, Outcome, Note string
		Fingerprints                 []string
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		v.getJSON(t, "/api/v1/alerts/deliveries?receiver=grafana", &log)
		if len(log) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(log) != 1 || log[0].Outcome != "delivered" || log[0].URL != srv.URL || strings.Join(log[0].Fingerprints, ",") != "vigil-slo-chat-latency" ||
		!strings.HasPrefix(log[0].Note, "2 created") {
		t.Errorf("delivery log: %+v", log)
	}
	mu.Lock()
	if strings.Join(saved, " ") != "vigil-slo-chat-latency/vigil-team-chat" || unauthorized != 0 {
		t.Errorf("saved %v (%d unauthorized), want chat-latency's dashboard alone, in the chat team's folder", saved, unauthorized)
	}
	mu.Unlock()
	if got := waitMetric(t, v, `vigil_dispatch_attempts_total{outcome="delivered",subscriber="grafana"}`); got != "1" {
		t.Errorf("delivered attempts to grafana: %s", got)
	}
	v.stop(t)
	if strings.Contains(v.stderr.String(), grafanaToken) {
		t.Errorf("the Grafana token is in serve's log")
	}

	// Without a token file the flag is refused, naming what is missing;
	// so is a service in two teams.
	p := start(t, nil, "serve", "--data-dir", t.TempDir(), "--grafana.url", srv.URL)
	if code := p.wait(t); code != 2 || !strings.Contains(p.stderr.String(), "--grafana.url: give a service account's token with --grafana.token-file") {
		t.Errorf("--grafana.url without a token: exit %d, %s", code, p.stderr)
	}
	p = start(t, nil, "serve", "--data-dir", t.TempDir(), "--grafana.url", srv.URL, "--grafana.token-file", tokenFile,
		"--grafana.team", "chat=chat-gateway", "--grafana.team", "search=chat-gateway")
	if code := p.wait(t); code != 2 || !strings.Contains(p.stderr.String(), `--grafana.team: cannot generate dashboards: service "chat-gateway" belongs to two teams, "chat" and "search"`) {
		t.Errorf("a service in two teams: exit %d, %s", code, p.stderr)
	}
	if strings.Contains(p.stderr.String(), grafanaToken) || strings.Contains(p.stderr.String(), "store open") {
		t.Errorf("the token is in serve's log, or serve started before refusing its flags:\n%s", p.stderr)
	}
}

// waitMetric waits for a sample of Vigil's /metrics, named as the
// exposition writes it, and returns its value.
func waitMetric(t *testing.T, v *vigilServer, sample string) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		_, body := get(t, v.proc, "http://"+v.web+"/metrics")
		for _, line := range strings.Split(body, "\n") {
			if value, ok := strings.CutPrefix(line, sample+" "); ok {
				return value
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s in /metrics", sample)
		}
	}
}
