package ui

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
)

// maxSpanRange bounds the range of the pages that read raw spans: exact
// percentiles hold a range's durations, and a week of a busy fleet is
// already a lot.
const maxSpanRange = 7 * 24 * time.Hour

// serviceRow is one service of the services table.
type serviceRow struct {
	Name             string
	Requests, Errors uint64
	Rate             float64 // requests per second
	ErrorPct         float64
	HasLatency       bool
	P50, P90, P99    time.Duration
	CostPerHour      decimal.Decimal
	TokensPerMinute  float64
	Spark            sparkline
	SparkMissing     bool
}

type servicesData struct {
	Rows         []serviceRow
	Sort         string
	StatsProblem string
	UsageProblem string
	SparkProblem string
	Filter       string
	Step         time.Duration
}

// serviceSorts are the columns the table sorts by, each with how.
var serviceSorts = map[string]func(a, b serviceRow) int{
	"name":   func(a, b serviceRow) int { return strings.Compare(a.Name, b.Name) },
	"rate":   func(a, b serviceRow) int { return cmpFloat(a.Rate, b.Rate) },
	"errors": func(a, b serviceRow) int { return cmpFloat(a.ErrorPct, b.ErrorPct) },
	"p50":    func(a, b serviceRow) int { return int(a.P50 - b.P50) },
	"p90":    func(a, b serviceRow) int { return int(a.P90 - b.P90) },
	"p99":    func(a, b serviceRow) int { return int(a.P99 - b.P99) },
	"cost":   func(a, b serviceRow) int { return a.CostPerHour.Cmp(b.CostPerHour) },
	"tokens": func(a, b serviceRow) int { return cmpFloat(a.TokensPerMinute, b.TokensPerMinute) },
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// services is the services page: every service with its request rate,
// errors, latency percentiles, cost per hour and tokens per minute, and a
// sparkline of its rate. Three reads in parallel: the requests, the model
// usage, and the rate per step.
func (u *UI) services(w http.ResponseWriter, r *http.Request) {
	v := u.newView(w, r, "Services", "services")
	tr := v.timeRange(maxSpanRange)
	d := &servicesData{Sort: v.query.Get("sort"), Filter: v.query.Get("q"), Step: tr.step(30)}
	if d.Sort == "" {
		d.Sort = "-rate"
	}
	if _, ok := serviceSorts[strings.TrimPrefix(d.Sort, "-")]; !ok {
		v.problem(&fieldError{"sort", "cannot sort by " + d.Sort + ": pick a column"}, http.StatusBadRequest)
	}
	v.Data = d
	if v.OK() {
		u.loadServices(r, v, d, tr)
	}
	u.render(w, r, "services", v)
}

func (u *UI) loadServices(r *http.Request, v *view, d *servicesData, tr timeRange) {
	q := store.SpanStatsQuery{Tenant: v.Tenant, Start: tr.Start, End: tr.End, GroupBy: []store.UsageDimension{"service"}, Entry: true}
	var stats, steps []store.SpanStats
	var usage []store.UsageGroup
	rs := u.reads(r)
	rs.do(&d.StatsProblem, "The services' requests and latencies", func(ctx context.Context) (err error) {
		stats, err = u.opts.Store.SpanStats(ctx, q)
		return err
	})
	rs.do(&d.UsageProblem, "The services' model usage", func(ctx context.Context) (err error) {
		usage, err = u.opts.Store.Usage(ctx, store.UsageQuery{Tenant: v.Tenant, Start: tr.Start, End: tr.End, GroupBy: []store.UsageDimension{"service"}})
		return err
	})
	rs.do(&d.SparkProblem, "The request rate sparklines", func(ctx context.Context) (err error) {
		sq := q
		sq.Step, sq.CountsOnly = d.Step, true // a sparkline is a rate
		steps, err = u.opts.Store.SpanStats(ctx, sq)
		return err
	})
	rs.wait()
	d.Rows = serviceRows(stats, usage, steps, tr, d.Step, d.SparkProblem != "")
	if d.Filter != "" {
		d.Rows = slices.DeleteFunc(d.Rows, func(s serviceRow) bool { return !strings.Contains(s.Name, d.Filter) })
	}
	sortRows(d.Rows, d.Sort, serviceSorts)
}

// serviceRows joins the three reads by service.
func serviceRows(stats []store.SpanStats, usage []store.UsageGroup, buckets []store.SpanStats, tr timeRange, step time.Duration, sparkFailed bool) []serviceRow {
	seconds := tr.End.Sub(tr.Start).Seconds()
	rows := map[string]*serviceRow{}
	row := func(name string) *serviceRow {
		if rows[name] == nil {
			rows[name] = &serviceRow{Name: name, SparkMissing: sparkFailed}
		}
		return rows[name]
	}
	for _, s := range stats {
		sr := row(s.Keys[0])
		sr.Requests, sr.Errors, sr.HasLatency = s.Spans, s.Errors, true
		sr.Rate, sr.ErrorPct = float64(s.Spans)/seconds, percent(s.Errors, s.Spans)
		sr.P50, sr.P90, sr.P99 = s.P50, s.P90, s.P99
	}
	for _, g := range usage {
		sr := row(g.Keys[0])
		sr.CostPerHour = g.Cost.Div(decimal.NewFromFloat(seconds / 3600))
		sr.TokensPerMinute = float64(g.InputTokens+g.OutputTokens) / (seconds / 60)
	}
	series := map[string][]float64{}
	n := len(steps(tr, step))
	for _, s := range buckets {
		if series[s.Keys[0]] == nil {
			series[s.Keys[0]] = make([]float64, n)
		}
		if i := int(s.Bucket.Sub(tr.Start) / step); i >= 0 && i < n {
			series[s.Keys[0]][i] = float64(s.Spans) / step.Seconds()
		}
	}
	var out []serviceRow
	for name, sr := range rows {
		sr.Spark = newSparkline(series[name])
		out = append(out, *sr)
	}
	return out
}

func percent(part, whole uint64) float64 {
	if whole == 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}

// sortRows sorts by a column, "-column" descending, ties by the order of
// the name column when it is one.
func sortRows[T any](rows []T, by string, sorts map[string]func(a, b T) int) {
	desc := strings.HasPrefix(by, "-")
	cmp := sorts[strings.TrimPrefix(by, "-")]
	name := sorts["name"]
	slices.SortStableFunc(rows, func(a, b T) int {
		c := cmp(a, b)
		if desc {
			c = -c
		}
		if c == 0 && name != nil {
			c = name(a, b)
		}
		return c
	})
}
