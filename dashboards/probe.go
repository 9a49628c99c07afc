package dashboards

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// QueryAPI is what probing a dashboard asks of Vigil: its Prometheus API
// (label values, instant and range queries, each answering the label
// sets of the series found) and its Jaeger API (how many traces a search
// finds). Answers are for the tenant of the caller's credential.
type QueryAPI interface {
	LabelValues(ctx context.Context, label, selector string, w Window) ([]string, error)
	Query(ctx context.Context, expr string, w Window) ([]map[string]string, error)
	QueryRange(ctx context.Context, expr string, w Window) ([]map[string]string, error)
	FindTraces(ctx context.Context, q JaegerQuery, w Window) (int, error)
}

// Probe is the outcome of one query of a dashboard.
type Probe struct {
	Dashboard, Where string
	Query            string // as sent, variables and macros substituted
	Series           int    // series, label values or traces found
	Problem          string // "" when the panel would show data, labelled as its legend says
}

var legendLabel = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)

// ProbeDashboard runs every query of a dashboard file against Vigil as
// Grafana would over w: the variables first (a multi-value one at All, a
// single-value one at its first value, as Grafana starts them), then
// every target with the variables and macros substituted. A query with
// no result, or whose series lack a label its legend shows, is a
// problem: that panel would be empty or mislabelled.
func ProbeDashboard(ctx context.Context, raw []byte, api QueryAPI, w Window) ([]Probe, error) {
	d, err := Check(raw)
	if err != nil {
		return nil, err
	}
	qs, err := Queries(d)
	if err != nil {
		return nil, err
	}
	uid := uidOf(d)
	sel := Selection{}
	var out []Probe
	for _, q := range qs {
		p := Probe{Dashboard: uid, Where: q.Where}
		switch {
		case q.Variable != "":
			selector, label, err := ParseLabelValues(q.Expr)
			if err == nil {
				selector, err = w.Interpolate(selector, d, sel)
			}
			if err != nil {
				return nil, fmt.Errorf("dashboard %s, %s: %w", uid, q.Where, err)
			}
			p.Query = fmt.Sprintf("label_values(%s, %s)", selector, label)
			values, err := api.LabelValues(ctx, label, selector, w)
			p.Series = len(values)
			switch {
			case err != nil:
				p.Problem = err.Error()
			case len(values) == 0:
				p.Problem = "the variable has no values"
			default:
				if !isMulti(d, q.Variable) {
					sel[q.Variable] = values[:1]
				}
			}
		case q.Jaeger != nil:
			jq := *q.Jaeger
			for _, f := range []*string{&jq.Service, &jq.Operation, &jq.Tags, &jq.MinDuration, &jq.MaxDuration, &jq.Query} {
				if *f, err = w.Interpolate(*f, d, sel); err != nil {
					break
				}
			}
			if err != nil { // a variable without values: reported on the variable too
				p.Problem = err.Error()
				out = append(out, p)
				continue
			}
			p.Query = fmt.Sprintf("traces of service=%q operation=%q tags=%q minDuration=%q limit=%d", jq.Service, jq.Operation, jq.Tags, jq.MinDuration, jq.Limit)
			n, err := api.FindTraces(ctx, jq, w)
			p.Series = n
			switch {
			case err != nil:
				p.Problem = err.Error()
			case n == 0:
				p.Problem = "no traces"
			}
		default:
			expr, err := w.Interpolate(q.Expr, d, sel)
			if err != nil {
				return nil, fmt.Errorf("dashboard %s, %s: %w", uid, q.Where, err)
			}
			p.Query = expr
			var series []map[string]string
			if q.Instant {
				series, err = api.Query(ctx, expr, w)
			} else {
				series, err = api.QueryRange(ctx, expr, w)
			}
			p.Series = len(series)
			switch {
			case err != nil:
				p.Problem = err.Error()
			case len(series) == 0:
				p.Problem = "no data"
			default:
				p.Problem = missingLabels(q.Legend, series)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

func isMulti(d dashboard.Dashboard, name string) bool {
	for _, v := range d.Templating.List {
		if v.Name == name {
			return v.Multi != nil && *v.Multi
		}
	}
	return false
}

// missingLabels says which label a legend shows that a series lacks.
func missingLabels(legend string, series []map[string]string) string {
	var missing []string
	for _, m := range legendLabel.FindAllStringSubmatch(legend, -1) {
		for _, s := range series {
			if s[m[1]] == "" {
				missing = append(missing, fmt.Sprintf("a series has no %s, which the legend %q shows: %v", m[1], legend, s))
				break
			}
		}
	}
	slices.Sort(missing)
	return strings.Join(slices.Compact(missing), "; ")
}
