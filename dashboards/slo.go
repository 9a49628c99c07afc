package dashboards

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/collector/spanmetrics"
	"github.com/vigil-dev/vigil/slo"
)

// sloQueries are an SLO's SLI in PromQL: the error ratio over a window,
// and the rates of all and of bad events (nil for an SLI whose events are
// minutes of a gauge, which has no event rate).
type sloQueries struct {
	errorRatio   func(window string) string
	total, bad   string
	describe     string // how the PromQL reads the SLI, for panel descriptions
	traces       *JaegerQuery
	gauge        string // the gauge of a threshold SLI, drawn against it
	threshold    float64
	thresholdDir string // "below" or "above": where good minutes are
}

// errSkipped says why an SLO has no dashboard.
type errSkipped struct{ reason string }

func (e errSkipped) Error() string { return e.reason }

// spanMatchers selects an SLO's spans in the span metrics, which carry
// service, operation and model but no other attribute.
func spanMatchers(s *slo.SLO, f slo.SpanFilter) (matchers, error) {
	if len(f.Attributes) > 0 {
		return nil, errSkipped{"its SLI filters on span attributes, which the span metrics do not carry"}
	}
	m := matchers{eq("service", s.TelemetryService())}
	if f.Operation != "" {
		m = append(m, eq("operation", f.Operation))
	}
	if f.Model != "" {
		m = append(m, eq("model", f.Model))
	}
	return m, nil
}

func spanTraces(s *slo.SLO, f slo.SpanFilter) *JaegerQuery {
	q := &JaegerQuery{QueryType: JaegerSearch, Service: s.TelemetryService(), Operation: f.Operation, Limit: 20}
	if f.Model != "" {
		q.Tags = "gen_ai.request.model=" + f.Model
	}
	return q
}

func queriesOf(s *slo.SLO) (sloQueries, error) {
	switch sli := s.SLI.(type) {
	case slo.SpanAvailability:
		m, err := spanMatchers(s, sli.SpanFilter)
		if err != nil {
			return sloQueries{}, err
		}
		tr := spanTraces(s, sli.SpanFilter)
		tr.Tags = strings.TrimSpace("error=true " + tr.Tags)
		return sloQueries{
			errorRatio: func(w string) string { return errorRatio("", m, w) },
			total:      sumRate("", callsMetric, m, rateInterval),
			bad:        errorsOr0("", m, rateInterval),
			describe:   "the share of spans without an error status, from " + callsMetric,
			traces:     tr,
		}, nil
	case slo.SpanLatency:
		m, err := spanMatchers(s, sli.SpanFilter)
		if err != nil {
			return sloQueries{}, err
		}
		le := promFloat(sli.Latency.Seconds())
		good := func(w string) string {
			return fmt.Sprintf("histogram_fraction(0, %s, sum by (le) (%s))", le, rate(durationBucket, m, w))
		}
		tr := spanTraces(s, sli.SpanFilter)
		tr.MinDuration = promDuration(sli.Latency)
		describe := fmt.Sprintf("the share of spans at most %s, from %s", sli.Latency, durationBucket)
		if !isBucketBound(sli.Latency.Seconds()) {
			describe += " (interpolated within its bucket, as histogram_quantile does: the buckets are powers of two seconds)"
		}
		return sloQueries{
			errorRatio: func(w string) string { return "1 - " + good(w) },
			total:      sumRate("", callsMetric, m, rateInterval),
			bad:        fmt.Sprintf("%s * (1 - %s)", sumRate("", callsMetric, m, rateInterval), good(rateInterval)),
			describe:   describe,
			traces:     tr,
		}, nil
	case slo.MetricRatio:
		// The SLO's own queries, read as Vigil evaluates them.
		total, bad := sli.EventRateQueries(rateInterval)
		return sloQueries{
			errorRatio: sli.ErrorRatioQuery,
			total:      total,
			bad:        bad,
			describe:   "the SLO's own queries, " + sli.Describe(""),
		}, nil
	case slo.MetricThreshold:
		return sloQueries{
			errorRatio: sli.ErrorRatioQuery,
			describe:   fmt.Sprintf("the share of minutes whose mean of %s is %s %s", sli.Gauge, sli.Op.Symbol(), promFloat(sli.Threshold)),
			gauge:      sli.MeanQuery(),
			threshold:  sli.Threshold,
		}, nil
	case slo.RawRatio:
		what := "good"
		if sli.Failure {
			what = "bad"
		}
		return sloQueries{
			errorRatio: sli.ErrorRatioQuery,
			describe:   fmt.Sprintf("the SLO's own ratio of %s events, %s", what, strings.TrimSpace(sli.Query)),
		}, nil
	case slo.SpanAttribute:
		return sloQueries{}, errSkipped{fmt.Sprintf("its SLI reads the span attribute %s, which the span metrics do not carry", sli.Attribute)}
	case slo.DriftVerdicts:
		return sloQueries{}, errSkipped{"its SLI reads drift findings, which Vigil's Prometheus API does not serve"}
	default:
		return sloQueries{}, errSkipped{fmt.Sprintf("its SLI (%T) has no PromQL form", s.SLI)}
	}
}

func isBucketBound(seconds float64) bool {
	for _, b := range spanmetrics.DurationBounds {
		if b == seconds {
			return true
		}
	}
	return false
}

// promDuration writes a duration as PromQL and Jaeger read it: 28d, 1h,
// 5m, 30s, 250ms.
func promDuration(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d >= time.Second && d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	default:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	}
}

func sloDashboard(s *slo.SLO, folder Folder) (spec, error) {
	q, err := queriesOf(s)
	if err != nil {
		return spec{}, err
	}
	allowed := 1 - s.Objective
	window := promDuration(s.Window.Duration)
	windowNote := "the SLO's rolling " + window
	if !s.Window.Rolling {
		windowNote = fmt.Sprintf("the last %s, the length of the SLO's window (%s); Vigil's own SLO page counts from the start of the period", window, s.Window)
	}
	if s.Method != slo.Occurrences && s.Method != "" {
		windowNote += fmt.Sprintf("; counted by occurrences, while Vigil judges this SLO by %s", s.Method)
	}
	sli := func(w string) string { return fmt.Sprintf("1 - (%s)", q.errorRatio(w)) }
	budget := fmt.Sprintf("1 - (%s) / %s", q.errorRatio(window), promFloat(allowed))
	title := fmt.Sprintf("SLO · %s", s.Name)
	if s.Tenant != "" {
		title += " (" + s.Tenant + ")"
	}
	description := fmt.Sprintf("%s: objective %s over %s. The SLI is %s.", s.Name, formatPercent(s.Objective), s.Window, q.describe)
	if s.Description != "" {
		description = s.Description + " — " + description
	}

	rows := []row{
		{title: "Objective and error budget", panels: []panel{
			{kind: statPanel, title: "SLI over " + window, unit: "percentunit", width: 6, description: "Over " + windowNote + ".",
				targets:    []target{{expr: sli(window), instant: true}},
				thresholds: []threshold{{color: "red"}, {value: ptr(s.Objective), color: "green"}}},
			{kind: statPanel, title: "Error budget remaining", unit: "percentunit", width: 6, description: "Over " + windowNote + ": 1 − error ratio ÷ (1 − objective).",
				targets:    []target{{expr: budget, instant: true}},
				thresholds: []threshold{{color: "red"}, {value: ptr(0.0), color: "orange"}, {value: ptr(0.25), color: "green"}}},
			{title: "SLI against the objective (" + formatPercent(s.Objective) + ")", unit: "percentunit", width: 12,
				description: "The SLI per step and over " + windowNote + "; the line is the objective.",
				targets:     []target{{expr: sli(rateInterval), legend: "SLI"}, {expr: sli(window), legend: "SLI over " + window}},
				thresholds:  []threshold{{color: "red"}, {value: ptr(s.Objective), color: "green"}}},
			{title: "Error budget burn-down", unit: "percentunit", width: 24,
				description: "The error budget left over " + windowNote + ", at each moment; below 0 the objective is missed.",
				targets:     []target{{expr: budget, legend: "budget remaining"}},
				thresholds:  []threshold{{color: "red"}, {value: ptr(0.0), color: "green"}}},
		}},
	}
	if len(s.Alerts) > 0 {
		var burns []panel
		for _, a := range s.Alerts {
			long, short := promDuration(a.Long), promDuration(a.Short)
			burn := func(w string) string { return fmt.Sprintf("(%s) / %s", q.errorRatio(w), promFloat(allowed)) }
			burns = append(burns, panel{
				title:       fmt.Sprintf("%s: burn rate over %s and %s", a.Severity, long, short),
				description: fmt.Sprintf("Fires when both windows burn faster than %s (%d%% of the budget spent when it fires).", promFloat(a.Factor), a.BudgetPercent),
				unit:        "none", width: 12, min: ptr(0.0),
				targets:    []target{{expr: burn(long), legend: "over " + long}, {expr: burn(short), legend: "over " + short}},
				thresholds: []threshold{{color: "green"}, {value: ptr(a.Factor), color: "red"}},
			})
		}
		rows = append(rows, row{title: "Burn rates", panels: burns})
	}
	events := row{title: "Events"}
	if q.total != "" {
		events.panels = append(events.panels, panel{title: "Events", unit: "reqps", width: 12, description: "All and bad events per second.",
			targets: []target{{expr: q.total, legend: "all"}, {expr: q.bad, legend: "bad"}}})
	}
	if q.gauge != "" {
		events.panels = append(events.panels, panel{title: "Gauge against its threshold", width: 12,
			targets:    []target{{expr: q.gauge, legend: "mean"}},
			thresholds: []threshold{{color: "blue"}, {value: ptr(q.threshold), color: "orange"}}})
	}
	if q.traces != nil {
		events.panels = append(events.panels, panel{kind: tracesTable, title: "Traces of bad events", width: 12, jaeger: q.traces})
	}
	if len(events.panels) > 0 { // a raw ratio has no events to draw
		rows = append(rows, events)
	}

	tags := []string{"slo:" + s.Name}
	if svc := s.Service; svc != "" {
		tags = append(tags, "service:"+svc)
	}
	return spec{uid: sloUID(s), kind: KindSLO, folder: folder, title: title, description: description,
		tags: tags, links: []string{ManagedTag}, rows: rows, time: "24h"}, nil
}

func formatPercent(o float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", o*100), "0"), ".") + "%"
}
