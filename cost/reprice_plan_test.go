package cost

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
)

// fakeRepricer answers SpanCosts from sums and Reprice with a tally per
// rule from tally, recording the rules it was given.
type fakeRepricer struct {
	sums   []store.SpanCostSummary
	tally  func(r store.RepriceRule) store.RepriceTally
	rules  []store.RepriceRule
	dryRun bool
}

func (f *fakeRepricer) SpanCosts(context.Context, store.RepriceQuery) ([]store.SpanCostSummary, error) {
	return f.sums, nil
}

func (f *fakeRepricer) Reprice(_ context.Context, rules []store.RepriceRule, dryRun bool) ([]store.RepriceTally, error) {
	f.rules, f.dryRun = rules, dryRun
	out := make([]store.RepriceTally, len(rules))
	for i, r := range rules {
		out[i] = f.tally(r)
	}
	return out, nil
}

func repriceTable(t *testing.T) *PriceTable {
	t.Helper()
	table := NewPriceTable()
	if err := table.Add(DefaultPrices()...); err != nil {
		t.Fatal(err)
	}
	rows, err := ParsePrices("new.yaml", []byte(`prices:
  - model: gpt-4o
    valid_from: 2026-06-01
    input: 5.00
    output: 20.00
    tiers:
      - when: {input_gt: 200000}
        input: 10.00
        output: 40.00
`), "auto")
	if err != nil {
		t.Fatal(err)
	}
	if err := table.Add(rows...); err != nil {
		t.Fatal(err)
	}
	return table
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestPlanReprice(t *testing.T) {
	q := store.RepriceQuery{Start: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)}
	sums := []store.SpanCostSummary{
		{Tenant: "acme", Model: "gpt-4o", Spans: 5, CallerPriced: 1, NoTokens: 1, Cost: dec("1.5")},
		{Tenant: "acme", Model: "house-llm", Spans: 2, Cost: dec("0")},
		{Tenant: "acme", Model: "gpt-4o-mini", Spans: 3, CallerPriced: 2, NoTokens: 1, Cost: dec("0.3")}, // nothing from tokens
	}
	plan := PlanReprice(repriceTable(t), q, sums)
	var b strings.Builder
	for _, r := range plan.Rules {
		fmt.Fprintf(&b, "%s/%s %s..%s", r.Tenant, r.Model, r.Start.Format(time.DateOnly), r.End.Format(time.DateOnly))
		for _, tier := range r.Tiers {
			fmt.Fprintf(&b, " [%v in=%s cached=%s out=%s]", tier.When, tier.Rate.Input.Shift(6), tier.Rate.CachedInput.Shift(6), tier.Rate.Output.Shift(6))
		}
		b.WriteString("; ")
	}
	// The built-in row (with its own cache price) until June, then the new
	// one, whose cache reads are charged at its input price; house-llm has
	// no row (a rule without tiers); gpt-4o-mini gets no rule.
	want := "acme/gpt-4o 2026-05-01..2026-06-01 [[] in=2.5 cached=1.25 out=10]; " +
		"acme/gpt-4o 2026-06-01..2026-07-01 [[] in=5 cached=5 out=20] [[{input gt 200000}] in=10 cached=10 out=40]; " +
		"acme/house-llm 2026-05-01..2026-07-01; "
	if got := b.String(); got != want {
		t.Errorf("rules:\n got %s\nwant %s", got, want)
	}
	if len(plan.Rules) > 2 && plan.Rules[2].Tiers != nil {
		t.Errorf("an unpriced model's rule has tiers: %+v", plan.Rules[2])
	}
}

func TestRepriceReport(t *testing.T) {
	q := store.RepriceQuery{Tenant: "acme", Start: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)}
	st := &fakeRepricer{
		sums: []store.SpanCostSummary{
			{Tenant: "acme", Model: "gpt-4o", Spans: 5, CallerPriced: 1, NoTokens: 1, Cost: dec("1.5")},
			{Tenant: "acme", Model: "house-llm", Spans: 2, Cost: dec("0")},
			{Tenant: "acme", Model: "zeta-llm", Spans: 2, Cost: dec("0")},
		},
		// Each priced stretch holds 1.5 spans' worth: May's spans cost 0.5
		// and now 0.25; June's 0.5 and now 1. Unpriced rules count 2 spans
		// and keep their cost.
		tally: func(r store.RepriceRule) store.RepriceTally {
			switch {
			case r.Tiers == nil:
				return store.RepriceTally{Spans: 2, Before: dec("0"), After: dec("0")}
			case r.Start.Month() == time.May:
				return store.RepriceTally{Spans: 1, Before: dec("0.5"), After: dec("0.25")}
			}
			return store.RepriceTally{Spans: 2, Before: dec("0.5"), After: dec("1")}
		},
	}
	rep, err := Reprice(context.Background(), st, repriceTable(t), q, true)
	if err != nil {
		t.Fatal(err)
	}
	if !st.dryRun || len(st.rules) != 4 {
		t.Fatalf("store asked with dryRun=%v and %d rules", st.dryRun, len(st.rules))
	}
	var b strings.Builder
	for _, m := range rep.Models {
		fmt.Fprintf(&b, "%s/%s spans=%d repriced=%d caller=%d unpriced=%d notokens=%d %s->%s; ", m.Tenant, m.Model, m.Spans, m.Repriced, m.CallerPriced, m.Unpriced, m.NoTokens, m.Before, m.After)
	}
	// gpt-4o: 1.5 - 0.5 + 0.25 - 0.5 + 1.
	want := "acme/gpt-4o spans=5 repriced=3 caller=1 unpriced=0 notokens=1 1.5->1.75; " +
		"acme/house-llm spans=2 repriced=0 caller=0 unpriced=2 notokens=0 0->0; " +
		"acme/zeta-llm spans=2 repriced=0 caller=0 unpriced=2 notokens=0 0->0; "
	if got := b.String(); got != want {
		t.Errorf("models:\n got %s\nwant %s", got, want)
	}
	if fmt.Sprint(rep.Unpriced) != "[{house-llm 2} {zeta-llm 2}]" || rep.Repriced != 3 || rep.CallerPriced != 1 || rep.UnpricedN != 4 {
		t.Errorf("totals: unpriced %v, repriced %d, caller %d, unpriced spans %d", rep.Unpriced, rep.Repriced, rep.CallerPriced, rep.UnpricedN)
	}

	var out bytes.Buffer
	if err := rep.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"spans starting 2026-05-01T00:00:00Z to 2026-07-01T00:00:00Z, tenant acme: would reprice (dry run, nothing written) 3 spans; 1 caller-priced left alone; 4 of unpriced models left alone\n",
		"TENANT  MODEL      SPANS  REPRICED  CALLER-PRICED  UNPRICED  NO TOKENS  COST BEFORE  COST AFTER\n",
		"acme    gpt-4o     5      3         1              0         1          1.5          1.75\n",
		"unpriced models, costs left as they were (add them to a --price-file): house-llm (2 spans), zeta-llm (2 spans)\n",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("text report lacks %q:\n%s", line, out.String())
		}
	}

	// A store answering the wrong number of tallies is an error, not a
	// report with models mixed up.
	plan := PlanReprice(repriceTable(t), q, st.sums)
	if _, err := plan.Report(make([]store.RepriceTally, len(plan.Rules)-1), false); err == nil {
		t.Error("a missing tally was not noticed")
	}
}
