package dashboards

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil/collector/spanmetrics"
)

// The series the dashboards read: the collector's span metrics, the OTel
// GenAI semantic convention's time to first token as Prometheus's OTLP
// naming writes it, and Vigil's own metrics scraped from its /metrics.
const (
	callsMetric    = spanmetrics.CallsName
	durationBucket = spanmetrics.DurationName + "_bucket"
	tokensMetric   = spanmetrics.TokensName
	costMetric     = spanmetrics.CostName
	ttftBucket     = "gen_ai_server_time_to_first_token_seconds_bucket"
	// rateInterval is Grafana's macro for a rate window that always holds
	// at least four scrapes at the data source's scrape interval.
	rateInterval = "$__rate_interval"
)

// matchers is a PromQL selector's label matchers.
type matchers []string

func (m matchers) String() string { return "{" + strings.Join(m, ", ") + "}" }

// and returns a copy with more matchers, so a shared base is never
// appended to in place.
func (m matchers) and(more ...string) matchers {
	return append(append(matchers{}, m...), more...)
}

func eq(label, value string) string { return label + "=" + strconv.Quote(value) }

// re matches a variable's values; Grafana writes a multi-value variable
// as a regular expression, and All as .*.
func re(label, variable string) string { return label + `=~"$` + variable + `"` }

func rate(metric string, m matchers, window string) string {
	return fmt.Sprintf("rate(%s%s[%s])", metric, m, window)
}

func sumRate(by, metric string, m matchers, window string) string {
	return fmt.Sprintf("sum%s(%s)", byClause(by), rate(metric, m, window))
}

func byClause(by string) string {
	if by == "" {
		return ""
	}
	return " by (" + by + ") "
}

// quantile is a latency quantile of the span duration histogram.
func quantile(q float64, by, bucket string, m matchers) string {
	by2 := "le"
	if by != "" {
		by2 = by + ", le"
	}
	return fmt.Sprintf("histogram_quantile(%s, sum by (%s) (%s))", promFloat(q), by2, rate(bucket, m, rateInterval))
}

// errorsOr0 is the rate of a selection's error spans per by-group, 0 for
// a group with calls but no errors (rather than no series, which would
// leave a gap where the error ratio is 0).
func errorsOr0(by string, m matchers, window string) string {
	return fmt.Sprintf("sum%s(%s or 0 * %s)", byClause(by), rate(callsMetric, m.and(eq("status", "error")), window), rate(callsMetric, m, window))
}

// errorRatio is the share of a selection's calls that failed.
func errorRatio(by string, m matchers, window string) string {
	return fmt.Sprintf("%s / %s", errorsOr0(by, m, window), sumRate(by, callsMetric, m, window))
}

func promFloat(f float64) string { return strconv.FormatFloat(f, 'g', 12, 64) }

func legend(labels ...string) string {
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = "{{" + l + "}}"
	}
	return strings.Join(parts, " ")
}
