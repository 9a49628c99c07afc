package ui

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/store"
)

// llmDims are what the LLM usage page groups model calls by. A call's
// team is the attribute the attribution names for bills' teams (team by
// default), on the span or else on its resource, where services usually
// set it.
var llmDims = []string{"model", "provider", "team", "deployment", "service", "operation", "model_version", "operation_type"}

// llmRow is one group of model calls.
type llmRow struct {
	Key                   string
	Calls, Errors         uint64
	ErrorPct              float64
	Input, Output, Cached int64
	Cost                  decimal.Decimal
	PerThousandCalls      decimal.Decimal
	PerMillionTokens      *decimal.Decimal
	HasLatency            bool
	P50, P90, P99         time.Duration
	Traces                string // the traces page of the group's calls
}

// priceRow is one row of the price table in force, per million tokens.
type priceRow struct {
	Model, Provider, Pattern, Tenant, Source string
	ValidFrom, ValidUntil                    time.Time
	Input, Output                            decimal.Decimal
	Cached                                   *decimal.Decimal
	Tiers                                    int
	Used                                     bool // prices a model called in the range
}

// pricing says how a model called in the range is priced.
type pricing struct {
	Model, Provider string
	Calls           uint64
	Cost            decimal.Decimal
	How             string // exact, pattern, none
	Row             string // the row that prices it
	Traces          string
}

type llmData struct {
	By           string
	Dims         []string
	Rows         []llmRow
	Total        llmRow
	Chart        *chart
	Prices       []priceRow
	Pricing      []pricing
	Fallback     int    // models priced by a pattern or not at all
	TeamKey      string // the attribute a call's team is, when grouped by team
	Problem      string
	StatsProblem string
}

var perMillion = decimal.NewFromInt(1_000_000)

// llmPage is LLM usage: calls, tokens, cost and latency by model,
// provider, deployment or service; the price table in force; and the
// models priced by a family's pattern or by nothing, whose spans'
// costs are the least certain.
func (u *UI) llmPage(w http.ResponseWriter, r *http.Request) {
	v := u.newView(w, r, "LLM usage", "llm")
	tr := v.timeRange(maxSpanRange)
	d := &llmData{By: cmp.Or(v.query.Get("by"), "model"), Dims: llmDims}
	v.Data = d
	if !slices.Contains(llmDims, d.By) {
		v.problem(&fieldError{"by", fmt.Sprintf("cannot group model calls by %q: pick one of %s", d.By, strings.Join(llmDims, ", "))}, http.StatusBadRequest)
	}
	if !v.OK() {
		u.render(w, r, "llm", v)
		return
	}
	by := store.UsageDimension(d.By)
	if d.By == "team" {
		d.TeamKey = u.attribution().Team
		var err error
		if by, err = store.AttributeDimension(d.TeamKey); err != nil {
			v.problem(&fieldError{"by", "cannot group model calls by team: the attribution's team key: " + err.Error()}, http.StatusBadRequest)
			u.render(w, r, "llm", v)
			return
		}
	}
	step := tr.step(60)
	var usage, byModel []store.UsageGroup
	var stats, series []store.SpanStats
	rs := u.reads(r)
	rs.do(&d.Problem, "The usage", func(ctx context.Context) (err error) {
		usage, err = u.opts.Store.Usage(ctx, store.UsageQuery{Tenant: v.Tenant, Start: tr.Start, End: tr.End, GroupBy: []store.UsageDimension{by}})
		return err
	})
	rs.do(&d.Problem, "The models' pricing", func(ctx context.Context) (err error) {
		byModel, err = u.opts.Store.Usage(ctx, store.UsageQuery{Tenant: v.Tenant, Start: tr.Start, End: tr.End, GroupBy: []store.UsageDimension{"model", "provider"}})
		return err
	})
	rs.do(&d.StatsProblem, "The latencies", func(ctx context.Context) (err error) {
		stats, err = u.opts.Store.SpanStats(ctx, store.SpanStatsQuery{Tenant: v.Tenant, Start: tr.Start, End: tr.End, GroupBy: []store.UsageDimension{by}, ModelCalls: true})
		return err
	})
	rs.do(&d.StatsProblem, "The calls over time", func(ctx context.Context) (err error) {
		// The chart is of rates: no percentiles.
		series, err = u.opts.Store.SpanStats(ctx, store.SpanStatsQuery{Tenant: v.Tenant, Start: tr.Start, End: tr.End, Step: step, GroupBy: []store.UsageDimension{by}, ModelCalls: true, CountsOnly: true})
		return err
	})
	rs.wait()
	lat := map[string]store.SpanStats{}
	for _, s := range stats {
		lat[s.Keys[0]] = s
	}
	traceParam := map[string]string{"model": "model", "service": "service", "operation": "operation"}[d.By]
	for _, g := range usage {
		row := llmRow{Key: g.Keys[0], Calls: g.Calls, Errors: g.Errors, Input: g.InputTokens, Output: g.OutputTokens, Cached: g.CachedTokens, Cost: g.Cost}
		fillUnits(&row)
		if s, ok := lat[row.Key]; ok {
			row.HasLatency, row.P50, row.P90, row.P99 = true, s.P50, s.P90, s.P99
		}
		switch {
		case row.Key == "":
		case traceParam != "":
			row.Traces = v.Link("/traces", traceParam, row.Key)
		case d.TeamKey != "":
			// The trace search matches a span's attribute or its resource's.
			row.Traces = v.Link("/traces", "attr", d.TeamKey+"="+row.Key)
		}
		d.Rows = append(d.Rows, row)
		t := &d.Total
		t.Calls, t.Errors, t.Input, t.Output, t.Cached, t.Cost = t.Calls+row.Calls, t.Errors+row.Errors, t.Input+row.Input, t.Output+row.Output, t.Cached+row.Cached, t.Cost.Add(row.Cost)
	}
	fillUnits(&d.Total)
	slices.SortStableFunc(d.Rows, func(a, b llmRow) int {
		return cmp.Or(b.Cost.Cmp(a.Cost), cmp.Compare(b.Calls, a.Calls), strings.Compare(a.Key, b.Key))
	})
	xs := steps(tr, step)
	set := newSeriesSet(len(xs))
	for _, s := range series {
		rate := float64(s.Spans) / step.Minutes()
		set.set(cmp.Or(s.Keys[0], "(none)"), int(s.Bucket.Sub(tr.Start)/step), rate, float64(s.Spans))
	}
	d.Chart = &chart{ID: "llm-calls", Title: "Model calls per minute, by " + d.By, Unit: "calls/min", Kind: "line", X: xs, Series: set.top(8), Step: int64(step / time.Second)}
	u.pricing(v, d, byModel)
	u.render(w, r, "llm", v)
}

// fillUnits computes a row's unit costs and error share.
func fillUnits(row *llmRow) {
	u := cost.Calls{Calls: row.Calls, Errors: row.Errors, InputTokens: row.Input, OutputTokens: row.Output, Cost: row.Cost}.PerUnit()
	row.PerThousandCalls, row.PerMillionTokens = u.PerThousandCalls, u.PerMillionTokens
	if row.Calls > 0 {
		row.ErrorPct = 100 * float64(row.Errors) / float64(row.Calls)
	}
}

// pricing lists the price table in force (the rows that price a model
// called in the range first) and how each called model is priced: by a
// row of its own, by a family's pattern, or not at all.
func (u *UI) pricing(v *view, d *llmData, byModel []store.UsageGroup) {
	table := u.opts.Prices
	if table == nil {
		table = cost.NewPriceTable()
		table.Add(cost.DefaultPrices()...)
	}
	used := map[*cost.ModelPrice]bool{}
	for _, g := range byModel {
		model, provider := g.Keys[0], g.Keys[1]
		if model == "" {
			continue
		}
		p := pricing{Model: model, Provider: provider, Calls: g.Calls, Cost: g.Cost, How: "none", Traces: v.Link("/traces", "model", model)}
		if row, ok := table.Lookup(v.Tenant, model, v.Now); ok {
			used[row] = true
			p.How, p.Row = "exact", row.Model
			if row.Pattern != nil {
				p.How, p.Row = "pattern", row.Model+" ("+row.Pattern.String()+")"
			}
		}
		if p.How != "exact" {
			d.Fallback++
		}
		d.Pricing = append(d.Pricing, p)
	}
	// The least certain first: unpriced, then by pattern; then by calls.
	rank := map[string]int{"none": 0, "pattern": 1, "exact": 2}
	slices.SortStableFunc(d.Pricing, func(a, b pricing) int {
		return cmp.Or(rank[a.How]-rank[b.How], cmp.Compare(b.Calls, a.Calls), strings.Compare(a.Model, b.Model))
	})
	for _, m := range table.Rows() {
		if m.Tenant != "" && m.Tenant != v.Tenant || len(m.Tiers) == 0 {
			continue
		}
		p := m.Tiers[0].Prices
		row := priceRow{Model: m.Model, Provider: m.Provider, Tenant: m.Tenant, Source: m.Source, ValidFrom: m.ValidFrom, ValidUntil: m.ValidUntil,
			Input: p.Input.Mul(perMillion), Output: p.Output.Mul(perMillion), Tiers: len(m.Tiers), Used: used[m]}
		if m.Pattern != nil {
			row.Pattern = m.Pattern.String()
		}
		if p.CachedInput != nil {
			c := p.CachedInput.Mul(perMillion)
			row.Cached = &c
		}
		d.Prices = append(d.Prices, row)
	}
	slices.SortStableFunc(d.Prices, func(a, b priceRow) int {
		return cmp.Or(boolRank(!a.Used)-boolRank(!b.Used), strings.Compare(a.Provider, b.Provider), strings.Compare(a.Model, b.Model))
	})
}
