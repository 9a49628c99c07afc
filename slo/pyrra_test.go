package slo

import (
	"context"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/querier"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// TestPyrraFiles reads Pyrra's ServiceLevelObjectives (testdata/pyrra,
// cases of our own covering what Pyrra's examples use) into SLOs.
func TestPyrraFiles(t *testing.T) {
	slos, problems, err := Load([]string{"testdata/pyrra"}, time.Minute)
	if err != nil || len(problems) > 0 {
		t.Fatalf("%v %v", err, problems)
	}
	byName := map[string]*SLO{}
	for _, s := range slos {
		byName[s.Name] = s
	}
	if len(byName) != 4 {
		t.Fatalf("SLOs: %v", byName)
	}
	errs := byName["gateway-errors"]
	if errs.Service != "genai" || errs.Objective != 0.99 || errs.Window != (TimeWindow{Duration: 28 * day, Rolling: true}) ||
		errs.Description != "The LLM gateway answers without a server error." || errs.File != "testdata/pyrra/ratio.yaml:4" {
		t.Errorf("gateway-errors: %+v", errs)
	}
	if want := (MetricRatio{Bad: `http_requests_total{code=~"5..",job="gateway"}`, Total: `http_requests_total{job="gateway"}`}); errs.SLI != want {
		t.Errorf("gateway-errors SLI %+v", errs.SLI)
	}
	if !reflect.DeepEqual(errs.Labels, map[string]string{"team": "platform"}) || !reflect.DeepEqual(*errs.Policy, AlertPolicy{Breaching: true, Resolved: true, NoData: true}) ||
		len(errs.Alerts) != 4 || !reflect.DeepEqual(errs.Alerts[0].Annotations, map[string]string{"runbook": "https://runbooks.example/gateway"}) {
		t.Errorf("gateway-errors: labels %v, policy %+v, alerts %+v", errs.Labels, errs.Policy, errs.Alerts)
	}
	lat := byName["gateway-latency"]
	if want := (MetricRatio{Good: `http_request_duration_seconds_bucket{code!~"5..",job="gateway",le="1"}`, Total: `http_request_duration_seconds_count{code!~"5..",job="gateway"}`}); lat.SLI != want {
		t.Errorf("gateway-latency SLI %+v", lat.SLI)
	}
	var severities []string
	for _, w := range lat.Alerts {
		severities = append(severities, w.Severity)
	}
	if lat.AlertName != "GatewaySlow" || lat.Objective != 0.95 || !reflect.DeepEqual(severities, []string{"page", "page", "page", "ticket"}) {
		t.Errorf("gateway-latency: %q %v %v (slowBurn: critical pages)", lat.AlertName, lat.Objective, severities)
	}
	probe := byName["model-probe"]
	if want := (MetricRatio{Good: `sum(sum_over_time(probe_success{job="model-server"}[1m]))`, Total: `sum(count_over_time(probe_success{job="model-server"}[1m]))`}); probe.SLI != want ||
		probe.Service != "model-probe" || probe.Objective != 0.995 || probe.Policy.NoData || !probe.Policy.Breaching {
		t.Errorf("model-probe: %+v", probe)
	}
	if embed := byName["embed-errors"]; len(embed.Alerts) != 0 || !reflect.DeepEqual(*embed.Policy, AlertPolicy{}) {
		t.Errorf("embed-errors, alerting disabled: %+v %+v", embed.Alerts, embed.Policy)
	}
}

// TestPyrraWindows: Pyrra's burn-rate rules for a 28-day and a 14-day
// window, as its own tests expect them (slo/rules_test.go in
// github.com/pyrra-dev/pyrra at 1ba95af: http-ratio over 28d and
// operator-ratio over 2w): short and long window, for, factor, severity.
func TestPyrraWindows(t *testing.T) {
	type rule struct {
		short, long, for_ string
		factor            float64
		severity          string
	}
	for window, want := range map[time.Duration][]rule{
		28 * day: {{"5m", "1h", "2m", 14, "page"}, {"30m", "6h", "15m", 7, "page"}, {"2h", "1d", "1h", 2, "ticket"}, {"6h", "4d", "3h", 1, "ticket"}},
		14 * day: {{"3m", "30m", "1m", 14, "page"}, {"15m", "3h", "8m", 7, "page"}, {"1h", "12h", "30m", 2, "ticket"}, {"3h", "2d", "90m", 1, "ticket"}},
	} {
		var got []rule
		for _, w := range PyrraWindows(window) {
			got = append(got, rule{formatDuration(w.Short), formatDuration(w.Long), formatDuration(w.For), w.Factor, w.Severity})
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v\nwant (Pyrra's) %v", formatDuration(window), got, want)
		}
	}
}

// TestPyrraRules: a Pyrra SLO exports the recording rules Pyrra writes for
// it, expression for expression (Pyrra's http-ratio case: sum(rate(errors
// [w])) / sum(rate(total[w]))), and alerts over Pyrra's window pairs at
// factor × (1 − target), for as long as Pyrra's.
func TestPyrraRules(t *testing.T) {
	slos, _, err := Load([]string{"testdata/pyrra/ratio.yaml"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	file, _ := PrometheusRules(slos[:1])
	var windows []string
	for _, r := range file.Groups[0].Rules {
		w := strings.TrimPrefix(r.Record, "slo:sli_error:ratio_rate")
		windows = append(windows, w)
		want := `sum(rate(http_requests_total{code=~"5..",job="gateway"}[` + w + `])) / sum(rate(http_requests_total{job="gateway"}[` + w + `]))`
		if r.Expr != want {
			t.Errorf("%s: %s\nwant (as Pyrra) %s", w, r.Expr, want)
		}
		if r.Labels["team"] != "platform" || r.Labels["slo"] != "gateway-errors" {
			t.Errorf("%s: labels %v", w, r.Labels)
		}
	}
	if want := []string{"5m", "30m", "1h", "2h", "6h", "1d", "4d"}; !reflect.DeepEqual(windows, want) {
		t.Errorf("windows %v, Pyrra's %v", windows, want)
	}
	var alerts []string
	threshold := regexp.MustCompile(`\} > (\(\S+ \* \S+\))\n`)
	for _, r := range file.Groups[1].Rules {
		m := threshold.FindStringSubmatch(r.Expr)
		if m == nil {
			t.Fatalf("alert expression %q", r.Expr)
		}
		alerts = append(alerts, r.Labels["short_window"]+"/"+r.Labels["long_window"]+" "+m[1]+" for "+r.For)
		if r.Alert != AlertName || r.Annotations["runbook"] != "https://runbooks.example/gateway" {
			t.Errorf("alert %q annotations %v", r.Alert, r.Annotations)
		}
	}
	// Pyrra writes > (14 * (1-0.99)); Vigil the budget itself.
	if want := []string{"5m/1h (14 * 0.01) for 2m", "30m/6h (7 * 0.01) for 15m", "2h/1d (2 * 0.01) for 1h", "6h/4d (1 * 0.01) for 3h"}; !reflect.DeepEqual(alerts, want) {
		t.Errorf("alerts %q\nwant %q", alerts, want)
	}
}

// TestPyrraBoolGauge: a bool_gauge SLO counts every sample of the gauge,
// so its error ratio over a window is what Pyrra's rule computes,
// (count_over_time − sum_over_time) / count_over_time, by the same engine.
func TestPyrraBoolGauge(t *testing.T) {
	ctx := context.Background()
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, target := range []string{"a", "b"} {
		writeScrapes(t, st, tick, "probe_success", store.MetricGauge, store.Attributes{{Key: "job", Value: "model-server"}, {Key: "target", Value: target}}, func(i int) float64 {
			if i%7 == 3 || target == "b" && i > 200 && i%2 == 0 {
				return 0
			}
			return 1
		})
	}
	engine := querier.NewEngine(st, querier.DefaultOptions)
	slos, _, err := Load([]string{"testdata/pyrra/probe.yaml"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	probe := slos[0]
	at := tick.Add(-30 * time.Second)
	if err := (&Evaluator{Store: st, SLOs: []*SLO{probe}, PromQL: engine}).Run(ctx, at); err != nil {
		t.Fatal(err)
	}
	status := statusOf(t, st, probe, at)
	pyrra := `(sum(count_over_time(probe_success{job="model-server"}[W])) - sum(sum_over_time(probe_success{job="model-server"}[W]))) / sum(count_over_time(probe_success{job="model-server"}[W]))`
	for _, b := range status.Burns[:2] {
		for _, w := range []struct {
			d      time.Duration
			counts Counts
		}{{b.Rule.Long, b.Long}, {b.Rule.Short, b.Short}} {
			got, _ := w.counts.ErrorRatio()
			want := scalarAt(t, engine, strings.ReplaceAll(pyrra, "W", formatDuration(w.d)), tick.Add(-time.Minute))
			if !same(got, want) || got == 0 {
				t.Errorf("over %s: error ratio %.15g, Pyrra's rule %.15g", formatDuration(w.d), got, want)
			}
		}
	}
}

// TestPyrraProblems: what Pyrra's files may say that Vigil cannot judge
// one SLO at a time, and what Pyrra itself rejects, is an error at the
// field's line.
func TestPyrraProblems(t *testing.T) {
	const head = "apiVersion: pyrra.dev/v1alpha1\nkind: ServiceLevelObjective\nmetadata:\n  name: api\n  namespace: web\nspec:\n"
	const ratio = "  indicator:\n    ratio:\n      errors: {metric: 'x_total{code=\"500\"}'}\n      total: {metric: x_total}\n"
	for _, tc := range []struct{ name, src, want string }{
		{"grouping", head + "  target: '99'\n  window: 7d\n  indicator:\n    ratio:\n      errors: {metric: 'x_total{code=\"500\"}'}\n      total: {metric: x_total}\n      grouping: [handler]\n",
			`x.yaml:13: spec.indicator.ratio.grouping: does not map to Vigil: Pyrra judges each group apart`},
		{"latencyNative", head + "  target: '99'\n  window: 7d\n  indicator:\n    latencyNative:\n      latency: 200ms\n      total: {metric: 'rpc_duration_seconds{job=\"x\"}'}\n",
			`x.yaml:10: spec.indicator.latencyNative: does not map to Vigil: it reads a native histogram`},
		{"latency without le", head + "  target: '99'\n  window: 7d\n  indicator:\n    latency:\n      success: {metric: 'x_bucket{job=\"x\"}'}\n      total: {metric: 'x_count{job=\"x\"}'}\n",
			`x.yaml:11: spec.indicator.latency.success.metric: must select one bucket with le="<bound>"`},
		{"not a selector", head + "  target: '99'\n  window: 7d\n  indicator:\n    ratio:\n      errors: {metric: 'sum(rate(x_total{code=\"500\"}[5m]))'}\n      total: {metric: x_total}\n",
			`x.yaml:11: spec.indicator.ratio.errors.metric: "sum(rate(x_total{code=\"500\"}[5m]))" is not a series selector`},
		{"target", head + "  target: '100'\n  window: 7d\n" + ratio, `x.yaml:7: spec.target: 100% is out of range [0%,100%)`},
		{"window", head + "  target: '99'\n  window: a week\n" + ratio, `x.yaml:8: spec.window: "a week" is not a duration such as 4w or 28d`},
		{"no window", head + "  target: '99'\n" + ratio, `x.yaml:6: spec.window: is required`},
		{"severity", head + "  target: '99'\n  window: 7d\n" + ratio + "  alerting:\n    severities: {fastBurn: sev1}\n",
			`x.yaml:14: spec.alerting.severities.fastBurn: "sev1" does not map to Vigil's severities`},
		{"no indicator", head + "  target: '99'\n  window: 7d\n", `x.yaml:6: spec.indicator: is required`},
		{"unknown field", head + "  target: '99'\n  window: 7d\n  objective: 99\n" + ratio, `x.yaml:9: spec.objective: unknown field`},
		{"name", "apiVersion: pyrra.dev/v1alpha1\nkind: ServiceLevelObjective\nmetadata:\n  name: API\nspec:\n  target: '99'\n  window: 7d\n" + ratio,
			`x.yaml:4: metadata.name: "API" must be a lower-case RFC 1123 label`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "x.yaml", tc.src)
			slos, problems, err := Load([]string{dir}, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			lines := problemStrings(dir, problems)
			found := false
			for _, l := range lines {
				found = found || strings.HasPrefix(l, tc.want)
			}
			if !found || len(slos) != 0 {
				t.Errorf("problems %q (%d SLOs)\nwant %q...", lines, len(slos), tc.want)
			}
		})
	}
}
