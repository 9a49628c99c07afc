package dashboards

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// costDashboard is what model calls cost: spend by service, model and
// team, and unit costs, from the cost Vigil prices each span at; and,
// when the config directory has budgets, each budget's spend against its
// limit.
func costDashboard(teams map[string][]string, budgets bool) spec {
	base := matchers{re("service", "service"), re("model", "model")}
	calls := base.and(`model!=""`)
	perHour := func(by string) string { return sumRate(by, costMetric, base, rateInterval) + " * 3600" }
	spend := []panel{
		{kind: statPanel, title: "Spend in range", unit: "currencyUSD", width: 6, targets: []target{{expr: fmt.Sprintf("sum(increase(%s%s[$__range]))", costMetric, base), instant: true}}},
		{kind: statPanel, title: "Spend per hour", unit: "currencyUSD", width: 6, targets: []target{{expr: perHour(""), instant: true}}},
		{kind: statPanel, title: "Cost per 1M tokens", unit: "currencyUSD", width: 6, description: "Input and output tokens.",
			targets: []target{{expr: fmt.Sprintf("%s / %s * 1e6", sumRate("", costMetric, base, rateInterval), sumRate("", tokensMetric, base.and(`type=~"input|output"`), rateInterval)), instant: true}}},
		{kind: statPanel, title: "Cost per 1k model calls", unit: "currencyUSD", width: 6,
			targets: []target{{expr: fmt.Sprintf("%s / %s * 1e3", sumRate("", costMetric, base, rateInterval), sumRate("", callsMetric, calls, rateInterval)), instant: true}}},
		{title: "Spend per hour by service", unit: "currencyUSD", stacked: true, targets: []target{{expr: perHour("service"), legend: legend("service")}}},
		{title: "Spend per hour by model", unit: "currencyUSD", stacked: true, targets: []target{{expr: perHour("model"), legend: legend("model")}}},
		{kind: statPanel, title: "Spend in range by service", unit: "currencyUSD", width: 12,
			targets: []target{{expr: fmt.Sprintf("sort_desc(sum by (service) (increase(%s%s[$__range])))", costMetric, base), legend: legend("service"), instant: true}}},
		{kind: statPanel, title: "Spend in range by model", unit: "currencyUSD", width: 12,
			targets: []target{{expr: fmt.Sprintf("sort_desc(sum by (model) (increase(%s%s[$__range])))", costMetric, base), legend: legend("model"), instant: true}}},
	}
	if t := teamSpend(teams, base); t != "" {
		spend = append(spend, panel{title: "Spend per hour by team", unit: "currencyUSD", width: 24, stacked: true,
			description: "Teams as Vigil's dashboards configuration assigns services to them.",
			targets:     []target{{expr: t, legend: legend("team")}}})
	}
	unit := []panel{
		{title: "Cost per 1M tokens by model", unit: "currencyUSD", targets: []target{{
			expr: fmt.Sprintf("%s / %s * 1e6", sumRate("model", costMetric, base, rateInterval), sumRate("model", tokensMetric, base.and(`type=~"input|output"`), rateInterval)), legend: legend("model")}}},
		{title: "Cost per 1k model calls by service", unit: "currencyUSD", targets: []target{{
			expr: fmt.Sprintf("%s / %s * 1e3", sumRate("service", costMetric, base, rateInterval), sumRate("service", callsMetric, calls, rateInterval)), legend: legend("service")}}},
		{title: "Tokens per second by model", unit: "short", stacked: true, targets: []target{{expr: sumRate("model, type", tokensMetric, base, rateInterval), legend: legend("model", "type")}}},
	}
	s := spec{
		uid: UID(KindCost, ""), kind: KindCost, folder: VigilFolder,
		title:       "Vigil · Cost",
		description: "What model calls cost, priced by Vigil at ingest from its price table: spend by service, model and team, and unit costs.",
		links:       []string{ManagedTag},
		variables: []variable{
			{name: "service", label: "Service", query: fmt.Sprintf("label_values(%s, service)", costMetric)},
			{name: "model", label: "Model", query: fmt.Sprintf("label_values(%s, model)", costMetric)},
		},
		rows: []row{{title: "Spend", panels: spend}, {title: "Unit cost", panels: unit}},
		time: "7d",
	}
	if budgets {
		s.description += " Budgets: each one's spend in its period against its limit, and its forecast."
		s.variables = append(s.variables, variable{name: "budget", label: "Budget", query: fmt.Sprintf("label_values(%s, budget)", budgetLimit)})
		s.rows = append(s.rows, budgetRow())
	}
	return s
}

// The budget gauges of Vigil's /metrics (analyzer.BudgetGauges), as a
// Prometheus scraping Vigil writes them back into it.
const (
	budgetSpend    = "vigil_budget_spend"
	budgetLimit    = "vigil_budget_limit"
	budgetForecast = "vigil_budget_forecast"
)

// budgetRow is the budgets' spend and forecast against their limits.
// Budgets are over the cost lines of imported bills, not the spans'
// cost, so they stand apart from the rows above. Each gauge is taken as
// the max per budget: while an analyzer replica hands a budget over to
// another, both may export it for a scrape.
func budgetRow() row {
	by := "tenant, budget, currency"
	sel := matchers{re("budget", "budget")}
	gauge := func(name string) string { return fmt.Sprintf("max by (%s) (%s%s)", by, name, sel) }
	share := func(name string) string { return gauge(name) + " / " + gauge(budgetLimit) }
	steps := []threshold{{color: "green"}, {value: ptr(0.8), color: "orange"}, {value: ptr(1.0), color: "red"}}
	name := legend("tenant") + "/" + legend("budget")
	return row{title: "Budgets", panels: []panel{
		{kind: statPanel, title: "Budget spent this period", unit: "percentunit", width: 12,
			description: "Spend so far in each budget's current period (day, week or month, UTC) as a share of its limit, as the analyzer judged it at its last tick.",
			targets:     []target{{expr: share(budgetSpend), legend: name, instant: true}}, thresholds: steps},
		{kind: statPanel, title: "Forecast at the period's end", unit: "percentunit", width: 12,
			description: "Spend extrapolated to the end of each budget's period at the run rate so far, as a share of its limit; above 100% the budget is forecast to overrun.",
			targets:     []target{{expr: share(budgetForecast), legend: name, instant: true}}, thresholds: steps},
		{title: "Spend, forecast and limit by budget", unit: "none", width: 24,
			description: "In each budget's currency (in the legend). Spend falls back to 0 when a new period starts.",
			targets: []target{
				{expr: gauge(budgetSpend), legend: name + " spent (" + legend("currency") + ")"},
				{expr: gauge(budgetForecast), legend: name + " forecast (" + legend("currency") + ")"},
				{expr: gauge(budgetLimit), legend: name + " limit (" + legend("currency") + ")"},
			}},
	}}
}

// teamSpend is the spend per hour by team: PromQL has no team, so each
// team's services are relabelled with it (teams sorted, for stable output).
func teamSpend(teams map[string][]string, base matchers) string {
	var parts []string
	for _, team := range slices.Sorted(maps.Keys(teams)) {
		services := teams[team]
		if len(services) == 0 {
			continue
		}
		quoted := make([]string, len(services))
		for i, s := range services {
			quoted[i] = regexp.QuoteMeta(s)
		}
		sel := base.and(fmt.Sprintf("service=~%q", strings.Join(quoted, "|")))
		parts = append(parts, fmt.Sprintf("label_replace(%s, \"team\", %q, \"\", \"\")", sumRate("service", costMetric, sel, rateInterval), team))
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("sum by (team) (%s) * 3600", strings.Join(parts, " or "))
}
