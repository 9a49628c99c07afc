package dashboards

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// Window is the time range and resolution Grafana asks a panel's queries
// for, and the data source's scrape interval (its timeInterval setting),
// from which Grafana derives $__interval and $__rate_interval.
type Window struct {
	From, To       time.Time
	MaxDataPoints  int           // a panel's width in points; 0 is 1000
	ScrapeInterval time.Duration // 0 is Grafana's default, 15s
}

// Selection is the values chosen for a dashboard's variables; a variable
// not in it keeps its current value (All for Vigil's multi-value ones).
type Selection map[string][]string

func (w Window) scrape() time.Duration {
	if w.ScrapeInterval <= 0 {
		return 15 * time.Second
	}
	return w.ScrapeInterval
}

// Step is Grafana's $__interval and the step of a range query: the range
// over the points, at least the scrape interval, rounded as Grafana rounds
// it, and never more than 11,000 points (Prometheus's limit).
func (w Window) Step() time.Duration {
	points := w.MaxDataPoints
	if points <= 0 {
		points = 1000
	}
	r := w.To.Sub(w.From)
	step := r / time.Duration(points)
	if step < w.scrape() {
		step = w.scrape()
	} else {
		step = roundInterval(step)
	}
	if safe := roundInterval(r / 11000); safe > step {
		step = safe
	}
	return step
}

// RateInterval is Grafana's $__rate_interval: the step plus one scrape,
// and at least four scrapes, so a rate always has two samples to read.
func (w Window) RateInterval() time.Duration {
	return max(w.Step()+w.scrape(), 4*w.scrape())
}

// roundInterval is Grafana's: an interval rounded to a "nice" one.
func roundInterval(d time.Duration) time.Duration {
	ms := time.Millisecond
	steps := []struct{ upTo, to time.Duration }{
		{10 * ms, 1 * ms}, {15 * ms, 10 * ms}, {35 * ms, 20 * ms}, {75 * ms, 50 * ms}, {150 * ms, 100 * ms},
		{350 * ms, 200 * ms}, {750 * ms, 500 * ms}, {1500 * ms, time.Second}, {3500 * ms, 2 * time.Second},
		{7500 * ms, 5 * time.Second}, {12500 * ms, 10 * time.Second}, {17500 * ms, 15 * time.Second},
		{25 * time.Second, 20 * time.Second}, {45 * time.Second, 30 * time.Second}, {90 * time.Second, time.Minute},
		{210 * time.Second, 2 * time.Minute}, {450 * time.Second, 5 * time.Minute}, {750 * time.Second, 10 * time.Minute},
		{1050 * time.Second, 15 * time.Minute}, {1500 * time.Second, 20 * time.Minute}, {2700 * time.Second, 30 * time.Minute},
		{5400 * time.Second, time.Hour}, {9000 * time.Second, 2 * time.Hour}, {16200 * time.Second, 3 * time.Hour},
		{32400 * time.Second, 6 * time.Hour}, {24 * time.Hour, 12 * time.Hour}, {48 * time.Hour, 24 * time.Hour},
		{7 * 24 * time.Hour, 24 * time.Hour}, {21 * 24 * time.Hour, 7 * 24 * time.Hour}, {42 * 24 * time.Hour, 30 * 24 * time.Hour},
	}
	for _, s := range steps {
		if d <= s.upTo {
			return s.to
		}
	}
	return 365 * 24 * time.Hour
}

// variableRef is how Grafana finds a variable in a query: $name,
// ${name}, ${name:format} or [[name]].
var variableRef = regexp.MustCompile(`\$(\w+)|\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]`)

// Interpolate substitutes a query's variables as Grafana's frontend does
// for a Prometheus data source (a multi-value selection as an escaped
// regular expression, All as the variable's allValue), then Grafana's
// macros as its Prometheus backend does ($__interval, $__rate_interval,
// $__range and their _ms and _s forms). A variable the dashboard does
// not define, or a single-value one with no value, is an error.
func (w Window) Interpolate(expr string, d dashboard.Dashboard, sel Selection) (string, error) {
	vars := map[string]dashboard.VariableModel{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	var problem error
	expr = variableRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := variableRef.FindStringSubmatch(ref)
		name := m[1] + m[2] + m[3]
		if strings.HasPrefix(name, "__") {
			return ref // a macro, for the backend
		}
		v, ok := vars[name]
		if !ok {
			problem = fmt.Errorf("the query uses $%s, which the dashboard does not define", name)
			return ref
		}
		value, err := variableValue(v, sel[name])
		if err != nil && problem == nil {
			problem = err
		}
		return value
	})
	if problem != nil {
		return "", problem
	}
	step, rateIv := w.Step(), w.RateInterval()
	rangeMs := w.To.Sub(w.From).Milliseconds()
	rangeS := int64(math.Round(float64(rangeMs) / 1000))
	for _, r := range []struct{ macro, value string }{
		{"$__interval_ms", strconv.FormatInt(step.Milliseconds(), 10)},
		{"$__interval", formatInterval(step)},
		{"$__range_ms", strconv.FormatInt(rangeMs, 10)},
		{"$__range_s", strconv.FormatInt(rangeS, 10)},
		{"$__range", strconv.FormatInt(rangeS, 10) + "s"},
		{"$__rate_interval_ms", strconv.FormatInt(rateIv.Milliseconds(), 10)},
		{"$__rate_interval", rateIv.String()},
	} {
		expr = strings.ReplaceAll(expr, r.macro, r.value)
		expr = strings.ReplaceAll(expr, "${"+r.macro[1:]+"}", r.value)
	}
	return expr, nil
}

// formatInterval writes an interval as Grafana's gtime does.
func formatInterval(d time.Duration) string {
	switch {
	case d >= 365*24*time.Hour:
		return fmt.Sprintf("%dy", d/(365*24*time.Hour))
	case d >= 7*24*time.Hour && d%(7*24*time.Hour) == 0:
		return fmt.Sprintf("%dw", d/(7*24*time.Hour))
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

// variableValue formats a selection the way Grafana's Prometheus data
// source interpolates it.
func variableValue(v dashboard.VariableModel, values []string) (string, error) {
	multi := v.Multi != nil && *v.Multi
	includeAll := v.IncludeAll != nil && *v.IncludeAll
	if len(values) == 0 && v.Type == dashboard.VariableTypeDatasource {
		if v.Current != nil && v.Current.Value.String != nil {
			return *v.Current.Value.String, nil
		}
	}
	if len(values) == 0 && includeAll {
		values = []string{"$__all"}
	}
	if len(values) == 0 {
		return "", fmt.Errorf("variable %s has no value", v.Name)
	}
	if len(values) == 1 && values[0] == "$__all" {
		if v.AllValue != nil {
			return *v.AllValue, nil
		}
		return "", fmt.Errorf("variable %s: All is chosen but it has no allValue", v.Name)
	}
	if !multi && !includeAll {
		return promRegularEscape(values[0]), nil
	}
	escaped := make([]string, len(values))
	for i, s := range values {
		escaped[i] = promRegexEscape(s)
	}
	if len(escaped) == 1 {
		return escaped[0], nil
	}
	return "(" + strings.Join(escaped, "|") + ")", nil
}

// promRegularEscape escapes a value for a PromQL string, as Grafana does.
func promRegularEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\\'`).Replace(s)
}

var regexSpecial = regexp.MustCompile(`[$^*{}\[\]'+?.()|]`)

// promRegexEscape escapes a value for a regular expression inside a
// PromQL string: the regex escape's backslash itself escaped.
func promRegexEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\\\`)
	return regexSpecial.ReplaceAllString(s, `\\$0`)
}

var labelValuesCall = regexp.MustCompile(`^\s*label_values\(\s*(.*?)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$`)

// LabelValuesSelector returns the series selector of a label_values
// variable query.
func LabelValuesSelector(query string) (string, error) {
	sel, _, err := ParseLabelValues(query)
	return sel, err
}

// ParseLabelValues splits label_values(selector, label) as Grafana's
// Prometheus data source reads it.
func ParseLabelValues(query string) (selector, label string, err error) {
	m := labelValuesCall.FindStringSubmatch(query)
	if m == nil {
		return "", "", fmt.Errorf("variable query %q is not label_values(selector, label)", query)
	}
	return m[1], m[2], nil
}
