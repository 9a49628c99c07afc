package dashboards

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// costDashboard is what model calls cost: spend by service, model and
// team, and unit costs, from the cost Vigil prices each span at.
func costDashboard(teams map[string][]string) spec {
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
	return spec{
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
