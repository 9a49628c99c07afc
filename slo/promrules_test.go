package slo

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const exportSpec = `slos:
  - name: api-availability
    service: api
    objective: 99%
    metric:
      bad: http_requests_total{job="api",code=~"5.."}
      total: http_requests_total{job="api"}
  - name: api-latency
    service: api
    objective: 99.5%
    metric:
      histogram: http_request_duration_seconds{job="api"}
      le: "0.8"
    alerts:
      min_events: 100
  - name: queue
    service: api
    objective: 99%
    metric:
      gauge: queue_depth{job="api"}
      op: lt
      value: 10
  - name: chat
    service: chat
    objective: 99%
    latency: 800ms
`

func exportRules(t *testing.T) (RuleFile, []string) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slos.yaml"), []byte(exportSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	slos, problems, err := Load([]string{dir}, time.Minute)
	if err != nil || len(problems) > 0 {
		t.Fatalf("%v %v", err, problems)
	}
	return PrometheusRules(slos)
}

func TestPrometheusRulesShape(t *testing.T) {
	file, skipped := exportRules(t)
	if len(skipped) != 1 || !strings.HasPrefix(skipped[0], "chat (") {
		t.Errorf("skipped: %v", skipped)
	}
	if len(file.Groups) != 6 {
		t.Fatalf("%d groups, want 6 (recording and alerting for three SLOs)", len(file.Groups))
	}
	rec := file.Groups[0].Rules
	// Windows 5m 30m 1h 2h 6h 1d 3d, shortest first.
	if len(rec) != 7 || rec[0].Record != "slo:sli_error:ratio_rate5m" || rec[6].Record != "slo:sli_error:ratio_rate3d" ||
		rec[2].Expr != `sum(rate(http_requests_total{job="api",code=~"5.."}[1h])) / sum(rate(http_requests_total{job="api"}[1h]))` {
		t.Errorf("recording rules: %+v", rec)
	}
	page := file.Groups[1].Rules[0]
	if page.Expr != "slo:sli_error:ratio_rate1h{slo=\"api-availability\", tenant=\"default\"} > (14.4 * 0.01)\nand\nslo:sli_error:ratio_rate5m{slo=\"api-availability\", tenant=\"default\"} > (14.4 * 0.01)" ||
		page.Labels["severity"] != "page" || page.Labels["long_window"] != "1h" {
		t.Errorf("page rule: %+v", page)
	}
	if got := file.Groups[2].Rules[0].Expr; got != `1 - (sum(rate(http_request_duration_seconds_bucket{job="api",le="0.8"}[5m])) / sum(rate(http_request_duration_seconds_count{job="api"}[5m])))` {
		t.Errorf("histogram SLI: %s", got)
	}
	if got := file.Groups[3].Rules[0].Expr; !strings.HasSuffix(got, ">= 100") {
		t.Errorf("min events guard missing: %s", got)
	}
	if got := file.Groups[4].Rules[0].Expr; got != `1 - avg_over_time(((sum(sum_over_time(queue_depth{job="api"}[1m])) / sum(count_over_time(queue_depth{job="api"}[1m]))) < bool 10)[5m:1m])` {
		t.Errorf("gauge SLI: %s", got)
	}
}

// TestPrometheusRulesFire runs the exported rules in Prometheus's own rule
// engine (promtool test rules) on 10% errors, the data Vigil's end-to-end
// test judges: the 6x page and both tickets fire, the 14.4x page does not —
// what Vigil itself decides.
func TestPrometheusRulesFire(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("VIGIL_TEST_STRICT") != "" {
			t.Fatal("promtool not found (Debian's prometheus package ships it)")
		}
		t.Skip("promtool not found")
	}
	file, _ := exportRules(t)
	dir := t.TempDir()
	rules, err := file.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", filepath.Join(dir, "rules.yaml")).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s\n%s", err, out, rules)
	}
	type expAlert struct {
		Labels      map[string]string `yaml:"exp_labels"`
		Annotations map[string]string `yaml:"exp_annotations"`
	}
	var exp []expAlert
	for _, r := range file.Groups[1].Rules {
		if r.Labels["long_window"] != "1h" {
			labels := map[string]string{"alertname": AlertName}
			for k, v := range r.Labels {
				labels[k] = v
			}
			exp = append(exp, expAlert{Labels: labels, Annotations: r.Annotations})
		}
	}
	test := map[string]any{
		"rule_files":          []string{"rules.yaml"},
		"evaluation_interval": "1m",
		"tests": []any{map[string]any{
			"interval": "1m",
			"input_series": []any{
				map[string]string{"series": `http_requests_total{job="api",code="200"}`, "values": "0+54x200"},
				map[string]string{"series": `http_requests_total{job="api",code="500"}`, "values": "0+6x200"},
			},
			"alert_rule_test": []any{map[string]any{"eval_time": "90m", "alertname": AlertName, "exp_alerts": exp}},
			"promql_expr_test": []any{map[string]any{
				"expr": `slo:sli_error:ratio_rate1h{slo="api-availability"}`, "eval_time": "90m",
				"exp_samples": []any{map[string]any{"labels": `slo:sli_error:ratio_rate1h{slo="api-availability",service="api",tenant="default"}`, "value": 0.1}},
			}},
		}},
	}
	data, err := yaml.Marshal(test)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "test.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "test", "rules", "test.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}
