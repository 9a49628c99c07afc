package main

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHangingReceiversHoldUpNothing runs vigil serve with three alert
// receivers, two of which never answer: the working one gets the alert
// within seconds, the SLO's evaluations keep finishing in time, the alert
// is in the API at once, and the hanging receivers are retried and every
// attempt logged.
func TestHangingReceiversHoldUpNothing(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "slos.yaml"), []byte(`slos:
  - name: chat-availability
    service: chat-gateway
    availability: true
    objective: 99%
`), 0o644)
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // until the client gives up, or the test ends
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hang.Close()
	defer close(release)
	var mu sync.Mutex
	var arrived time.Time
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if arrived.IsZero() {
			arrived = time.Now()
		}
		mu.Unlock()
	}))
	defer slack.Close()
	v := startServe(t, "", "--config-dir", dir, "--analyzer.interval", "1s", "--alert.timeout", "2s",
		"--alertmanager.url", hang.URL, "--alert.webhook-url", hang.URL+"/hook", "--alert.slack-url", slack.URL)

	sendChat(t, v, 0, 100, 50) // 50% errors: every rule fires
	var firingAt time.Time
	for deadline := time.Now().Add(30 * time.Second); firingAt.IsZero(); time.Sleep(100 * time.Millisecond) {
		var alerts []struct{ State string }
		v.getJSON(t, "/api/v1/alerts", &alerts)
		if len(alerts) > 0 && alerts[0].State == "firing" {
			firingAt = time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatal("no alert fired")
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		got := arrived
		mu.Unlock()
		if !got.IsZero() {
			// Both hang on their first attempt meanwhile; Slack does not wait.
			if d := got.Sub(firingAt); d > 3*time.Second {
				t.Errorf("Slack got the alert %s after the API showed it", d)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the working receiver got nothing within 10s of the alert firing")
		}
	}

	// The hanging receivers: retried, each attempt in the log.
	type delivery struct {
		Receiver, Outcome, Try, Error string
	}
	tries := map[string]int{}
	for deadline := time.Now().Add(30 * time.Second); tries["alertmanager"] < 2 || tries["webhook"] < 2; time.Sleep(250 * time.Millisecond) {
		var log []delivery
		v.getJSON(t, "/api/v1/alerts/deliveries", &log)
		tries = map[string]int{}
		for _, d := range log {
			n, _ := strconv.Atoi(d.Try)
			if d.Receiver != "slack" && (d.Outcome != "retrying" || !strings.Contains(d.Error, "Timeout")) {
				t.Fatalf("a hanging receiver's attempt: %+v", d)
			}
			tries[d.Receiver] = max(tries[d.Receiver], n)
		}
		if time.Now().After(deadline) {
			t.Fatalf("attempts logged: %v, want two or more of each hanging receiver", tries)
		}
	}
	if tries["slack"] != 1 {
		t.Errorf("slack's attempts: %d", tries["slack"])
	}
	// Every SLO evaluation finished within its tick: none failed, and
	// the longest took well under the one-second interval.
	metrics := ownMetrics(t, v)
	if n := metrics[`vigil_analyzer_job_failures_total{job="slo"}`]; n != 0 {
		t.Errorf("%v SLO evaluations failed", n)
	}
	if runs := metrics[`vigil_analyzer_job_runs_total{job="slo"}`]; runs < 5 {
		t.Errorf("only %v SLO evaluations ran", runs)
	}
	if slow := metrics[`vigil_analyzer_job_duration_seconds_count{job="slo"}`] - metrics[`vigil_analyzer_job_duration_seconds_bucket{job="slo",le="0.256"}`]; slow != 0 {
		t.Errorf("%v SLO evaluations took longer than 256ms", slow)
	}
	if n := metrics[`vigil_dispatch_attempts_total{outcome="retrying",subscriber="alertmanager"}`]; n < 2 {
		t.Errorf("alertmanager retries counted: %v", n)
	}
	v.stop(t)
}

// ownMetrics reads vigil's own /metrics as series → value.
func ownMetrics(t *testing.T, v *vigilServer) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + v.web + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if f, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = f
		}
	}
	return out
}
