package ui

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
)

// groupRow is one operation or model of a service.
type groupRow struct {
	Name           string
	Spans, Errors  uint64
	Rate, ErrorPct float64
	P50, P90, P99  time.Duration
	Tokens         int64
	Cost           decimal.Decimal
	HasUsage       bool
}

type serviceData struct {
	Name           string
	Summary        groupRow
	HasSummary     bool
	Operations     []groupRow
	Models         []groupRow
	By             string // the charts' grouping: operation or model
	Latency        string // the latency chart's percentile: p50, p90 or p99
	Charts         []chart
	SummaryProblem string
	OpsProblem     string
	ModelsProblem  string
	ChartsProblem  string
}

var chartGroupings = []string{"operation", "model"}
var percentiles = []string{"p50", "p90", "p99"}

// service is a service's page: its requests, its operations and models
// in tables, and (lazily, ?panel=red) its rate, errors and latency per
// operation or per model over time. Dragging on a chart zooms (the range
// goes into the URL); clicking a point opens the traces of that step.
func (u *UI) service(w http.ResponseWriter, r *http.Request) {
	d := &serviceData{Name: r.PathValue("service"), By: "operation", Latency: "p99"}
	v := u.newView(w, r, d.Name+" · Services", "services")
	tr := v.timeRange(maxSpanRange)
	v.Data = d
	if by := v.query.Get("by"); by != "" {
		d.By = by
		if !slices.Contains(chartGroupings, by) {
			v.problem(&fieldError{"by", fmt.Sprintf("cannot chart by %q: pick operation or model", by)}, http.StatusBadRequest)
		}
	}
	if lat := v.query.Get("latency"); lat != "" {
		d.Latency = lat
		if !slices.Contains(percentiles, lat) {
			v.problem(&fieldError{"latency", fmt.Sprintf("no percentile %q: pick p50, p90 or p99", lat)}, http.StatusBadRequest)
		}
	}
	if v.OK() {
		if v.Panel == "red" {
			u.loadServiceCharts(r, v, d, tr)
		} else {
			u.loadService(r, v, d, tr)
		}
	}
	u.render(w, r, "service", v)
}

func (u *UI) loadService(r *http.Request, v *view, d *serviceData, tr timeRange) {
	only := map[store.UsageDimension]string{"service": d.Name}
	q := store.SpanStatsQuery{Tenant: v.Tenant, Start: tr.Start, End: tr.End, Filter: only}
	var summary, ops, models []store.SpanStats
	var usage []store.UsageGroup
	rs := u.reads(r)
	rs.do(&d.SummaryProblem, "The service's requests", func(ctx context.Context) (err error) {
		sq := q
		sq.Entry = true
		summary, err = u.opts.Store.SpanStats(ctx, sq)
		return err
	})
	rs.do(&d.OpsProblem, "The operations", func(ctx context.Context) (err error) {
		oq := q
		oq.GroupBy = []store.UsageDimension{"operation"}
		ops, err = u.opts.Store.SpanStats(ctx, oq)
		return err
	})
	rs.do(&d.ModelsProblem, "The model calls", func(ctx context.Context) error {
		mq := q
		mq.GroupBy, mq.ModelCalls = []store.UsageDimension{"model"}, true
		var err error
		if models, err = u.opts.Store.SpanStats(ctx, mq); err != nil {
			return err
		}
		usage, err = u.opts.Store.Usage(ctx, store.UsageQuery{Tenant: v.Tenant, Start: tr.Start, End: tr.End, GroupBy: mq.GroupBy, Filter: only})
		return err
	})
	rs.wait()
	seconds := tr.End.Sub(tr.Start).Seconds()
	if len(summary) > 0 {
		d.Summary, d.HasSummary = newGroupRow(summary[0], seconds), true
	}
	d.Operations = groupRows(ops, nil, seconds)
	d.Models = groupRows(models, usage, seconds)
	if !d.HasSummary && len(d.Operations) == 0 && d.SummaryProblem == "" && d.OpsProblem == "" {
		u.checkServiceExists(r, v, d.Name)
	}
}

// checkServiceExists tells an unknown service (404) from one without
// spans in the range.
func (u *UI) checkServiceExists(r *http.Request, v *view, name string) {
	ctx, cancel := context.WithTimeout(r.Context(), u.opts.PanelTimeout)
	defer cancel()
	names, err := u.opts.Store.Services(ctx, v.Tenant)
	if err == nil && !slices.Contains(names, name) {
		v.problem(&fieldError{"service", fmt.Sprintf("There is no service named %q in tenant %s.", name, v.Tenant)}, http.StatusNotFound)
	}
}

func newGroupRow(s store.SpanStats, seconds float64) groupRow {
	name := ""
	if len(s.Keys) > 0 {
		name = s.Keys[0]
	}
	return groupRow{Name: name, Spans: s.Spans, Errors: s.Errors, Rate: float64(s.Spans) / seconds, ErrorPct: percent(s.Errors, s.Spans),
		P50: s.P50, P90: s.P90, P99: s.P99}
}

// groupRows are the rows of stats, with the usage of the same keys.
func groupRows(stats []store.SpanStats, usage []store.UsageGroup, seconds float64) []groupRow {
	out := make([]groupRow, 0, len(stats))
	for _, s := range stats {
		g := newGroupRow(s, seconds)
		for _, us := range usage {
			if us.Keys[0] == g.Name {
				g.Tokens, g.Cost, g.HasUsage = us.InputTokens+us.OutputTokens, us.Cost, true
			}
		}
		out = append(out, g)
	}
	slices.SortStableFunc(out, func(a, b groupRow) int { return int(b.Spans) - int(a.Spans) })
	return out
}

// chartSeriesMax is how many operations or models a chart draws.
const chartSeriesMax = 8

func (u *UI) loadServiceCharts(r *http.Request, v *view, d *serviceData, tr timeRange) {
	step := tr.step(60)
	q := store.SpanStatsQuery{Tenant: v.Tenant, Start: tr.Start, End: tr.End, Step: step,
		GroupBy: []store.UsageDimension{store.UsageDimension(d.By)}, Filter: map[store.UsageDimension]string{"service": d.Name}, ModelCalls: d.By == "model"}
	var stats []store.SpanStats
	rs := u.reads(r)
	rs.do(&d.ChartsProblem, "The charts", func(ctx context.Context) (err error) {
		stats, err = u.opts.Store.SpanStats(ctx, q)
		return err
	})
	rs.wait()
	x := steps(tr, step)
	rate, errs, lat := newSeriesSet(len(x)), newSeriesSet(len(x)), newSeriesSet(len(x))
	for _, s := range stats {
		i := int(s.Bucket.Sub(tr.Start) / step)
		weight := float64(s.Spans)
		rate.set(s.Keys[0], i, float64(s.Spans)/step.Seconds(), weight)
		errs.set(s.Keys[0], i, percent(s.Errors, s.Spans), weight)
		lat.set(s.Keys[0], i, pick(s, d.Latency).Seconds()*1000, weight)
	}
	drill := v.Link("/traces", "service", d.Name, "from", "", "to", "")
	base := chart{X: x, Step: int64(step / time.Second), Drill: drill, By: d.By, Kind: "line"}
	for _, c := range []struct {
		id, title, unit string
		set             *seriesSet
	}{
		{"rate", "Requests per second by " + d.By, "req/s", rate},
		{"errors", "Errors by " + d.By, "%", errs},
		{"latency", "Duration " + d.Latency + " by " + d.By, "ms", lat},
	} {
		ch := base
		ch.ID, ch.Title, ch.Unit, ch.Series = c.id, c.title, c.unit, c.set.top(chartSeriesMax)
		d.Charts = append(d.Charts, ch)
	}
}

// pick is one of a span group's percentiles.
func pick(s store.SpanStats, p string) time.Duration {
	switch p {
	case "p50":
		return s.P50
	case "p90":
		return s.P90
	}
	return s.P99
}
