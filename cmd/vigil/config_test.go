package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lint runs vigil lint on paths and returns its exit code and output.
func lint(t *testing.T, paths ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"lint"}, paths...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Run()
	return cmd.ProcessState.ExitCode(), out.String()
}

// TestLintUnclaimed: a key, a document or a file of another tool that no
// section reads fails lint with its file, its line and why, and serve
// refuses to start on it — never silence and zero SLOs; so does a Sloth
// or Pyrra file with a problem.
func TestLintUnclaimed(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string // after "<file>:"
	}{
		{"slo instead of slos", "# chat\nslo:\n  - name: chat-availability\n    service: chat\n    availability: true\n    objective: 99%\n",
			[]string{"2: unknown top-level key \"slo\" (did you mean `slos`?); the keys are actions, attribution, auth, budgets, canaries, cost_anomalies, drift, rightsize, slos, streams, and apiVersion/kind documents of openslo.com/v2alpha, openslo/v1, openslo/v1alpha"}},
		{"budget instead of budgets", "budget:\n  - name: gpu\n    amount: \"10\"\n",
			[]string{"1: unknown top-level key \"budget\" (did you mean `budgets`?)"}},
		{"apiVersion foo", "apiVersion: foo\nkind: SLO\nmetadata: {name: chat}\nspec: {}\n",
			[]string{`1: apiVersion: "foo" is not a format Vigil reads; the apiVersions are openslo.com/v2alpha, openslo/v1, openslo/v1alpha`}},
		{"OpenSLO kind unknown", "apiVersion: openslo/v1\nkind: Objective\nmetadata: {name: chat}\nspec: {}\n",
			[]string{`2: kind: "Objective" is not one of SLO, SLI, DataSource, Service, AlertPolicy, AlertCondition, AlertNotificationTarget (the kinds of openslo/v1)`}},
		// Sloth's and Pyrra's files are read as SLOs: what is missing from
		// them is named at its line like any other problem.
		{"Pyrra without an indicator", `apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata:
  name: apiserver-read-response-errors
  namespace: monitoring
spec:
  indicator:
    ratio:
      errors:
        metric: apiserver_request_total{job="apiserver",verb=~"LIST|GET",code=~"5.."}
      total:
        metric: apiserver_request_total{job="apiserver",verb=~"LIST|GET"}
  target: "99.99"
  window: 2w
---
apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata:
  name: apiserver-write-response-errors
spec:
  target: "99"
  window: 1w
`, []string{`20: spec.indicator: is required: one of ratio, latency or bool_gauge`}},
		{"Sloth spec without an alert name", `version: "prometheus/v1"
service: "myservice"
labels:
  owner: "myteam"
slos:
  - name: "requests-availability"
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))
    alerting:
      page_alert:
        labels:
          severity: pageteam
`, []string{`12: slos[0].alerting.name: is required while the page alert is on, as Sloth requires`,
			`15: warning: slos[0].alerting.page_alert.labels.severity: is left out: Vigil's alerts set severity to page or ticket`}},
		{"Sloth CRD without an SLI", `apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata:
  name: sloth-slo-my-service
spec:
  service: "myservice"
  slos:
    - name: "requests-availability"
      objective: 99.9
      alerting: {pageAlert: {disable: true}, ticketAlert: {disable: true}}
`, []string{`8: spec.slos[0].sli: is required: events (error and total queries) or raw (an error ratio query)`}},
		{"a list", "- name: chat-availability\n  service: chat\n", []string{"1: the document is a list; want a mapping of keys (actions, attribution, auth, budgets, canaries, cost_anomalies, drift, rightsize, slos, streams) or an apiVersion/kind object"}},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "slos.yaml")
			os.WriteFile(file, []byte(tc.body), 0o644)
			code, out := lint(t, dir)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if code != 1 || len(lines) != len(tc.want)+1 || lines[len(lines)-1] != "vigil: lint found "+strconv.Itoa(len(tc.want))+" problem(s)" {
				t.Fatalf("exit %d, want 1 and %d problems:\n%s", code, len(tc.want), out)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(lines[i], file+":"+w) {
					t.Errorf("line %d:\n got %s\nwant %s:%s...", i, lines[i], file, w)
				}
			}
			if tc.name == "slo instead of slos" {
				oneLineError(t, nil, file+`:2: unknown top-level key "slo"`, append([]string{"serve", "--data-dir", t.TempDir(), "--config-dir", dir, "--web.listen-address", freeAddr(t)}, collectorPorts(t)...)...)
			}
		})
	}
}

// TestLintEverySection: one directory with something of every section,
// in both SLO dialects, is clean; a warning does not fail it.
func TestLintEverySection(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "cost"), 0o755)
	files := map[string]string{
		"slos.yaml": "slos:\n  - name: batch\n    service: embedder\n    availability: true\n    objective: 90%\n",
		"openslo.yaml": `apiVersion: openslo/v1
kind: SLO
metadata: {name: api-availability}
spec:
  service: api
  budgetingMethod: Occurrences
  timeWindow: [{duration: 28d, isRolling: true}]
  indicator:
    metadata: {name: api-errors}
    spec:
      ratioMetric:
        counter: true
        bad: {metricSource: {type: Prometheus, spec: {query: 'http_requests_total{code=~"5.."}'}}}
        total: {metricSource: {type: Prometheus, spec: {query: http_requests_total}}}
  objectives: [{target: 0.999}]
`,
		"cost/budgets.yaml": "budgets:\n  - name: gpu\n    amount: \"5000\"\ncost_anomalies:\n  - name: daily\n    group_by: [service]\nattribution:\n  team: owner\n",
		"monitors.yaml":     "drift:\n  - name: length\n    watch: output_tokens\n    reference: {offset: 7d}\n    current: 1h\ncanaries:\n  - name: rollout\n    service: chat\n    canary: canary\n    baseline: stable\n    window: 15m\n",
		"rightsize.yaml":    "rightsize:\n  - namespace: llm\n    workload: chat\n    resources: {strategy: vpa, history: 7d}\n",
		"streams.yaml":      "streams:\n  - name: bus\n    amqp: {url_file: rabbit-url, exchange: vigil.events}\n    events: [slo.alert, actions.transition, drift.verdict]\n",
	}
	for name, body := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)
	}
	code, out := lint(t, dir)
	if code != 0 || !strings.HasPrefix(out, filepath.Join(dir, "slos.yaml")+":5: warning: slos[0].objective: the page rule") || strings.Count(out, "\n") != 1 {
		t.Errorf("exit %d, want 0 and one warning:\n%s", code, out)
	}
	// slo plan reads the same directory with every section.
	plan, err := exec.Command(binary, "slo", "plan", dir).Output()
	if err != nil || !strings.Contains(string(plan), "api-availability (") || !strings.Contains(string(plan), "batch (") {
		t.Errorf("slo plan: %v\n%s", err, plan)
	}
}

// replaceFile writes a file as editors save one: a temporary file renamed
// over it.
func replaceFile(t *testing.T, path, body string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".swp")
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

type configStatus struct {
	Successful  bool
	LastReload  time.Time `json:"last_reload"`
	LastSuccess time.Time `json:"last_success"`
	Problems    []struct{ Severity, Text string }
}

// TestConfigReload: serve reads the config directory again when it
// changes. An added SLO is served without a restart; a bad edit keeps the
// SLOs in force while the config status and the metrics show the error
// at its file and line; the fix is taken up.
func TestConfigReload(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "slos.yaml")
	const chat = "slos:\n  - name: chat-availability\n    service: chat-gateway\n    availability: true\n    objective: 99%\n"
	os.WriteFile(file, []byte(chat), 0o644)
	v := startServe(t, "", "--config-dir", dir, "--analyzer.interval", "1s", "--config.poll-interval", "1s")
	defer v.stop(t)

	names := func() string {
		var slos []struct{ Name string }
		v.getJSON(t, "/api/v1/slos", &slos)
		var out []string
		for _, s := range slos {
			out = append(out, s.Name)
		}
		return strings.Join(out, " ")
	}
	status := func() configStatus {
		var st configStatus
		v.getJSON(t, "/api/v1/config/status", &st)
		return st
	}
	metric := func(name string) string {
		_, body := get(t, v.proc, "http://"+v.web+"/metrics")
		for _, line := range strings.Split(body, "\n") {
			if value, ok := strings.CutPrefix(line, name+" "); ok {
				return value
			}
		}
		return ""
	}
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; stderr:\n%s", what, v.stderr)
			}
		}
	}
	if got := names(); got != "chat-availability" {
		t.Fatalf("SLOs at start: %q", got)
	}
	if st := status(); !st.Successful || len(st.Problems) != 0 || metric("vigil_config_last_reload_successful") != "1" {
		t.Fatalf("status at start: %+v", st)
	}
	started := status().LastSuccess

	// An SLO added in place is served without a restart.
	os.WriteFile(file, []byte(chat+"  - name: search-availability\n    service: search\n    availability: true\n    objective: 99.9%\n"), 0o644)
	waitUntil("the added SLO", func() bool { return names() == "chat-availability search-availability" })
	if st := status(); !st.Successful || !st.LastSuccess.After(started) {
		t.Errorf("status after the edit: %+v", st)
	}

	// A bad edit: the SLOs in force stay, the status and the metric say why.
	replaceFile(t, file, "slo:\n  - name: chat-availability\n")
	waitUntil("the refused edit", func() bool { return !status().Successful })
	st := status()
	if len(st.Problems) != 1 || st.Problems[0].Severity != "error" || !strings.HasPrefix(st.Problems[0].Text, file+":1: unknown top-level key \"slo\" (did you mean `slos`?)") {
		t.Errorf("status after a bad edit: %+v", st)
	}
	if got := names(); got != "chat-availability search-availability" {
		t.Errorf("SLOs after a bad edit: %q", got)
	}
	if m := metric("vigil_config_last_reload_successful"); m != "0" {
		t.Errorf("vigil_config_last_reload_successful after a bad edit: %s", m)
	}
	if !strings.Contains(v.stderr.String(), "the last good config stays in force") {
		t.Errorf("the refused edit is not logged:\n%s", v.stderr)
	}

	// The fix is taken up.
	replaceFile(t, file, chat)
	waitUntil("the fix", func() bool { return status().Successful })
	if got, m := names(), metric("vigil_config_last_reload_successful"); got != "chat-availability" || m != "1" || len(status().Problems) != 0 {
		t.Errorf("after the fix: SLOs %q, metric %s, status %+v", got, m, status())
	}
	if ts := metric("vigil_config_last_reload_success_timestamp_seconds"); ts == "" || ts == "0" {
		t.Errorf("vigil_config_last_reload_success_timestamp_seconds = %q", ts)
	}
}

// An action policy is checked against the other sections of the same
// reading: an SLO or a monitor it names must be defined, in any file.
func TestLintActionsAcrossSections(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "slos.yaml"), []byte("slos:\n  - name: chat-latency\n    service: chat\n    latency: 500ms\n    objective: 99%\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "actions.yaml"), []byte(`actions:
  - name: rollback
    when: {slo: chat-latency, alert: page}
    do: {kubernetes: {rollback: {deployment: chat}}}
  - name: abort
    when: {canary: chat-rollout}
    do: {argo: {abort: {rollout: chat}}}
    verify: {slo: chat-latencyy}
`), 0o644)
	code, out := lint(t, dir)
	want := []string{
		filepath.Join(dir, "actions.yaml") + `:6: actions[1].when.canary: no canary monitor "chat-rollout" is defined (tenant default)`,
		filepath.Join(dir, "actions.yaml") + `:8: actions[1].verify.slo: no SLO "chat-latencyy" is defined (tenant default)`,
	}
	if code != 1 || !strings.HasPrefix(out, strings.Join(want, "\n")+"\n") {
		t.Errorf("exit %d:\n%s\nwant:\n%s", code, out, strings.Join(want, "\n"))
	}
}
