package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// These tests drive the real binary, as a user would.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vigil-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "vigil")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building vigil: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freeAddr and freeUDPAddr hand out loopback ports above the kernel's
// ephemeral range (ip_local_port_range, 32768-60999 by default). A port
// taken with ":0" and closed again comes from that range, where any
// outgoing connection of a parallel test (to ClickHouse, the API server,
// Vigil itself) may take it as its source port before vigil binds it:
// CI saw "bind: address already in use" that way. Above the range only
// an explicit bind can collide, and the counter keeps this process from
// handing out a port twice.
var nextPort atomic.Int32

func init() { nextPort.Store(61000 + int32(os.Getpid()%2000)) }

func freeAddr(t *testing.T) string {
	t.Helper()
	return freePort(t, func(addr string) (io.Closer, error) { return net.Listen("tcp", addr) })
}

func freeUDPAddr(t *testing.T) string {
	t.Helper()
	return freePort(t, func(addr string) (io.Closer, error) { return net.ListenPacket("udp", addr) })
}

func freePort(t *testing.T, listen func(string) (io.Closer, error)) string {
	t.Helper()
	for range 1000 {
		port := nextPort.Add(1)
		if port > 65535 {
			nextPort.CompareAndSwap(port, 61000)
			continue
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		if l, err := listen(addr); err == nil {
			l.Close()
			return addr
		}
	}
	t.Fatal("no free port above the ephemeral range")
	return ""
}

// collectorPorts are flags that put the collector's listeners on free ports.
func collectorPorts(t *testing.T) []string {
	return []string{"--collector.otlp-grpc-address", freeAddr(t), "--collector.http-address", freeAddr(t), "--collector.jaeger-agent-address", freeUDPAddr(t)}
}

type proc struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan error
}

// start runs vigil with args and a clean VIGIL_* environment plus env.
func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	return startProgram(t, binary, env, args...)
}

// startProgram runs a program the way start runs vigil; it is killed when
// the test ends.
func startProgram(t *testing.T, path string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(path, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VIGIL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	p := &proc{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	return p
}

// wait returns the exit code, failing the test after a minute.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(time.Minute):
		t.Fatalf("vigil did not exit; stderr:\n%s", p.stderr)
		return -1
	}
}

// get polls url until it answers or the process exits.
func get(t *testing.T, p *proc, url string) (int, string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			t.Fatalf("vigil exited (%v) before answering %s; stderr:\n%s", err, url, p.stderr)
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not answer; stderr:\n%s", url, p.stderr)
	return 0, ""
}

func TestServeEmbeddedKeepsDataAcrossRestarts(t *testing.T) {
	dataDir := t.TempDir()
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ev := store.Event{Tenant: "acme", ID: store.EventID(store.KindFinding, "restart"), Kind: store.KindFinding, Time: at, Summary: "kept"}
	for run := 0; run < 2; run++ {
		addr := freeAddr(t)
		// The environment twin sets the address; SIGTERM stops it cleanly.
		p := start(t, []string{"VIGIL_WEB_LISTEN_ADDRESS=" + addr}, append([]string{"serve", "--data-dir", dataDir, "--web.public-metrics"}, collectorPorts(t)...)...)
		if code, body := get(t, p, "http://"+addr+"/healthz"); code != 200 || body != "ok\n" {
			t.Fatalf("/healthz = %d %q", code, body)
		}
		if code, body := get(t, p, "http://"+addr+"/readyz"); code != 200 {
			t.Fatalf("/readyz = %d %q", code, body)
		}
		if code, body := get(t, p, "http://"+addr+"/metrics"); code != 200 || !strings.Contains(body, "vigil_build_info") {
			t.Fatalf("/metrics = %d, no vigil_build_info", code)
		}
		p.cmd.Process.Signal(syscall.SIGTERM)
		if code := p.wait(t); code != 0 {
			t.Fatalf("exit code after SIGTERM = %d; stderr:\n%s", code, p.stderr)
		}
		if !strings.Contains(p.stderr.String(), "shutting down") {
			t.Errorf("no shutdown message; stderr:\n%s", p.stderr)
		}

		// Between runs, look into the data directory the way the next run will.
		s, err := embedded.Open(context.Background(), dataDir)
		if err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			err = s.WriteEvents(context.Background(), []store.Event{ev})
		} else {
			var got []store.Event
			got, err = s.Events(context.Background(), store.EventQuery{Tenant: "acme", Start: at, End: at.Add(time.Hour)})
			if err == nil && (len(got) != 1 || got[0].Summary != "kept") {
				t.Errorf("after a restart the store holds %v", got)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}

func TestFlagWinsOverEnvironment(t *testing.T) {
	envAddr, flagAddr := freeAddr(t), freeAddr(t)
	p := start(t, []string{"VIGIL_WEB_LISTEN_ADDRESS=" + envAddr}, "web", "--data-dir", t.TempDir(), "--web.listen-address", flagAddr)
	if code, _ := get(t, p, "http://"+flagAddr+"/healthz"); code != 200 {
		t.Fatalf("flag address not served")
	}
	if _, err := http.Get("http://" + envAddr + "/healthz"); err == nil {
		t.Errorf("the environment address is served although the flag was given")
	}
	p.cmd.Process.Signal(os.Interrupt)
	if code := p.wait(t); code != 0 {
		t.Errorf("exit code after SIGINT = %d", code)
	}
}

// oneLineError runs vigil expecting exit code 1 and a single stderr line.
func oneLineError(t *testing.T, env []string, want string, args ...string) {
	t.Helper()
	p := start(t, env, args...)
	code := p.wait(t)
	lines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
	if code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "vigil: ") || !strings.Contains(lines[0], want) {
		t.Errorf("vigil %v: exit %d, stderr:\n%s\nwant one line containing %q", args, code, p.stderr, want)
	}
}

func TestStartupErrorsAreOneLine(t *testing.T) {
	dir := t.TempDir()
	addr := "--web.listen-address=" + freeAddr(t)
	oneLineError(t, nil, `cannot use store URL "mysql://u:xxxxx@db/x"`, "serve", addr, "--store", "mysql://u:secret@db/x")
	oneLineError(t, nil, "store URL", "serve", addr, "--store", "clickhouse://ch:notaport/x")
	oneLineError(t, nil, "cannot reach ClickHouse at 127.0.0.1:1", "serve", addr, "--store", "clickhouse://127.0.0.1:1/vigil?dial_timeout=1s")
	oneLineError(t, []string{"VIGIL_ANALYZER_INTERVAL=soon"}, "VIGIL_ANALYZER_INTERVAL", append([]string{"serve", addr, "--data-dir", dir}, collectorPorts(t)...)...)

	// A data directory written by a newer Vigil.
	s, err := embedded.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	c, err := duckdb.NewConnector(filepath.Join(dir, embedded.FileName), nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	if _, err := db.Exec(`INSERT INTO vigil_schema VALUES (999, now())`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	oneLineError(t, nil, "schema version 999, newer than this Vigil knows", append([]string{"serve", addr, "--data-dir", dir}, collectorPorts(t)...)...)
}

func TestServeClickHouse(t *testing.T) {
	ch := needClickHouse(t)
	db := fmt.Sprintf("vigil_cmd_%d", time.Now().UnixNano())
	v := startServe(t, "clickhouse://"+ch+"/"+db)
	v.stop(t)
	out, err := exec.Command("clickhouse-client", "--host", strings.Split(ch, ":")[0], "--port", strings.Split(ch, ":")[1],
		"--query", "SELECT max(version) FROM "+db+".vigil_schema").CombinedOutput()
	// 9: typed attributes (5), fractional SLO rollups (6), logs (7),
	// hourly SLO rollups (8), trace_locations and span_names (9).
	if err != nil || strings.TrimSpace(string(out)) != "9" {
		t.Errorf("schema version on ClickHouse: %q, %v", out, err)
	}
	exec.Command("clickhouse-client", "--host", strings.Split(ch, ":")[0], "--port", strings.Split(ch, ":")[1], "--query", "DROP DATABASE "+db).Run()
}

func TestLintExitCodes(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "good.yaml"), []byte("slos: []\n"), 0o644)
	run := func(args ...string) (int, string) {
		cmd := exec.Command(binary, append([]string{"lint"}, args...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.Run()
		return cmd.ProcessState.ExitCode(), out.String()
	}
	if code, out := run(dir); code != 0 {
		t.Errorf("clean directory: exit %d\n%s", code, out)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("service: chat\nservice: search\n"), 0o644)
	if code, out := run(dir); code != 1 || !strings.Contains(out, bad+`:2: mapping key "service" already defined at line 1`) {
		t.Errorf("bad file: exit %d\n%s", code, out)
	}
	// A domain's own check: a budget with an amount that is not a number.
	os.Remove(bad)
	budgets := filepath.Join(dir, "budgets.yaml")
	os.WriteFile(budgets, []byte("budgets:\n  - name: gpu\n    amount: lots\n"), 0o644)
	if code, out := run(dir); code != 1 || !strings.Contains(out, budgets+`:3: budgets[0].amount: "lots" is not a number`) {
		t.Errorf("bad budget: exit %d\n%s", code, out)
	}
	// serve refuses to start on it, naming the problem.
	oneLineError(t, nil, `budgets[0].amount: "lots" is not a number`, append([]string{"serve", "--data-dir", t.TempDir(), "--config-dir", dir, "--web.listen-address", freeAddr(t)}, collectorPorts(t)...)...)
	if code, out := run(filepath.Join(dir, "missing")); code != 2 {
		t.Errorf("missing path: exit %d\n%s", code, out)
	}
}

// TestLintTenBrokenFiles: every problem of ten broken files, with file and
// line, and a non-zero exit.
func TestLintTenBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	broken := map[string]string{
		"01-syntax.yaml":     "slos:\n  - name: a\n   service: b\n",
		"02-duplicate.yaml":  "slos: []\nslos: []\n",
		"03-objective.yaml":  "slos:\n  - name: a\n    service: s\n    availability: true\n    objective: 1.2\n",
		"04-name.yaml":       "slos:\n  - name: A_B\n    service: s\n    availability: true\n    objective: 99%\n",
		"05-window.yaml":     "slos:\n  - name: a\n    service: s\n    availability: true\n    objective: 99%\n    window: 1month\n",
		"06-unknown.yaml":    "slos:\n  - name: a\n    servce: s\n",
		"07-latency.yaml":    "slos:\n  - name: a\n    service: s\n    latency: quick\n    objective: 99%\n",
		"08-budget.yaml":     "budgets:\n  - name: b\n    amount: lots\n",
		"09-anomaly.yaml":    "cost_anomalies:\n  - name: x\n    window_days: 1\n",
		"10-not-a-list.yaml": "slos: {name: a}\n",
	}
	for name, body := range broken {
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)
	}
	out, err := exec.Command(binary, "lint", dir).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v\n%s", err, out)
	}
	for name := range broken {
		if !strings.Contains(string(out), filepath.Join(dir, name)+":") {
			t.Errorf("no problem reported for %s:\n%s", name, out)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasPrefix(line, "vigil:") {
			continue
		}
		if !regexp.MustCompile(`^/.+\.yaml:[0-9]+: `).MatchString(line) {
			t.Errorf("a problem without file and line: %q", line)
		}
	}
}

func TestVersion(t *testing.T) {
	out, err := exec.Command(binary, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "vigil ") {
		t.Errorf("version: %q, %v", out, err)
	}
}
