package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/vigil-dev/vigil/store"
)

var month = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

func costLine(tenant, id, provider, team, billed string, day int) store.CostLine {
	d := decimal.RequireFromString(billed)
	l := store.CostLine{
		Tenant: tenant, LineID: id, Source: "test",
		BillingAccountID: "acct-1", BillingAccountName: "Main", BillingCurrency: "USD",
		BillingPeriodStart: month, BillingPeriodEnd: month.AddDate(0, 1, 0),
		ChargePeriodStart: month.AddDate(0, 0, day), ChargePeriodEnd: month.AddDate(0, 0, day+1),
		ChargeCategory: "Usage", ChargeDescription: "GPU hours", ChargeFrequency: "Usage-Based",
		PricingCategory: "Standard",
		BilledCost:      d, EffectiveCost: d.Div(decimal.NewFromInt(2)), ListCost: d.Mul(decimal.NewFromInt(3)),
		ContractedCost: d, PricingQuantity: decimal.RequireFromString("1.5"), PricingUnit: "Hours",
		ConsumedQuantity: decimal.RequireFromString("5400"), ConsumedUnit: "Seconds",
		ProviderName: provider, PublisherName: provider, InvoiceIssuerName: provider,
		ServiceCategory: "AI and Machine Learning", ServiceName: "GPU VMs",
		RegionID: "eu-west-1", RegionName: "Ireland", AvailabilityZone: "eu-west-1a",
		ResourceID: "i-" + id, ResourceName: "node " + id, ResourceType: "VM",
		SkuID: "sku-1", SkuPriceID: "price-1", SubAccountID: "sub-1", SubAccountName: "ML",
		CommitmentDiscountID: "",
	}
	if id == "c" {
		// A line under a savings plan: the commitment discount columns, a
		// 15-place quantity and a tiny unit price are kept exactly, and a
		// null ContractedCost and ListUnitPrice stay null.
		l.CommitmentDiscountID, l.CommitmentDiscountCategory, l.CommitmentDiscountName = "sp-1", "Spend", "plan"
		l.CommitmentDiscountStatus, l.CommitmentDiscountType = "Used", "Savings Plan"
		l.ConsumedQuantity, l.ContractedUnitPrice = decimal.RequireFromString("0.000235520312345"), decimal.RequireFromString("0.0000004")
		l.ContractedCost, l.Nulls = decimal.Zero, []string{"ContractedCost", "ListUnitPrice"}
	}
	if team != "" {
		l.Tags = store.Attributes{{Key: "team", Value: team}, {Key: "env", Value: "prod"}}
	}
	return l
}

func testCostLines(t *testing.T, s store.Store) {
	c := ctx(t)
	lines := []store.CostLine{
		costLine("acme", "a", "AWS", "search", "0.1", 1),
		costLine("acme", "b", "AWS", "search", "0.2", 2),
		costLine("acme", "c", "AWS", "", "18.00663861840", 3),
		costLine("acme", "d", "Microsoft", "chat", "1.97651418586", 3),
		costLine("acme", "e", "Oracle", "chat", "0.000000000002", 20),
		costLine("globex", "a", "AWS", "search", "1000", 1),
	}
	if err := s.WriteCostLines(c, lines); err != nil {
		t.Fatalf("WriteCostLines: %v", err)
	}
	q := store.CostQuery{Tenant: "acme", Start: month, End: month.AddDate(0, 1, 0)}

	got, err := s.CostLines(c, q)
	if err != nil {
		t.Fatalf("CostLines: %v", err)
	}
	if len(got) != 5 {
		t.Fatalf("got %d lines, want 5", len(got))
	}
	for i, g := range got {
		w := lines[i]
		for _, m := range []struct {
			name string
			g, w decimal.Decimal
		}{{"BilledCost", g.BilledCost, w.BilledCost}, {"EffectiveCost", g.EffectiveCost, w.EffectiveCost}, {"ListCost", g.ListCost, w.ListCost}, {"ContractedCost", g.ContractedCost, w.ContractedCost},
			{"PricingQuantity", g.PricingQuantity, w.PricingQuantity}, {"ConsumedQuantity", g.ConsumedQuantity, w.ConsumedQuantity},
			{"ListUnitPrice", g.ListUnitPrice, w.ListUnitPrice}, {"ContractedUnitPrice", g.ContractedUnitPrice, w.ContractedUnitPrice}} {
			if !m.g.Equal(m.w) {
				t.Errorf("line %s %s = %s, want %s", w.LineID, m.name, m.g, m.w)
			}
		}
		g.BilledCost, g.EffectiveCost, g.ListCost, g.ContractedCost, g.PricingQuantity, g.ConsumedQuantity = w.BilledCost, w.EffectiveCost, w.ListCost, w.ContractedCost, w.PricingQuantity, w.ConsumedQuantity
		g.ListUnitPrice, g.ContractedUnitPrice = w.ListUnitPrice, w.ContractedUnitPrice
		if fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", w) {
			t.Errorf("line %d:\n got %+v\nwant %+v", i, g, w)
		}
	}

	totals := func(q store.CostQuery, by ...store.CostDimension) string {
		t.Helper()
		gs, err := s.CostTotals(c, q, by)
		if err != nil {
			t.Fatalf("CostTotals(%v): %v", by, err)
		}
		out := ""
		for _, g := range gs {
			out += fmt.Sprintf("%v %s billed=%s effective=%s list=%s n=%d; ", g.Keys, g.Currency, g.BilledCost.String(), g.EffectiveCost.String(), g.ListCost.String(), g.Lines)
		}
		return out
	}
	// Exact decimal sums: 0.1 + 0.2 is 0.3, and a 2e-12 line counts.
	check := func(name, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
	check("total", totals(q), "[] USD billed=20.283152804262 effective=10.141576402131 list=60.849458412786 n=5; ")
	check("by provider", totals(q, store.DimProvider),
		"[AWS] USD billed=18.3066386184 effective=9.1533193092 list=54.9199158552 n=3; "+
			"[Microsoft] USD billed=1.97651418586 effective=0.98825709293 list=5.92954255758 n=1; "+
			"[Oracle] USD billed=0.000000000002 effective=0.000000000001 list=0.000000000006 n=1; ")
	check("by tag", totals(q, store.CostDimension("tag:team"), store.DimProvider),
		"[ AWS] USD billed=18.0066386184 effective=9.0033193092 list=54.0199158552 n=1; "+
			"[chat Microsoft] USD billed=1.97651418586 effective=0.98825709293 list=5.92954255758 n=1; "+
			"[chat Oracle] USD billed=0.000000000002 effective=0.000000000001 list=0.000000000006 n=1; "+
			"[search AWS] USD billed=0.3 effective=0.15 list=0.9 n=2; ")
	fq := q
	fq.Filter = map[store.CostDimension]string{"tag:team": "chat"}
	check("filter by tag", totals(fq), "[] USD billed=1.976514185862 effective=0.988257092931 list=5.929542557586 n=2; ")
	rq := q
	rq.End = month.AddDate(0, 0, 3)
	check("time range", totals(rq), "[] USD billed=0.3 effective=0.15 list=0.9 n=2; ")
	// Daily buckets: lines a, b on days 1 and 2, c and d on day 3, e on day 20.
	sq := q
	sq.Step = 24 * time.Hour
	gs, err := s.CostTotals(c, sq, []store.CostDimension{store.DimProvider})
	if err != nil {
		t.Fatalf("CostTotals with a step: %v", err)
	}
	var series []string
	for _, g := range gs {
		series = append(series, fmt.Sprintf("%s %s %s", g.Bucket.Format("01-02"), g.Keys[0], g.BilledCost))
	}
	if got, want := fmt.Sprint(series), "[10-02 AWS 0.1 10-03 AWS 0.2 10-04 AWS 18.0066386184 10-04 Microsoft 1.97651418586 10-21 Oracle 0.000000000002]"; got != want {
		t.Errorf("daily series:\n got %s\nwant %s", got, want)
	}
	if _, err := s.CostTotals(c, q, []store.CostDimension{"colour"}); err == nil {
		t.Errorf("CostTotals by an unknown dimension did not fail")
	}
}

func testCostIdempotent(t *testing.T, s store.Store) {
	c := ctx(t)
	lines := []store.CostLine{
		costLine("acme", "a", "AWS", "search", "0.1", 1),
		costLine("acme", "b", "AWS", "search", "0.2", 2),
	}
	for i := 0; i < 2; i++ {
		if err := s.WriteCostLines(c, lines); err != nil {
			t.Fatal(err)
		}
	}
	// An overlapping export: b again with a corrected amount, and c.
	corrected := costLine("acme", "b", "AWS", "search", "0.25", 2)
	if err := s.WriteCostLines(c, []store.CostLine{corrected, costLine("acme", "c", "AWS", "search", "1", 3)}); err != nil {
		t.Fatal(err)
	}
	q := store.CostQuery{Tenant: "acme", Start: month, End: month.AddDate(0, 1, 0)}
	gs, err := s.CostTotals(c, q, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 1 || gs[0].BilledCost.String() != "1.35" || gs[0].Lines != 3 {
		t.Errorf("after re-import: %+v, want billed 1.35 over 3 lines", gs)
	}
	got, err := s.CostLines(c, q)
	if err != nil || len(got) != 3 {
		t.Fatalf("CostLines = %d lines, %v; want 3", len(got), err)
	}
}
