package api

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/tenant"
)

// exportFOCUS streams GET /api/v1/cost/export?format=focus&version=&from=&to=
// as a FOCUS CSV of the version asked for (the newest by default): the imported billing lines as they are, then the model
// calls Vigil priced at ingest, one line per UTC day, service, model and
// provider, attributed through Tags (service, model, deployment) — the FOCUS
// export of attributed cost that OpenCost users ask for.
func (a *API) exportFOCUS(w http.ResponseWriter, r *http.Request) {
	fail := func(code int, err error) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
	}
	org, err := tenant.FromHTTP(r)
	if err != nil {
		fail(http.StatusBadRequest, err)
		return
	}
	q := r.URL.Query()
	if f := q.Get("format"); f != "" && f != "focus" {
		fail(http.StatusBadRequest, fmt.Errorf("format %q: only focus is supported", f))
		return
	}
	layout, err := focusLayoutOf(q.Get("version"))
	if err != nil {
		fail(http.StatusBadRequest, err)
		return
	}
	from, to, err := timeRange(q)
	if err != nil {
		fail(http.StatusBadRequest, err)
		return
	}
	if to.Sub(from) > 366*24*time.Hour {
		fail(http.StatusBadRequest, fmt.Errorf("export at most 366 days at once"))
		return
	}
	lines, err := a.Store.CostLines(r.Context(), store.CostQuery{Tenant: org, Start: from, End: to})
	if err != nil {
		fail(http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="vigil-focus-%s-%s.csv"`, from.Format(time.DateOnly), to.Format(time.DateOnly)))
	cw := csv.NewWriter(w)
	cw.Write(layout.header())
	for i := range lines {
		cw.Write(layout.row(&lines[i]))
	}
	// Model calls, a day at a time.
	for day := from.Truncate(24 * time.Hour); day.Before(to); day = day.AddDate(0, 0, 1) {
		start, end := maxTime(day, from), minTime(day.AddDate(0, 0, 1), to)
		groups, err := a.Store.Usage(r.Context(), store.UsageQuery{Tenant: org, Start: start, End: end,
			GroupBy: []store.UsageDimension{"service", "model", "provider", "deployment"}})
		if err != nil {
			// Headers are sent: end the CSV on a line that says why.
			cw.Write([]string{"# export stopped: " + err.Error()})
			break
		}
		for _, g := range groups {
			cw.Write(layout.row(callsLine(start, end, g)))
		}
	}
	cw.Flush()
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// callsLine is a day of one service's calls to one model as a cost line.
func callsLine(start, end time.Time, g store.UsageGroup) *store.CostLine {
	service, model, provider, deployment := g.Keys[0], g.Keys[1], g.Keys[2], g.Keys[3]
	if provider == "" {
		provider = "self-hosted"
	}
	month := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC)
	tokens := decimal.NewFromInt(g.InputTokens + g.OutputTokens)
	l := &store.CostLine{
		BillingCurrency: "USD", BillingPeriodStart: month, BillingPeriodEnd: month.AddDate(0, 1, 0),
		ChargePeriodStart: start, ChargePeriodEnd: end, ChargeCategory: "Usage", ChargeFrequency: "Usage-Based",
		ChargeDescription: fmt.Sprintf("%d calls to %s from %s, priced by Vigil at ingest", g.Calls, model, service),
		BilledCost:        g.Cost, EffectiveCost: g.Cost, ListCost: g.Cost, ContractedCost: g.Cost,
		ConsumedQuantity: tokens, ConsumedUnit: "Tokens", PricingQuantity: tokens, PricingUnit: "Tokens", PricingCategory: "Standard",
		ProviderName: provider, PublisherName: provider, InvoiceIssuerName: provider,
		ServiceCategory: "AI and Machine Learning", ServiceName: model, SkuID: model,
		ResourceName: service, ResourceType: "LLM calls",
		Tags: store.Attributes{{Key: "service", Value: service}, {Key: "model", Value: model}, {Key: "x_source", Value: "vigil-spans"}},
		// A day of calls to a model mixes input and output tokens: no one
		// unit price.
		Nulls: []string{"ListUnitPrice", "ContractedUnitPrice"},
	}
	if deployment != "" {
		l.Tags = append(l.Tags, store.KeyValue{Key: "deployment", Value: deployment})
	}
	return l
}
