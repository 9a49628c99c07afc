package slo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/vigil-dev/vigil/querier"
)

// PromQL SLIs. The good, bad and total of a metric SLI, a threshold
// SLI's gauge and a raw ratio may be any PromQL query, which the querier's
// engine evaluates into the same per-minute rollups as span SLIs, so burn
// rates, budgets and alerts work the same. How a query's values become a
// minute's events depends on what it reads:
//
//   - A plain series selector (http_requests_total{code=~"5.."}) is a set
//     of counters: each minute counts the increases of their samples in
//     it, exactly (an anchored increase over the minute, at its end).
//   - A query that reads no range (sum(http_requests_total)) is a counter
//     too: it is evaluated at every minute boundary, and a minute counts
//     its increase across the minute, a drop read as a reset.
//   - A query that reads a range (sum(rate(x[5m]))), or one declared not a
//     counter (OpenSLO's counter: false), is a rate. It is evaluated at the
//     start of every minute and that sample stands for the minute: 60 times
//     a rate per second, or 60/r times a count over a range r (increase,
//     count_over_time, sum_over_time), is the minute's events. A window's
//     error ratio is the ratio of the sums of the samples at the minute
//     starts it holds, what sum_over_time(q[w:1m]) gives in Prometheus. The
//     sample at a minute's start is known once the minute begins, so the
//     minute in progress counts too, as it does for span SLIs.
//
// Sloth's {{.window}} placeholder is read as sampleRange for the samples,
// and as each rule's window when rules are exported.

// PromQL evaluates PromQL for a tenant: the querier's Engine. The SLO
// evaluator declares what it needs, so it reads metrics through any
// engine (and tests through a small one).
type PromQL interface {
	QueryRange(ctx context.Context, tenant, query string, start, end time.Time, step time.Duration) (promql.Matrix, error)
}

// sampleRange is what {{.window}} reads as for the per-minute samples:
// four scrapes at Prometheus's default interval of a minute, as a rate()
// needs at least two.
const sampleRange = 5 * time.Minute

var windowVar = regexp.MustCompile(`\{\{\s*\.window\s*\}\}`)

// templated reports a query written with Sloth's {{.window}}.
func templated(q string) bool { return windowVar.MatchString(q) }

// render writes the window into a templated query.
func render(q string, w time.Duration) string {
	return windowVar.ReplaceAllLiteralString(q, formatDuration(w))
}

type queryKind int

const (
	selectorQuery queryKind = iota // counters, read sample by sample
	counterQuery                   // a counter, evaluated at minute boundaries
	rateQuery                      // a rate, sampled at minute starts
)

// query is an SLI query as compiled.
type query struct {
	text  string // as written, perhaps with {{.window}}
	kind  queryKind
	scale float64 // of a rate query: a minute's events per unit of a sample
}

// compileQuery parses q as the engine will; rates declares it not a
// counter. The error quotes the parser's message, or says why q cannot be
// an SLI's query.
func compileQuery(q string, rates bool) (query, error) {
	expr, err := querier.ParseExpr(render(q, sampleRange))
	if err != nil {
		return query{}, fmt.Errorf("cannot parse %q: %w", q, err)
	}
	if t := expr.Type(); t != parser.ValueTypeVector {
		return query{}, fmt.Errorf("%q is a %s; an SLI's query returns an instant vector, e.g. sum(rate(x[5m]))", q, parser.DocumentedType(t))
	}
	c := query{text: q, kind: counterQuery}
	switch {
	case rates || readsRange(expr):
		c.kind, c.scale = rateQuery, eventScale(expr)
	case isSelector(expr):
		c.kind = selectorQuery
	}
	return c, nil
}

// isSelector: a plain selector, without offset or @, which reads counters
// sample by sample.
func isSelector(expr parser.Expr) bool {
	vs, ok := expr.(*parser.VectorSelector)
	return ok && vs.OriginalOffset == 0 && vs.OriginalOffsetExpr == nil && vs.Timestamp == nil && vs.StartOrEnd == 0
}

func readsRange(expr parser.Expr) bool {
	found := false
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		switch n.(type) {
		case *parser.MatrixSelector, *parser.SubqueryExpr:
			found = true
		}
		return nil
	})
	return found
}

// countsOverRange are the functions whose value is a count over their
// range rather than a rate per second.
var countsOverRange = map[string]bool{"increase": true, "count_over_time": true, "sum_over_time": true, "changes": true, "resets": true}

// eventScale is a minute's events per unit of a rate query's sample: 60
// for a rate per second, 60/r for a count over a range r. A query mixing
// the two (or reading ranges only through other functions) is taken as a
// rate per second.
func eventScale(expr parser.Expr) float64 {
	scale := 0.0
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		call, ok := n.(*parser.Call)
		if !ok {
			return nil
		}
		for _, arg := range call.Args {
			var r time.Duration
			switch a := arg.(type) {
			case *parser.MatrixSelector:
				r = a.Range
			case *parser.SubqueryExpr:
				r = a.Range
			default:
				continue
			}
			s := 60.0
			if countsOverRange[call.Func.Name] && r > 0 {
				s = 60 / r.Seconds()
			}
			if scale == 0 {
				scale = s
			} else if scale != s {
				scale = -1
			}
		}
		return nil
	})
	if scale <= 0 {
		return 60
	}
	return scale
}

// errNoEngine is what a PromQL SLI fails with where no engine is wired.
var errNoEngine = errors.New("metric SLIs are PromQL queries, and the evaluator has no PromQL engine")

// minuteStarts are the first and last minute starts in [from, to).
func minuteStarts(from, to time.Time) (first, last time.Time, ok bool) {
	first = from.Truncate(time.Minute)
	if first.Before(from) {
		first = first.Add(time.Minute)
	}
	last = to.Add(-time.Nanosecond).Truncate(time.Minute)
	return first, last, !last.Before(first)
}

// sample evaluates q at every minute start in [from, to); a counter also
// at the boundary that ends the last minute, where its increase ends.
func (src sources) sample(ctx context.Context, tenant string, q query, from, to time.Time) (promql.Matrix, error) {
	if src.promql == nil {
		return nil, errNoEngine
	}
	first, last, ok := minuteStarts(from, to)
	if !ok {
		return nil, nil
	}
	if q.kind == counterQuery {
		last = last.Add(time.Minute)
	}
	m, err := src.promql.QueryRange(ctx, tenant, render(q.text, sampleRange), first, last, time.Minute)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", q.text, err)
	}
	return m, nil
}

// events counts a query's events per Unix minute over [from, to).
func (src sources) events(ctx context.Context, tenant string, q query, from, to time.Time) (map[int64]float64, error) {
	if q.kind == selectorQuery {
		// Anchored: from the last sample before the minute to the last in
		// it, every drop a reset, without extrapolation; so minutes add up
		// exactly to longer windows, and a series' first sample counts
		// nothing, as in Prometheus.
		return src.minuteSums(ctx, tenant, "sum(increase("+q.text+"[1m] anchored))", from, to)
	}
	m, err := src.sample(ctx, tenant, q, from, to)
	if err != nil {
		return nil, err
	}
	out := map[int64]float64{}
	for _, s := range m {
		for i, p := range s.Floats {
			switch {
			case !finite(p.F):
			case q.kind == rateQuery:
				out[p.T/60000] += q.scale * p.F
			case i > 0 && p.T-s.Floats[i-1].T == 60000 && finite(s.Floats[i-1].F):
				// The increase across the minute that ends at p; a series
				// missing at the minute's start counts nothing.
				inc := p.F - s.Floats[i-1].F
				if inc < 0 {
					inc = p.F
				}
				out[s.Floats[i-1].T/60000] += inc
			}
		}
	}
	return out, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// minuteSums evaluates expr, a query over the last minute, at the end of
// every minute in [from, to): its value is that minute's.
func (src sources) minuteSums(ctx context.Context, tenant, expr string, from, to time.Time) (map[int64]float64, error) {
	if src.promql == nil {
		return nil, errNoEngine
	}
	first, last, ok := minuteStarts(from, to)
	if !ok {
		return nil, nil
	}
	m, err := src.promql.QueryRange(ctx, tenant, expr, first.Add(time.Minute), last.Add(time.Minute), time.Minute)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", expr, err)
	}
	out := map[int64]float64{}
	for _, s := range m {
		for _, p := range s.Floats {
			if finite(p.F) {
				out[p.T/60000-1] += p.F
			}
		}
	}
	return out, nil
}

// meanPerMinute samples q at every minute start in [from, to) and averages
// the series at each: a gauge's or a ratio's value for the minute.
func (src sources) meanPerMinute(ctx context.Context, tenant string, q query, from, to time.Time) (map[int64]float64, error) {
	m, err := src.sample(ctx, tenant, q, from, to)
	if err != nil {
		return nil, err
	}
	sum, n := map[int64]float64{}, map[int64]int{}
	for _, s := range m {
		for _, p := range s.Floats {
			if finite(p.F) {
				sum[p.T/60000] += p.F
				n[p.T/60000]++
			}
		}
	}
	for at := range sum {
		sum[at] /= float64(n[at])
	}
	return sum, nil
}
