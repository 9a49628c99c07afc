package slo

import (
	"fmt"
	"strings"
)

// PromQL for readers whose windows are text, such as Grafana dashboards:
// a window may be a PromQL duration (28d) or a macro Grafana substitutes
// before the query is run ($__rate_interval, $__range). Each query is
// the one Vigil evaluates, read as the Prometheus rules of promrules.go
// read it, so a dashboard built from an SLO's own expressions shows what
// Vigil judges: a plain selector's counters by rate(); a counter query by
// the rate of its values at minute boundaries; a rate query by the mean
// of its values at minute starts, in events per second; a query written
// for Sloth's {{.window}} with the window written in.

// renderText writes a text window into a templated query.
func renderText(q, window string) string {
	return windowVar.ReplaceAllLiteralString(q, window)
}

// rateText is a query's events per second over the window, one series
// without labels, so a ratio of two of them matches. A rate query's
// value is scale events a minute per unit (60 for a rate per second).
func (m MetricRatio) rateText(q, window string) string {
	c, _ := compileQuery(q, m.Rates) // lint has parsed it
	switch {
	case templated(q):
		return fmt.Sprintf("sum(%s)", strings.TrimSpace(renderText(q, window)))
	case c.kind == selectorQuery:
		return fmt.Sprintf("sum(rate(%s[%s]))", q, window)
	case c.kind == counterQuery:
		return fmt.Sprintf("sum(rate((%s)[%s:1m]))", q, window)
	}
	mean := fmt.Sprintf("sum(avg_over_time((%s)[%s:1m]))", q, window)
	if c.scale == 60 {
		return mean
	}
	return fmt.Sprintf("(%s * %s)", mean, promFloat(c.scale/60))
}

// partText is the good or bad part's rate, 0 where its query finds no
// series while the total has some (no failures yet is a ratio of 0, not
// a gap in the panel).
func (m MetricRatio) partText(q, window string) string {
	return fmt.Sprintf("(%s or 0 * %s)", m.rateText(q, window), m.rateText(m.Total, window))
}

// ErrorRatioQuery is the share of bad events over the window.
func (m MetricRatio) ErrorRatioQuery(window string) string {
	if m.Bad != "" {
		return fmt.Sprintf("%s / %s", m.partText(m.Bad, window), m.rateText(m.Total, window))
	}
	return fmt.Sprintf("1 - %s / %s", m.partText(m.Good, window), m.rateText(m.Total, window))
}

// EventRateQueries are all and bad events per second over the window.
func (m MetricRatio) EventRateQueries(window string) (total, bad string) {
	total = m.rateText(m.Total, window)
	if m.Bad != "" {
		return total, m.partText(m.Bad, window)
	}
	return total, fmt.Sprintf("%s - %s", total, m.partText(m.Good, window))
}

// MeanQuery is the gauge's mean per minute, as a minute is judged: the
// samples of a plain selector pooled over the last minute, any other
// query's series averaged.
func (m MetricThreshold) MeanQuery() string {
	if c, _ := compileQuery(m.Gauge, false); c.kind == selectorQuery {
		return "(" + pooledMean(m.Gauge) + ")"
	}
	return fmt.Sprintf("avg(%s)", strings.TrimSpace(render(m.Gauge, sampleRange)))
}

// ErrorRatioQuery is the share of minutes in the window whose mean does
// not pass.
func (m MetricThreshold) ErrorRatioQuery(window string) string {
	return fmt.Sprintf("1 - avg_over_time((%s %s %s)[%s:1m])", m.MeanQuery(), m.Op.PromQLBool(), promFloat(m.Threshold), window)
}

// ErrorRatioQuery is the ratio of failures over the window: a templated
// query with the window written in, any other the mean of its minutes.
func (r RawRatio) ErrorRatioQuery(window string) string {
	ratio := fmt.Sprintf("avg_over_time((avg(%s))[%s:1m])", strings.TrimSpace(r.Query), window)
	if templated(r.Query) {
		ratio = fmt.Sprintf("avg(%s)", strings.TrimSpace(renderText(r.Query, window)))
	}
	if r.Failure {
		return ratio
	}
	return "1 - " + ratio
}
