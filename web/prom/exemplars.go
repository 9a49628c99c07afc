package prom

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/vigil-dev/vigil/collector/spanmetrics"
	"github.com/vigil-dev/vigil/store"
)

// Exemplars are the spans behind the latency series counted from spans
// (vigil_span_duration_seconds_bucket, _sum and _count): for each series
// and each step of the range, its slowest span, labelled with its trace
// and span ids, so Grafana links a latency point to its trace in Vigil's
// Jaeger API. Other series have no exemplars.

// exemplarSteps is about how many exemplars one series gets over a range.
const exemplarSteps = 120

// minExemplarStep keeps a short range from listing every span.
const minExemplarStep = time.Minute

// defaultExemplarRange is read when the request names no start: spans are
// scanned, not indexed by time alone.
const defaultExemplarRange = time.Hour

var latencyNames = []string{spanmetrics.DurationName + "_bucket", spanmetrics.DurationName + "_sum", spanmetrics.DurationName + "_count"}

// exemplarSeries is one series' exemplars, as Prometheus answers them.
type exemplarSeries struct {
	series    labels.Labels
	exemplars []store.SpanExemplar
}

// queryExemplars checks its parameters as Prometheus does; a query
// without selectors answers 204, as in Prometheus.
func (a *API) queryExemplars(r *http.Request, org string) result {
	mint, maxt, aerr := rangeParams(r)
	if aerr != nil {
		return result{err: aerr}
	}
	if maxt < mint {
		return result{err: badData(errors.New("end timestamp must not be before start timestamp"))}
	}
	expr, err := a.Engine.Parser().ParseExpr(r.FormValue("query"))
	if err != nil {
		return result{err: badData(err)}
	}
	selectors := parser.ExtractSelectors(expr)
	if len(selectors) == 0 {
		return result{}
	}
	start, end := exemplarRange(mint, maxt, a.now())
	out := []exemplarSeries{}
	seen := map[string]bool{}
	for _, ms := range selectors {
		found, err := a.spanExemplars(r.Context(), org, ms, start, end)
		if err != nil {
			return result{err: &apiError{errorInternal, err}}
		}
		for _, s := range found {
			if k := s.series.String(); !seen[k] {
				seen[k] = true
				out = append(out, s)
			}
		}
	}
	return result{data: out}
}

// exemplarRange turns the API's open bounds into a range to scan.
func exemplarRange(mint, maxt int64, now time.Time) (time.Time, time.Time) {
	end := now
	if maxt != math.MaxInt64 {
		end = time.UnixMilli(maxt)
	}
	start := end.Add(-defaultExemplarRange)
	if mint != math.MinInt64 {
		start = time.UnixMilli(mint)
	}
	return start, end.Add(time.Millisecond)
}

// spanExemplars answers one selector: equality matchers on the span
// labels go to the store, every matcher then decides.
func (a *API) spanExemplars(ctx context.Context, org string, ms []*labels.Matcher, start, end time.Time) ([]exemplarSeries, error) {
	names := slices.DeleteFunc(slices.Clone(latencyNames), func(n string) bool { return !matches(ms, labels.MetricName, n) })
	if len(names) == 0 || a.Spans == nil {
		return nil, nil
	}
	q := store.SpanExemplarQuery{Tenant: org, Start: start, End: end, Step: max(end.Sub(start)/exemplarSteps, minExemplarStep)}
	for _, m := range ms {
		if m.Type != labels.MatchEqual {
			continue
		}
		for field, p := range map[string]*string{"service": &q.Service, "operation": &q.Operation, "model": &q.Model, "deployment": &q.Deployment} {
			if m.Name == field {
				*p = m.Value
			}
		}
	}
	found, err := a.Spans.SpanExemplars(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []exemplarSeries
	byKey := map[string]int{}
	for _, e := range found {
		for _, name := range names {
			ls := exemplarLabels(name, &e)
			if !matchAll(ms, ls) {
				continue
			}
			k := ls.String()
			if _, ok := byKey[k]; !ok {
				byKey[k] = len(out)
				out = append(out, exemplarSeries{series: ls})
			}
			out[byKey[k]].exemplars = append(out[byKey[k]].exemplars, e)
		}
	}
	return out, nil
}

// exemplarLabels are the labels of the series a span counts in; a bucket
// series is the one of the bucket its duration falls in.
func exemplarLabels(name string, e *store.SpanExemplar) labels.Labels {
	b := labels.NewScratchBuilder(7)
	b.Add(labels.MetricName, name)
	for _, kv := range [][2]string{{"service", e.Service}, {"operation", e.Operation}, {"model", e.Model}, {"deployment", e.Deployment}, {"status", e.Status.String()}} {
		if kv[1] != "" {
			b.Add(kv[0], kv[1])
		}
	}
	if name == latencyNames[0] {
		b.Add("le", bucketOf(float64(e.DurationNano)/1e9))
	}
	b.Sort()
	return b.Labels()
}

func bucketOf(seconds float64) string {
	for _, le := range spanmetrics.DurationBounds {
		if seconds <= le {
			return strconv.FormatFloat(le, 'f', -1, 64)
		}
	}
	return "+Inf"
}

func matches(ms []*labels.Matcher, name, value string) bool {
	for _, m := range ms {
		if m.Name == name && !m.Matches(value) {
			return false
		}
	}
	return true
}

func matchAll(ms []*labels.Matcher, ls labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(ls.Get(m.Name)) {
			return false
		}
	}
	return true
}

// exemplars writes Prometheus's exemplar query result: per series, its
// labels and exemplars of trace_id and span_id, value in seconds (a
// string) and timestamp (when the span ended).
func (e *encoder) exemplars(ss []exemplarSeries) {
	e.raw(`[`)
	for i, s := range ss {
		e.comma(i)
		e.raw(`{"seriesLabels":`)
		e.labels(s.series)
		e.raw(`,"exemplars":[`)
		for j, x := range s.exemplars {
			e.comma(j)
			e.raw(`{"labels":`)
			e.labels(labels.FromStrings("span_id", x.SpanID.String(), "trace_id", x.TraceID.String()))
			e.raw(`,"value":"` + strconv.FormatFloat(float64(x.DurationNano)/1e9, 'f', -1, 64) + `","timestamp":`)
			e.timestamp((x.StartUnixNano + x.DurationNano) / 1e6)
			e.raw(`}`)
		}
		e.raw(`]}`)
	}
	e.raw(`]`)
}
