package ui

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/store"
)

type tracesData struct {
	Services    []string
	Operations  []string
	Models      []string
	Results     []store.TraceSummary
	Scatter     chart
	Sort        string
	Limit       int
	Problem     string // the search's read
	ListProblem string // the pickers' reads
}

// traceStatuses are the status filter's choices.
var traceStatuses = map[string]store.TraceStatus{"": store.AnyStatus, "error": store.OnlyErrors, "ok": store.NoErrors}

// traceSorts are the results table's columns.
var traceSorts = map[string]func(a, b store.TraceSummary) int{
	"start":    func(a, b store.TraceSummary) int { return cmpInt(a.StartUnixNano, b.StartUnixNano) },
	"duration": func(a, b store.TraceSummary) int { return cmpInt(a.DurationNano, b.DurationNano) },
	"spans":    func(a, b store.TraceSummary) int { return cmpInt(int64(a.Spans), int64(b.Spans)) },
	"errors":   func(a, b store.TraceSummary) int { return cmpInt(int64(a.Errors), int64(b.Errors)) },
	"cost":     func(a, b store.TraceSummary) int { return a.Cost.Cmp(b.Cost) },
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// maxTraceLimit bounds a search: the scatter plot stays readable.
const maxTraceLimit = 1000

// traces is the trace search: service, operation, model, attributes,
// duration and status in a form whose every field is a URL parameter;
// the results as a duration scatter plot and a table.
func (u *UI) traces(w http.ResponseWriter, r *http.Request) {
	v := u.newView(w, r, "Traces", "traces")
	tr := v.timeRange(maxSpanRange)
	d := &tracesData{Sort: v.query.Get("sort"), Limit: 100}
	v.Data = d
	q := v.traceSearch(tr, d)
	if _, ok := traceSorts[strings.TrimPrefix(d.Sort, "-")]; d.Sort != "" && !ok {
		v.problem(&fieldError{"sort", "cannot sort by " + d.Sort + ": pick a column"}, http.StatusBadRequest)
	}
	u.loadPickers(r, v, d, tr)
	if v.OK() {
		u.loadTraces(r, v, d, q)
	}
	u.render(w, r, "traces", v)
}

// traceSearch reads the search form's parameters, recording problems.
func (v *view) traceSearch(tr timeRange, d *tracesData) store.TraceSearch {
	q := store.TraceSearch{TraceQuery: store.TraceQuery{Tenant: v.Tenant, Service: v.query.Get("service"), Operation: v.query.Get("operation"),
		Start: tr.Start, End: tr.End, Tags: map[string]string{}}, Model: v.query.Get("model")}
	var ok bool
	if q.Status, ok = traceStatuses[v.query.Get("status")]; !ok {
		v.problem(&fieldError{"status", "status is error, ok, or empty for any"}, http.StatusBadRequest)
	}
	for _, p := range []struct {
		name string
		dst  *time.Duration
	}{{"min", &q.MinDuration}, {"max", &q.MaxDuration}} {
		if s := v.query.Get(p.name); s != "" {
			dur, err := time.ParseDuration(s)
			if err != nil || dur < 0 {
				v.problem(&fieldError{p.name, fmt.Sprintf("%q is not a duration such as 250ms or 2s", s)}, http.StatusBadRequest)
			}
			*p.dst = dur
		}
	}
	// Attributes are key=value, several in one field apart by spaces.
	for _, a := range strings.Fields(strings.Join(v.query["attr"], " ")) {
		k, val, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			v.problem(&fieldError{"attr", fmt.Sprintf("%q is not key=value, e.g. user.tier=pro", a)}, http.StatusBadRequest)
			continue
		}
		q.Tags[k] = val
	}
	if s := v.query.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxTraceLimit {
			v.problem(&fieldError{"limit", fmt.Sprintf("the limit is a number from 1 to %d", maxTraceLimit)}, http.StatusBadRequest)
		} else {
			d.Limit = n
		}
	}
	q.Limit = d.Limit
	return q
}

// loadPickers reads the choices of the form, in parallel: the services
// and the service's operations with spans in the range, the models seen
// in it. Reading them from the range, not from every span ever stored,
// keeps the page's cost to the range's spans (all of a store's spans
// took 0.9 s to list on ClickHouse at 10M). A service or operation not
// seen in the range is looked up in all the spans, as the service page
// does, to tell an unknown one (404 beside its control) from one quiet
// in the range.
func (u *UI) loadPickers(r *http.Request, v *view, d *tracesData, tr timeRange) {
	service, op := v.query.Get("service"), v.query.Get("operation")
	var services, ops []store.SpanStats
	var models []store.UsageGroup
	var servicesProblem, opsProblem, modelsProblem string
	seen := store.SpanStatsQuery{Tenant: v.Tenant, Start: tr.Start, End: tr.End, CountsOnly: true}
	rs := u.reads(r)
	rs.do(&servicesProblem, "The list of services", func(ctx context.Context) (err error) {
		q := seen
		q.GroupBy = []store.UsageDimension{"service"}
		services, err = u.opts.Store.SpanStats(ctx, q)
		return err
	})
	if service != "" {
		rs.do(&opsProblem, "The list of operations", func(ctx context.Context) (err error) {
			q := seen
			q.GroupBy, q.Filter = []store.UsageDimension{"operation"}, map[store.UsageDimension]string{"service": service}
			ops, err = u.opts.Store.SpanStats(ctx, q)
			return err
		})
	}
	rs.do(&modelsProblem, "The models", func(ctx context.Context) (err error) {
		models, err = u.opts.Store.Usage(ctx, store.UsageQuery{Tenant: v.Tenant, Start: tr.Start, End: tr.End, GroupBy: []store.UsageDimension{"model"}})
		return err
	})
	rs.wait()
	for _, s := range services {
		d.Services = append(d.Services, s.Keys[0])
	}
	for _, o := range ops {
		d.Operations = append(d.Operations, o.Keys[0])
	}
	for _, m := range models {
		d.Models = append(d.Models, m.Keys[0])
	}
	d.ListProblem = strings.TrimSpace(servicesProblem + " " + opsProblem + " " + modelsProblem)
	if servicesProblem != "" || opsProblem != "" {
		return // whether the service and operation exist is not known
	}
	ctx, cancel := context.WithTimeout(r.Context(), u.opts.PanelTimeout)
	defer cancel()
	if service != "" && !slices.Contains(d.Services, service) {
		all, err := u.opts.Store.Services(ctx, v.Tenant)
		switch {
		case err != nil:
			return
		case !slices.Contains(all, service):
			v.problem(&fieldError{"service", fmt.Sprintf("There is no service named %q.", service)}, http.StatusNotFound)
			return
		}
		d.Services = append(d.Services, service) // quiet in the range: still the one searched
		slices.Sort(d.Services)
	}
	if op != "" && service != "" && !slices.Contains(d.Operations, op) {
		all, err := u.opts.Store.Operations(ctx, v.Tenant, service)
		if err != nil {
			return
		}
		if !slices.ContainsFunc(all, func(o store.Operation) bool { return o.Name == op }) {
			v.problem(&fieldError{"operation", fmt.Sprintf("%s has no operation named %q.", service, op)}, http.StatusNotFound)
			return
		}
		d.Operations = append(d.Operations, op)
		slices.Sort(d.Operations)
	}
}

func (u *UI) loadTraces(r *http.Request, v *view, d *tracesData, q store.TraceSearch) {
	rs := u.reads(r)
	rs.do(&d.Problem, "The search", func(ctx context.Context) (err error) {
		d.Results, err = u.opts.Store.TraceSummaries(ctx, q)
		return err
	})
	rs.wait()
	if d.Sort != "" {
		sortRows(d.Results, d.Sort, traceSorts)
	}
	d.Scatter = scatter(v, d.Results)
}

// scatter plots the results: start against duration, failed ones apart,
// each point a link to its trace.
func scatter(v *view, results []store.TraceSummary) chart {
	c := chart{ID: "scatter", Title: "Trace duration over time", Unit: "ms", Kind: "scatter"}
	s := chartSeries{Label: "traces"}
	// uPlot draws points along an ascending x axis.
	results = slices.Clone(results)
	slices.SortStableFunc(results, func(a, b store.TraceSummary) int { return cmpInt(a.StartUnixNano, b.StartUnixNano) })
	for _, t := range results {
		ms := float64(t.DurationNano) / 1e6
		c.X = append(c.X, float64(t.StartUnixNano)/1e9)
		s.Values = append(s.Values, &ms)
		s.Bad = append(s.Bad, t.Errors > 0)
		c.Links = append(c.Links, v.Link("/traces/"+t.TraceID.String()))
	}
	c.Series = []chartSeries{s}
	return c
}
