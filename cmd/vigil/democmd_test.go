package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/demo"
)

// TestDemoTarget runs the fleet alone, `vigil demo --target`, in its own
// process against a `vigil serve` of its own on ClickHouse (and on the
// embedded store), as a person trying Vigil on their own deployment
// would: the config and scrape files written by --write-config, one admin
// token, the control secret in both environments. The story plays through
// to the rollback, approved by --mode auto through the API: traces of
// every service arrive, the bill is imported, the canary fails, the
// rollback is proposed, approved and posted to the fleet, whose canary
// stops serving.
func TestDemoTarget(t *testing.T) {
	// Parallel: waits on the fleet's clock, as the story does.
	t.Parallel()
	t.Run("clickhouse", func(t *testing.T) {
		ch := needClickHouse(t)
		db := fmt.Sprintf("vigil_demo_%d", time.Now().UnixNano())
		defer dropDatabase(ch, db)
		testDemoTarget(t, "clickhouse://"+ch+"/"+db)
	})
	t.Run("embedded", func(t *testing.T) { testDemoTarget(t, "") })
}

func testDemoTarget(t *testing.T, storeURL string) {
	dir, dataDir := t.TempDir(), t.TempDir()
	control, gateway, gpu := freeAddr(t), freeAddr(t), freeAddr(t)
	out, errOut, code := runVigil(t, nil, "demo", "--write-config", dir, "--control-address", control, "--gateway-metrics-address", gateway, "--gpu-metrics-address", gpu)
	if code != 0 || !strings.Contains(out, "--collector.scrape-config "+filepath.Join(dir, "scrape.yaml")) {
		t.Fatalf("--write-config: %d %s %s", code, out, errOut)
	}
	// What it wrote passes lint.
	if out, errOut, code := runVigil(t, nil, "lint", "--config-dir", filepath.Join(dir, "config")); code != 0 {
		t.Fatalf("lint of the written config: %d %s %s", code, out, errOut)
	}
	// Misuse is named.
	if _, errOut, code := runVigil(t, nil, "demo", "--target", "ftp://x"); code != 2 || !strings.Contains(errOut, "not an http(s) URL") {
		t.Errorf("a bad --target: %d %s", code, errOut)
	}
	if _, errOut, code := runVigil(t, []string{demo.SecretEnv + "="}, "demo", "--target", "http://127.0.0.1:1"); code != 2 || !strings.Contains(errOut, demo.SecretEnv+" is not set") {
		t.Errorf("no secret: %d %s", code, errOut)
	}

	secret := demo.SecretEnv + "=demo-target-test-secret"
	token := createToken(t, dataDir, storeURL, "*", "admin")
	web, grpc, ingest := freeAddr(t), freeAddr(t), freeAddr(t)
	args := []string{"serve", "--data-dir", dataDir, "--config-dir", filepath.Join(dir, "config"), "--collector.scrape-config", filepath.Join(dir, "scrape.yaml"),
		"--web.listen-address", web, "--collector.otlp-grpc-address", grpc, "--collector.http-address", ingest,
		"--collector.jaeger-agent-address", freeUDPAddr(t), "--analyzer.interval", "5s"}
	if storeURL != "" {
		args = append(args, "--store", storeURL)
	}
	vigil := start(t, []string{secret}, args...)
	if code, _ := get(t, vigil, "http://"+web+"/readyz"); code != 200 {
		t.Fatalf("vigil is not ready: %s", vigil.stderr)
	}

	fleet := exec.Command(binary, "demo", "--target", "http://"+web, "--ingest", "http://"+ingest, "--otlp-grpc", grpc,
		"--speed", "10", "--mode", "auto", "--control-address", control, "--gateway-metrics-address", gateway, "--gpu-metrics-address", gpu)
	fleet.Env = append(fleet.Environ(), secret, "VIGIL_TOKEN="+token)
	var fleetOut syncBuf
	fleet.Stdout, fleet.Stderr = &fleetOut, &fleetOut
	if err := fleet.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- fleet.Wait() }()
	t.Cleanup(func() { fleet.Process.Kill() })
	// The token stays out of the fleet's log.
	defer func() {
		if strings.Contains(fleetOut.String(), token) {
			t.Errorf("the token is in the fleet's log")
		}
	}()

	api := func(path string, out any) bool {
		req, _ := http.NewRequest("GET", "http://"+web+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return resp.StatusCode == 200 && json.NewDecoder(resp.Body).Decode(out) == nil
	}
	began := time.Now()
	await := func(what string, within time.Duration, check func() bool) {
		t.Helper()
		for deadline := time.Now().Add(within); !check(); time.Sleep(time.Second) {
			select {
			case err := <-exited:
				t.Fatalf("the fleet exited (%v) while waiting for %s:\n%s", err, what, tail(fleetOut.String()))
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not happen within %s; the fleet:\n%s\nvigil:\n%s", what, within, tail(fleetOut.String()), tail(vigil.stderr.String()))
			}
		}
		t.Logf("%s: %.1fs after the fleet started", what, time.Since(began).Seconds())
	}
	await("traces of every service", 3*time.Minute, func() bool {
		var services struct{ Data []string }
		if !api("/api/services", &services) {
			return false
		}
		for _, want := range []string{"llm-gateway", "chat-model", "embedding", "vector-search", "ranker"} {
			if !contains(services.Data, want) {
				return false
			}
		}
		return true
	})
	await("the bill and the week of history", 5*time.Minute, func() bool {
		return strings.Contains(fleetOut.String(), "imported the fleet's cloud bill") && strings.Contains(fleetOut.String(), "the week of history is in")
	})
	var rolledBack string
	await("the rollback approved by --mode auto and posted to the fleet", 6*time.Minute, func() bool {
		resp, err := http.Get("http://" + control + "/control/state")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var st demo.State
		json.NewDecoder(resp.Body).Decode(&st)
		if st.Routing.CanaryWeight != 0 || len(st.Changes) != 1 {
			return false
		}
		rolledBack = st.Changes[0].Action
		return true
	})
	var a actions.Action
	if !api("/api/v1/actions/"+rolledBack, &a) || a.Policy != demo.RollbackPolicy {
		t.Fatalf("the action the fleet took: %+v", a)
	}
	approvedByAutopilot := false
	for _, s := range a.Timeline {
		approvedByAutopilot = approvedByAutopilot || s.State == actions.Approved && s.Decision == actions.VerbApprove && strings.Contains(s.Reason, "autopilot")
	}
	if !approvedByAutopilot {
		t.Errorf("the timeline lacks the autopilot's approval: %+v", a.Timeline)
	}
	// Only one proposal was open: the failing verdicts kept it.
	var all struct{ Actions []actions.Summary }
	if api("/api/v1/actions?policy="+demo.RollbackPolicy, &all) && len(all.Actions) != 1 {
		t.Errorf("%d actions of the rollback policy, want 1: %+v", len(all.Actions), all.Actions)
	}

	fleet.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the fleet stopped with %v:\n%s", err, tail(fleetOut.String()))
		}
	case <-time.After(time.Minute):
		t.Fatalf("the fleet did not stop:\n%s", tail(fleetOut.String()))
	}
}

// syncBuf is a buffer a process writes to while the test reads it.
type syncBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
