package slo

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/config"
	"github.com/vigil-dev/vigil/querier"
)

// Pyrra's ServiceLevelObjective (github.com/pyrra-dev/pyrra, apiVersion
// pyrra.dev/v1alpha1), read as a Vigil SLO with what Pyrra's rules
// judge:
//
//   - ratio: errors and total are counters (plain selectors); the error
//     ratio is their increases' ratio, as Pyrra's
//     sum(rate(errors[w])) / sum(rate(total[w])).
//   - latency: success is a histogram's bucket (a selector with le), total
//     its count; the error ratio is 1 - success/total.
//   - bool_gauge: every sample of the gauge is an event, good when it is 1,
//     as Pyrra's (count_over_time - sum_over_time) / count_over_time.
//
// The burn-rate rules are Pyrra's (slo/rules.go Windows): its 28-day
// windows scaled to the SLO's window, rounded to the minute, with factors
// 14, 7, 2 and 1 and a for of half the short window; critical rules page
// and warning rules make tickets. Labels of metadata.labels prefixed
// pyrra.dev/ are the SLO's labels without the prefix, as Pyrra propagates
// them to its rules.

const (
	pyrraAPIVersion = "pyrra.dev/v1alpha1"
	pyrraKind       = "ServiceLevelObjective"
	pyrraPropagate  = "pyrra.dev/"
)

// PyrraWindows are Pyrra's burn-rate rules for an SLO window: its 28-day
// rules (5m/1h ×14 for 2m, 30m/6h ×7 for 15m, 2h/1d ×2 for 1h, 6h/4d ×1
// for 3h) scaled to the window and rounded to the minute.
func PyrraWindows(window time.Duration) []AlertWindow {
	// As Pyrra divides: the window by how many of d make 28 days, a whole
	// number for each of its durations.
	scale := func(d time.Duration) time.Duration {
		return (window / (28 * 24 * time.Hour / d)).Round(time.Minute)
	}
	base := []AlertWindow{
		{Severity: "page", Short: 5 * time.Minute, Long: time.Hour, For: 2 * time.Minute, Factor: 14},
		{Severity: "page", Short: 30 * time.Minute, Long: 6 * time.Hour, For: 15 * time.Minute, Factor: 7},
		{Severity: "ticket", Short: 2 * time.Hour, Long: 24 * time.Hour, For: time.Hour, Factor: 2},
		{Severity: "ticket", Short: 6 * time.Hour, Long: 96 * time.Hour, For: 3 * time.Hour, Factor: 1},
	}
	out := make([]AlertWindow, len(base))
	for i, w := range base {
		w.Short, w.Long, w.For = scale(w.Short), scale(w.Long), scale(w.For)
		w.BudgetPercent = int(w.Factor * float64(w.Long) / float64(window) * 100)
		out[i] = w
	}
	return out
}

// pyrraSeverities are the fields of alerting.severities, by the rule of
// PyrraWindows they set.
var pyrraSeverities = []string{"fastBurn", "mediumBurn", "slowBurn", "longTermBurn"}

// readPyrra reads one ServiceLevelObjective.
func readPyrra(file string, doc *yaml.Node, evalStep time.Duration) (*SLO, []config.Problem) {
	r := &nodeReader{file: file}
	top := r.fields(doc, "", "apiVersion", "kind", "metadata", "spec", "status")
	meta := r.kubeMetadata(top["metadata"])
	name := r.str(meta["name"], "metadata.name")
	if !nameRE.MatchString(name) || len(name) > 63 {
		r.errorAt(nodeOr(meta["name"], doc), "metadata.name", "%q must be a lower-case RFC 1123 label (a-z, 0-9, '-', at most 63)", name)
	}
	s := &SLO{Name: name, Method: Occurrences, File: fmt.Sprintf("%s:%d", file, doc.Line)}
	// The SLO's service groups it in the API and UI: its namespace, as
	// Pyrra's UI groups by it, else its name.
	s.Service = r.str(meta["namespace"], "metadata.namespace")
	if s.Service == "" {
		s.Service = name
	}
	kubeLabels := r.strMap(meta["labels"], "metadata.labels")
	for k, v := range kubeLabels {
		if p, ok := strings.CutPrefix(k, pyrraPropagate); ok {
			s.Labels = mergeLabels(s.Labels, map[string]string{p: v})
		}
	}
	if t := kubeLabels["tenant"]; t != "" {
		s.Tenant = t
	} else {
		s.Tenant = s.Labels["tenant"]
	}
	for _, k := range slices.Sorted(maps.Keys(reservedLabels)) {
		if _, ok := s.Labels[k]; ok && k != "tenant" {
			r.warnAt(config.Value(meta["labels"], pyrraPropagate+k), "metadata.labels."+pyrraPropagate+k, "is left out: Vigil's alerts set %s to %s", k, reservedLabels[k])
			delete(s.Labels, k)
		}
	}
	var annotations map[string]string
	for k, v := range r.strMap(meta["annotations"], "metadata.annotations") {
		if p, ok := strings.CutPrefix(k, pyrraPropagate); ok {
			annotations = mergeLabels(annotations, map[string]string{p: v})
		}
	}

	spec := top["spec"]
	if spec == nil {
		r.errorAt(doc, "spec", "is required")
		return nil, r.problems
	}
	f := r.fields(spec, "spec", "description", "target", "window", "indicator", "alerting", "partial_response_strategy", "performanceOverAccuracy", "ruleOutput")
	s.Description = r.str(f["description"], "spec.description")
	for _, k := range []string{"partial_response_strategy", "performanceOverAccuracy", "ruleOutput"} {
		if f[k] != nil {
			r.warnAt(f[k], "spec."+k, "shapes only the rules Pyrra writes for Prometheus or Thanos; Vigil judges the SLO itself, so it changes nothing here")
		}
	}
	if t := r.str(f["target"], "spec.target"); t == "" {
		r.errorAt(spec, "spec.target", "is required: a percentage such as \"99.9\"")
	} else if v, err := ParseObjective(t + "%"); err != nil {
		r.errorAt(f["target"], "spec.target", "%v", err)
	} else {
		s.Objective = v
	}
	if w := r.str(f["window"], "spec.window"); w == "" {
		r.errorAt(spec, "spec.window", "is required: a duration such as 4w or 28d")
	} else if d, err := model.ParseDuration(w); err != nil || d <= 0 {
		r.errorAt(f["window"], "spec.window", "%q is not a duration such as 4w or 28d", w)
	} else {
		s.Window = TimeWindow{Duration: time.Duration(d), Rolling: true}
	}
	s.SLI = r.pyrraIndicator(f["indicator"], spec)
	alerts, policy := r.pyrraAlerting(f["alerting"], s.Window.Duration)
	s.Alerts, s.Policy = alerts, policy
	for i := range s.Alerts {
		s.Alerts[i].Annotations = annotations
	}
	if config.HasErrors(r.problems) {
		return nil, r.problems
	}
	if name := r.str(config.Value(f["alerting"], "name"), ""); name != "" {
		s.AlertName = name
	}
	r.problems = append(r.problems, traps(s, file, config.Line(spec, "target"), "spec", config.Line(spec, "window"), config.Line(spec, "alerting"), evalStep)...)
	return s, r.problems
}

// pyrraIndicator reads spec.indicator: exactly one of ratio, latency,
// latencyNative and bool_gauge.
func (r *nodeReader) pyrraIndicator(n, spec *yaml.Node) SLI {
	if n == nil {
		r.errorAt(spec, "spec.indicator", "is required: one of ratio, latency or bool_gauge")
		return nil
	}
	f := r.fields(n, "spec.indicator", "ratio", "latency", "latencyNative", "bool_gauge")
	if len(f) != 1 {
		r.errorAt(n, "spec.indicator", "give one of ratio, latency, latencyNative or bool_gauge")
		return nil
	}
	switch {
	case f["ratio"] != nil:
		rf := r.fields(f["ratio"], "spec.indicator.ratio", "errors", "total", "grouping")
		r.pyrraGrouping(rf["grouping"], "spec.indicator.ratio.grouping")
		errs := r.pyrraMetric(rf["errors"], f["ratio"], "spec.indicator.ratio.errors")
		total := r.pyrraMetric(rf["total"], f["ratio"], "spec.indicator.ratio.total")
		if errs == nil || total == nil {
			return nil
		}
		return MetricRatio{Bad: errs.String(), Total: total.String()}
	case f["latency"] != nil:
		lf := r.fields(f["latency"], "spec.indicator.latency", "success", "total", "grouping")
		r.pyrraGrouping(lf["grouping"], "spec.indicator.latency.grouping")
		success := r.pyrraMetric(lf["success"], f["latency"], "spec.indicator.latency.success")
		total := r.pyrraMetric(lf["total"], f["latency"], "spec.indicator.latency.total")
		if success == nil || total == nil {
			return nil
		}
		le := ""
		for _, m := range success.LabelMatchers {
			if m.Name == labels.BucketLabel && m.Type == labels.MatchEqual {
				le = m.Value
			}
		}
		if _, err := strconv.ParseFloat(le, 64); err != nil {
			r.errorAt(config.Value(lf["success"], "metric"), "spec.indicator.latency.success.metric", "must select one bucket with le=\"<bound>\", the bucket of the latency to meet, as Pyrra requires")
			return nil
		}
		return MetricRatio{Good: success.String(), Total: total.String()}
	case f["bool_gauge"] != nil:
		bf := r.fields(f["bool_gauge"], "spec.indicator.bool_gauge", "metric", "grouping")
		r.pyrraGrouping(bf["grouping"], "spec.indicator.bool_gauge.grouping")
		m := r.pyrraMetric(f["bool_gauge"], n, "spec.indicator.bool_gauge")
		if m == nil {
			return nil
		}
		// Each sample an event: a minute's samples are those of the minute
		// before its start, read over [1m], so consecutive minutes count
		// each sample once.
		return MetricRatio{Good: fmt.Sprintf("sum(sum_over_time(%s[1m]))", m), Total: fmt.Sprintf("sum(count_over_time(%s[1m]))", m)}
	}
	r.errorAt(f["latencyNative"], "spec.indicator.latencyNative", "does not map to Vigil: it reads a native histogram, which Vigil stores as classic buckets; "+
		"write a latency indicator over the histogram's _bucket with le=\"<bound>\" and its _count")
	return nil
}

// pyrraGrouping: Pyrra's grouping makes one SLO of each group's series;
// a Vigil SLO judges one SLI.
func (r *nodeReader) pyrraGrouping(n *yaml.Node, field string) {
	if g := r.list(n, field); len(g) > 0 {
		r.errorAt(n, field, "does not map to Vigil: Pyrra judges each group apart, and a Vigil SLO judges one SLI; "+
			"remove grouping to judge the groups together, or write an SLO for each group with its labels in the selectors")
	}
}

// pyrraMetric reads {metric: <selector>}: Pyrra requires a plain vector
// selector.
func (r *nodeReader) pyrraMetric(n, parent *yaml.Node, field string) *parser.VectorSelector {
	if n == nil {
		r.errorAt(parent, field, "is required: metric: <selector>")
		return nil
	}
	var q string
	if field == "spec.indicator.bool_gauge" {
		q = r.str(config.Value(n, "metric"), field+".metric")
	} else {
		q = r.str(r.fields(n, field, "metric")["metric"], field+".metric")
	}
	at := nodeOr(config.Value(n, "metric"), n)
	if q == "" {
		r.errorAt(at, field+".metric", "is required: a series selector")
		return nil
	}
	expr, err := querier.ParseExpr(q)
	if err != nil {
		r.errorAt(at, field+".metric", "cannot parse %q: %v", q, err)
		return nil
	}
	vs, ok := expr.(*parser.VectorSelector)
	if !ok || vs.OriginalOffset != 0 || vs.Timestamp != nil || vs.StartOrEnd != 0 {
		r.errorAt(at, field+".metric", "%q is not a series selector such as http_requests_total{job=\"api\"}, which Pyrra requires", q)
		return nil
	}
	return vs
}

// pyrraAlerting reads spec.alerting: Pyrra's rules unless disabled (or
// burnrates: false), with their severities; absent, on by default, is
// Vigil's no-data alert (SLONoData when the window holds no events).
func (r *nodeReader) pyrraAlerting(n *yaml.Node, window time.Duration) ([]AlertWindow, *AlertPolicy) {
	f := r.fields(n, "spec.alerting", "disabled", "burnrates", "absent", "name", "absentName", "severities")
	disabled := r.boolean(f["disabled"], "spec.alerting.disabled", false)
	burnrates := r.boolean(f["burnrates"], "spec.alerting.burnrates", true)
	absent := r.boolean(f["absent"], "spec.alerting.absent", true)
	r.str(f["name"], "spec.alerting.name")
	if f["absentName"] != nil {
		r.warnAt(f["absentName"], "spec.alerting.absentName", "Vigil's no-data alert is %s; the name is not used", NoDataAlertName)
	}
	sf := r.fields(f["severities"], "spec.alerting.severities", append([]string{"absent"}, pyrraSeverities...)...)
	if disabled {
		return nil, &AlertPolicy{}
	}
	policy := &AlertPolicy{Breaching: burnrates, Resolved: true, NoData: absent}
	if a := r.str(sf["absent"], "spec.alerting.severities.absent"); a != "" && a != "ticket" && a != "warning" {
		r.errorAt(sf["absent"], "spec.alerting.severities.absent", "%q does not map to Vigil: its no-data alert is a ticket (warning)", a)
	}
	if window == 0 {
		return nil, policy
	}
	var out []AlertWindow
	for i, w := range PyrraWindows(window) {
		field := "spec.alerting.severities." + pyrraSeverities[i]
		switch v := r.str(sf[pyrraSeverities[i]], field); v {
		case "":
		case "critical", "page":
			w.Severity = "page"
		case "warning", "ticket":
			w.Severity = "ticket"
		default:
			r.errorAt(sf[pyrraSeverities[i]], field, "%q does not map to Vigil's severities: say critical (page) or warning (ticket)", v)
		}
		if burnrates {
			out = append(out, w)
		}
	}
	return out, policy
}
