package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
)

// testReprice rewrites span costs with two price rows for one model (the
// first with a long-context tier), an unpriced model, caller-priced spans
// that must be left alone, and spans outside the rules; then runs again
// to show a second run changes nothing. Expected costs are worked by hand
// in the comments: tokens × per-token price, exact.
func testReprice(t *testing.T, s store.Store) {
	c := ctx(t)
	type spec struct {
		id            int
		tenant, model string
		at            time.Duration // after base
		in, out, hit  int64
		cost          string
		attr, res     string // gen_ai.usage.cost on the span and on its resource; "-" for none
	}
	specs := []spec{
		{1, "acme", "gpt-4o", time.Minute, 1000, 500, 200, "0.0075", "-", "-"},            // rule 1: 800×0.0000025 + 200×0.00000125 + 500×0.00001 = 0.00725
		{2, "acme", "gpt-4o", 2 * time.Minute, 300000, 1000, 0, "0", "-", "-"},            // rule 1, long-context tier: 300000×0.000005 + 1000×0.000015 = 1.515
		{3, "acme", "gpt-4o", 3 * time.Minute, 100, 10, 300, "0.000001", "n/a", "-"},      // not a number: priced at ingest, repriced: 300×0.00000125 + 10×0.00001 = 0.000475
		{4, "acme", "gpt-4o", 4 * time.Minute, 1000, 500, 0, "0.5", "0.5", "-"},           // caller-priced: left alone
		{5, "acme", "gpt-4o", 5 * time.Minute, 1000, 500, 0, "0.25", "", "0.25"},          // caller-priced through the resource: left alone
		{6, "acme", "gpt-4o", 6 * time.Minute, 0, 0, 0, "0", "-", "-"},                    // no tokens: not priced
		{7, "acme", "gpt-4o", 40 * time.Minute, 2000, 100, 0, "0.0155", "-", "-"},         // rule 2: 2000×0.000003 + 100×0.000012 = 0.0072
		{8, "acme", "gpt-4o", 41 * time.Minute, 1000, 500, 0, "0.001", "-", "1e-3"},       // caller-priced: left alone
		{9, "acme", "gpt-4o", 42 * time.Minute, 7, 3, 0, "0", "-", "-"},                   // rule 2: 7×0.000003 + 3×0.000012 = 0.000057
		{10, "acme", "mystery", 10 * time.Minute, 10, 10, 0, "0.123", "-", "-"},           // unpriced: counted, left alone
		{11, "acme", "gpt-4o", -time.Minute, 1000, 500, 0, "0.9", "-", "-"},               // before the range
		{12, "globex", "gpt-4o", time.Minute, 1000, 500, 0, "0.0075", "-", "-"},           // another tenant, no rule
		{13, "acme", "", 7 * time.Minute, 0, 0, 0, "0", "-", "-"},                         // not a model call
		{14, "acme", "gpt-4o", 30*time.Minute - time.Nanosecond, 10, 0, 0, "0", "-", "-"}, // rule 1's last instant: 10×0.0000025 = 0.000025
	}
	var spans []store.Span
	for _, sp := range specs {
		x := chatSpan(sp.tenant, 7, sp.id, -1, base.Add(sp.at), time.Second)
		x.StartUnixNano = base.Add(sp.at).UnixNano()
		x.Model, x.InputTokens, x.OutputTokens, x.CachedTokens = sp.model, sp.in, sp.out, sp.hit
		x.Cost = decimal.RequireFromString(sp.cost)
		if sp.attr != "-" {
			x.Attributes = append(x.Attributes, store.KeyValue{Key: store.CallerCostAttribute, Value: sp.attr})
		}
		if sp.res != "-" {
			x.Resource = append(x.Resource, store.KeyValue{Key: store.CallerCostAttribute, Value: sp.res})
		}
		spans = append(spans, x)
	}
	if err := s.WriteSpans(c, spans); err != nil {
		t.Fatal(err)
	}
	d := decimal.RequireFromString
	rate1 := store.TokenRate{Input: d("0.0000025"), CachedInput: d("0.00000125"), Output: d("0.00001")}
	long := store.TokenRate{Input: d("0.000005"), CachedInput: d("0.0000025"), Output: d("0.000015")}
	rate2 := store.TokenRate{Input: d("0.000003"), CachedInput: d("0.000001"), Output: d("0.000012")}
	half := base.Add(30 * time.Minute)
	rules := []store.RepriceRule{
		{Tenant: "acme", Model: "gpt-4o", Start: base, End: half, Tiers: []store.RateTier{
			{Rate: rate1},
			{When: []store.TokenCondition{{Tokens: "input", Op: "gt", Value: 200000}}, Rate: long},
		}},
		{Tenant: "acme", Model: "gpt-4o", Start: half, End: base.Add(time.Hour), Tiers: []store.RateTier{{Rate: rate2}}},
		{Tenant: "acme", Model: "mystery", Start: base, End: base.Add(time.Hour)},
	}
	rp, ok := s.(store.SpanRepricer)
	if !ok {
		t.Fatal("the store does not implement store.SpanRepricer")
	}
	renderSummary := func() string {
		sums, err := rp.SpanCosts(c, store.RepriceQuery{Start: base, End: base.Add(time.Hour)})
		if err != nil {
			t.Fatalf("SpanCosts: %v", err)
		}
		var b strings.Builder
		for _, m := range sums {
			fmt.Fprintf(&b, "%s/%s spans=%d caller=%d notokens=%d cost=%s; ", m.Tenant, m.Model, m.Spans, m.CallerPriced, m.NoTokens, m.Cost)
		}
		return b.String()
	}
	renderTallies := func(dryRun bool) string {
		ts, err := rp.Reprice(c, rules, dryRun)
		if err != nil {
			t.Fatalf("Reprice: %v", err)
		}
		var b strings.Builder
		for _, x := range ts {
			fmt.Fprintf(&b, "spans=%d before=%s after=%s; ", x.Spans, x.Before, x.After)
		}
		return b.String()
	}
	costs := func() map[int]string {
		tr, err := s.Trace(c, "acme", traceID(7))
		if err != nil {
			t.Fatal(err)
		}
		out := map[int]string{}
		for _, sp := range tr {
			out[int(sp.SpanID[6])<<8|int(sp.SpanID[7])] = sp.Cost.String()
		}
		return out
	}

	// Spans 1-9 and 14 are acme's gpt-4o in range: 0.0075+0.000001+0.5+0.25+0.0155+0.001 = 0.774001.
	wantBefore := "acme/gpt-4o spans=10 caller=3 notokens=1 cost=0.774001; acme/mystery spans=1 caller=0 notokens=0 cost=0.123; globex/gpt-4o spans=1 caller=0 notokens=0 cost=0.0075; "
	if got := renderSummary(); got != wantBefore {
		t.Errorf("summary before:\n got %s\nwant %s", got, wantBefore)
	}
	// Rule 1: spans 1, 2, 3, 14: 0.00725 + 1.515 + 0.000475 + 0.000025 = 1.52275.
	// Rule 2: spans 7, 9: 0.0072 + 0.000057 = 0.007257.
	wantTallies := "spans=4 before=0.007501 after=1.52275; spans=2 before=0.0155 after=0.007257; spans=1 before=0.123 after=0.123; "
	if got := renderTallies(true); got != wantTallies {
		t.Errorf("dry run:\n got %s\nwant %s", got, wantTallies)
	}
	if got := renderSummary(); got != wantBefore {
		t.Errorf("a dry run changed costs:\n got %s\nwant %s", got, wantBefore)
	}
	if got := renderTallies(false); got != wantTallies {
		t.Errorf("reprice:\n got %s\nwant %s", got, wantTallies)
	}
	wantCosts := map[int]string{1: "0.00725", 2: "1.515", 3: "0.000475", 4: "0.5", 5: "0.25", 6: "0", 7: "0.0072", 8: "0.001",
		9: "0.000057", 10: "0.123", 11: "0.9", 13: "0", 14: "0.000025"}
	if got := costs(); fmt.Sprint(got) != fmt.Sprint(wantCosts) {
		t.Errorf("span costs after repricing:\n got %v\nwant %v", got, wantCosts)
	}
	// 0.5 + 0.25 + 0.001 (caller) + 1.52275 + 0.007257 (repriced) = 2.281007.
	wantAfter := "acme/gpt-4o spans=10 caller=3 notokens=1 cost=2.281007; acme/mystery spans=1 caller=0 notokens=0 cost=0.123; globex/gpt-4o spans=1 caller=0 notokens=0 cost=0.0075; "
	if got := renderSummary(); got != wantAfter {
		t.Errorf("summary after:\n got %s\nwant %s", got, wantAfter)
	}
	// The usage readers see the new costs.
	u, err := s.Usage(c, store.UsageQuery{Tenant: "acme", Start: base, End: base.Add(time.Hour), GroupBy: []store.UsageDimension{"model"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(u) != 2 || u[0].Keys[0] != "gpt-4o" || u[0].Cost.String() != "2.281007" {
		t.Errorf("usage after repricing: %+v", u)
	}
	// A second run finds every cost already right.
	again := "spans=4 before=1.52275 after=1.52275; spans=2 before=0.007257 after=0.007257; spans=1 before=0.123 after=0.123; "
	if got := renderTallies(false); got != again {
		t.Errorf("second run:\n got %s\nwant %s", got, again)
	}
	if got := costs(); fmt.Sprint(got) != fmt.Sprint(wantCosts) {
		t.Errorf("span costs after a second run:\n got %v\nwant %v", got, wantCosts)
	}

	// One tenant only.
	sums, err := rp.SpanCosts(c, store.RepriceQuery{Tenant: "globex", Start: base, End: base.Add(time.Hour)})
	if err != nil || len(sums) != 1 || sums[0].Tenant != "globex" {
		t.Errorf("globex summary: %+v %v", sums, err)
	}
	// A price the store cannot multiply exactly is refused, naming it.
	bad := []store.RepriceRule{{Tenant: "acme", Model: "gpt-4o", Start: base, End: half,
		Tiers: []store.RateTier{{Rate: store.TokenRate{Input: d("0.0000000000001"), CachedInput: d("0"), Output: d("0")}}}}}
	if _, err := rp.Reprice(c, bad, true); err == nil || !strings.Contains(err.Error(), "0.0000000000001") {
		t.Errorf("a price with 13 decimal places: %v", err)
	}
}

// BenchmarkReprice writes n model spans over a day (two models, tenth
// caller-priced) and reprices them all each iteration, alternating
// between two price tables so every run rewrites every cost; it reports
// spans repriced per second.
func BenchmarkReprice(b *testing.B, s store.Store, n int) {
	c := context.Background()
	const batch = 10000
	spans := make([]store.Span, 0, batch)
	for i := 0; i < n; i++ {
		sp := chatSpan("acme", i/8, i, -1, base.Add(time.Duration(i)*24*time.Hour/time.Duration(n)), time.Second)
		sp.Events, sp.Links = nil, nil
		if i%2 == 1 {
			sp.Model = "gpt-4o-mini"
		}
		sp.InputTokens, sp.OutputTokens, sp.CachedTokens = int64(100+i%5000), int64(10+i%700), int64(i%100)
		if i%10 == 0 {
			sp.Attributes = append(sp.Attributes, store.KeyValue{Key: store.CallerCostAttribute, Value: "0.01"})
		}
		spans = append(spans, sp)
		if len(spans) == batch || i == n-1 {
			if err := s.WriteSpans(c, spans); err != nil {
				b.Fatal(err)
			}
			spans = spans[:0]
		}
	}
	d := decimal.RequireFromString
	tables := [2][]store.RepriceRule{}
	for k, scale := range []string{"1", "2"} {
		m := d(scale)
		for _, model := range []string{"gpt-4o", "gpt-4o-mini"} {
			tables[k] = append(tables[k], store.RepriceRule{Tenant: "acme", Model: model, Start: base, End: base.Add(24 * time.Hour),
				Tiers: []store.RateTier{{Rate: store.TokenRate{Input: d("0.0000025").Mul(m), CachedInput: d("0.00000125").Mul(m), Output: d("0.00001").Mul(m)}}}})
		}
	}
	rp := s.(store.SpanRepricer)
	b.ResetTimer()
	var repriced uint64
	for i := 0; i < b.N; i++ {
		ts, err := rp.Reprice(c, tables[i%2], false)
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range ts {
			repriced += t.Spans
		}
	}
	b.ReportMetric(float64(repriced)/b.Elapsed().Seconds(), "spans/s")
}
