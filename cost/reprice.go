package cost

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
)

// PriceSegment is a stretch of time over which one price row prices a
// model for a tenant; Row is nil where no row does (an unpriced model).
type PriceSegment struct {
	Start, End time.Time
	Row        *ModelPrice
}

// Segments splits [start, end) where the row Lookup picks for the tenant
// and model changes, so repricing can give each span the row valid at its
// start without asking row by row. Lookup's answer only changes at some
// row's ValidFrom or ValidUntil, so the table's validity bounds are the
// only places to cut; neighbours with the same row are merged.
func (t *PriceTable) Segments(tenant, model string, start, end time.Time) []PriceSegment {
	if !end.After(start) {
		return nil
	}
	cuts := []time.Time{start, end}
	for _, r := range t.rows {
		for _, b := range []time.Time{r.ValidFrom, r.ValidUntil} {
			if !b.IsZero() && b.After(start) && b.Before(end) {
				cuts = append(cuts, b)
			}
		}
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].Before(cuts[j]) })
	var out []PriceSegment
	for i := 0; i+1 < len(cuts); i++ {
		from, to := cuts[i], cuts[i+1]
		if !to.After(from) {
			continue
		}
		row, _ := t.Lookup(tenant, model, from)
		if n := len(out); n > 0 && out[n-1].Row == row {
			out[n-1].End = to
			continue
		}
		out = append(out, PriceSegment{Start: from, End: to, Row: row})
	}
	return out
}

// Reprice prices the model spans q selects again from the table: each span
// gets the row valid at its start (Segments), spans whose caller supplied
// the cost keep it, and models without a row keep the cost they have
// (never priced at zero). With dryRun nothing is written and the report
// says what would change. Running it again changes nothing.
func Reprice(ctx context.Context, st store.SpanRepricer, prices *PriceTable, q store.RepriceQuery, dryRun bool) (*RepriceReport, error) {
	sums, err := st.SpanCosts(ctx, q)
	if err != nil {
		return nil, err
	}
	plan := PlanReprice(prices, q, sums)
	tallies, err := st.Reprice(ctx, plan.Rules, dryRun)
	if err != nil {
		return nil, err
	}
	return plan.Report(tallies, dryRun)
}

// RepricePlan is a repricing worked out from the stored spans' summaries:
// one rule per tenant, model and stretch of time with one price row, for
// the store to apply.
type RepricePlan struct {
	Query     store.RepriceQuery
	Summaries []store.SpanCostSummary
	Rules     []store.RepriceRule
	owner     []int // Rules[i] reprices the spans of Summaries[owner[i]]
}

// PlanReprice turns the price table into the rules that reprice the spans
// summarised by sums. Models whose spans were all priced by their caller
// or carry no tokens get no rules; a stretch no row prices gets a rule
// without tiers, which the store only counts.
func PlanReprice(prices *PriceTable, q store.RepriceQuery, sums []store.SpanCostSummary) *RepricePlan {
	p := &RepricePlan{Query: q, Summaries: sums}
	for i, m := range sums {
		if m.Spans == m.CallerPriced+m.NoTokens {
			continue // nothing priced from tokens
		}
		for _, seg := range prices.Segments(m.Tenant, m.Model, q.Start, q.End) {
			p.Rules = append(p.Rules, store.RepriceRule{Tenant: m.Tenant, Model: m.Model, Start: seg.Start, End: seg.End, Tiers: rateTiers(seg.Row)})
			p.owner = append(p.owner, i)
		}
	}
	return p
}

// rateTiers is a price row as the store applies it to a span's columns:
// spans carry input, cached and output counts (no cache writes or
// reasoning), so a cache read without its own price is charged at the
// input price, as the collector charges it at ingest. nil for no row.
func rateTiers(row *ModelPrice) []store.RateTier {
	if row == nil {
		return nil
	}
	out := make([]store.RateTier, len(row.Tiers))
	for i, t := range row.Tiers {
		cached := t.Prices.Input
		if t.Prices.CachedInput != nil {
			cached = *t.Prices.CachedInput
		}
		out[i].Rate = store.TokenRate{Input: t.Prices.Input, CachedInput: cached, Output: t.Prices.Output}
		for _, c := range t.Conditions {
			out[i].When = append(out[i].When, store.TokenCondition{Tokens: string(c.Usage), Op: string(c.Op), Value: c.Value})
		}
	}
	return out
}

// RepriceReport is what a repricing did (or, dry, would do), per tenant
// and model, with exact decimal totals.
type RepriceReport struct {
	From     time.Time      `json:"from"`
	To       time.Time      `json:"to"`
	Tenant   string         `json:"tenant,omitempty"`
	DryRun   bool           `json:"dry_run"`
	Models   []RepriceModel `json:"models"`
	Unpriced []UnknownModel `json:"unpriced_models"` // most spans first
	// Totals over every model.
	Repriced     uint64 `json:"spans_repriced"`
	CallerPriced uint64 `json:"spans_caller_priced"`
	UnpricedN    uint64 `json:"spans_unpriced"`
}

// RepriceModel is the repricing of one tenant's model.
type RepriceModel struct {
	Tenant       string `json:"tenant"`
	Model        string `json:"model"`
	Spans        uint64 `json:"spans"`
	Repriced     uint64 `json:"spans_repriced"`
	CallerPriced uint64 `json:"spans_caller_priced"` // left alone
	Unpriced     uint64 `json:"spans_unpriced"`      // left alone: no price row
	NoTokens     uint64 `json:"spans_without_tokens"`
	// Cost of every span of the model in the range, before and after.
	Before string `json:"cost_before"`
	After  string `json:"cost_after"`
}

// Report adds up the store's tallies, one per rule in order, into the
// report of the plan.
func (p *RepricePlan) Report(tallies []store.RepriceTally, dryRun bool) (*RepriceReport, error) {
	if len(tallies) != len(p.Rules) {
		return nil, fmt.Errorf("the store answered %d repricing tallies for %d rules", len(tallies), len(p.Rules))
	}
	rep := &RepriceReport{From: p.Query.Start, To: p.Query.End, Tenant: p.Query.Tenant, DryRun: dryRun, Unpriced: []UnknownModel{}}
	after := make([]decimal.Decimal, len(p.Summaries))
	models := make([]RepriceModel, len(p.Summaries))
	for i, m := range p.Summaries {
		after[i] = m.Cost
		models[i] = RepriceModel{Tenant: m.Tenant, Model: m.Model, Spans: m.Spans, CallerPriced: m.CallerPriced, NoTokens: m.NoTokens}
	}
	unpriced := map[string]uint64{}
	for i, t := range tallies {
		m := &models[p.owner[i]]
		if p.Rules[i].Tiers == nil {
			m.Unpriced += t.Spans
			if t.Spans > 0 {
				unpriced[m.Model] += t.Spans
			}
			continue
		}
		m.Repriced += t.Spans
		after[p.owner[i]] = after[p.owner[i]].Sub(t.Before).Add(t.After)
	}
	for i := range models {
		models[i].Before, models[i].After = p.Summaries[i].Cost.String(), after[i].String()
		rep.Repriced += models[i].Repriced
		rep.CallerPriced += models[i].CallerPriced
		rep.UnpricedN += models[i].Unpriced
	}
	rep.Models = models
	for m, n := range unpriced {
		rep.Unpriced = append(rep.Unpriced, UnknownModel{Model: m, Calls: n})
	}
	sort.Slice(rep.Unpriced, func(i, j int) bool {
		if rep.Unpriced[i].Calls != rep.Unpriced[j].Calls {
			return rep.Unpriced[i].Calls > rep.Unpriced[j].Calls
		}
		return rep.Unpriced[i].Model < rep.Unpriced[j].Model
	})
	return rep, nil
}

// WriteText writes the report for a terminal: a summary line, a table per
// tenant and model, and the unpriced models to add to a price file.
func (r *RepriceReport) WriteText(w io.Writer) error {
	scope := "every tenant"
	if r.Tenant != "" {
		scope = "tenant " + r.Tenant
	}
	verb := "repriced"
	if r.DryRun {
		verb = "would reprice (dry run, nothing written)"
	}
	fmt.Fprintf(w, "spans starting %s to %s, %s: %s %d spans; %d caller-priced left alone; %d of unpriced models left alone\n",
		r.From.Format(time.RFC3339), r.To.Format(time.RFC3339), scope, verb, r.Repriced, r.CallerPriced, r.UnpricedN)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tMODEL\tSPANS\tREPRICED\tCALLER-PRICED\tUNPRICED\tNO TOKENS\tCOST BEFORE\tCOST AFTER")
	for _, m := range r.Models {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", m.Tenant, m.Model, m.Spans, m.Repriced, m.CallerPriced, m.Unpriced, m.NoTokens, m.Before, m.After)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Unpriced) > 0 {
		parts := make([]string, len(r.Unpriced))
		for i, u := range r.Unpriced {
			parts[i] = fmt.Sprintf("%s (%d spans)", u.Model, u.Calls)
		}
		_, err := fmt.Fprintf(w, "unpriced models, costs left as they were (add them to a --price-file): %s\n", strings.Join(parts, ", "))
		return err
	}
	return nil
}
