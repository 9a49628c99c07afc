package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
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
// refuses to start on it — never silence and zero SLOs.
func TestLintUnclaimed(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string // after "<file>:"
	}{
		{"slo instead of slos", "# chat\nslo:\n  - name: chat-availability\n    service: chat\n    availability: true\n    objective: 99%\n",
			[]string{"2: unknown top-level key \"slo\" (did you mean `slos`?); the keys are attribution, budgets, canaries, cost_anomalies, drift, slos, and apiVersion/kind documents of openslo.com/v2alpha, openslo/v1, openslo/v1alpha"}},
		{"budget instead of budgets", "budget:\n  - name: gpu\n    amount: \"10\"\n",
			[]string{"1: unknown top-level key \"budget\" (did you mean `budgets`?)"}},
		{"apiVersion foo", "apiVersion: foo\nkind: SLO\nmetadata: {name: chat}\nspec: {}\n",
			[]string{`1: apiVersion: "foo" is not a format Vigil reads; the apiVersions are openslo.com/v2alpha, openslo/v1, openslo/v1alpha`}},
		{"OpenSLO kind unknown", "apiVersion: openslo/v1\nkind: Objective\nmetadata: {name: chat}\nspec: {}\n",
			[]string{`2: kind: "Objective" is not one of SLO, SLI, DataSource, Service, AlertPolicy, AlertCondition, AlertNotificationTarget (the kinds of openslo/v1)`}},
		// Pyrra's own example (examples/kubernetes/slos in its repository).
		{"Pyrra", `apiVersion: pyrra.dev/v1alpha1
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
`, []string{`1: apiVersion: "pyrra.dev/v1alpha1" kind "ServiceLevelObjective" is Pyrra's format; Vigil does not read it: write the SLOs under slos:, or as OpenSLO (apiVersion: openslo/v1)`,
			`16: apiVersion: "pyrra.dev/v1alpha1" kind "ServiceLevelObjective" is Pyrra's format`}},
		// Sloth's getting-started example: a slos: list, but Sloth's.
		{"Sloth spec", `version: "prometheus/v1"
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
`, []string{`1: version: "prometheus/v1" is Sloth's spec; Vigil does not read it: write the SLOs under slos:, or as OpenSLO (apiVersion: openslo/v1)`}},
		{"Sloth CRD", `apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata:
  name: sloth-slo-my-service
spec:
  service: "myservice"
  slos:
    - name: "requests-availability"
      objective: 99.9
`, []string{`1: apiVersion: "sloth.slok.dev/v1" kind "PrometheusServiceLevel" is Sloth's Kubernetes format; Vigil does not read it`}},
		{"a list", "- name: chat-availability\n  service: chat\n", []string{"1: the document is a list; want a mapping of keys (attribution, budgets, canaries, cost_anomalies, drift, slos) or an apiVersion/kind object"}},
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
