package dashboards

import "fmt"

// serviceDashboard is RED by operation and by model, the latency
// heatmap with exemplars linking to traces, errors, tokens and cost of one
// service, from the span metrics, and its recent and failed traces.
func serviceDashboard(service string, folder Folder) spec {
	base := matchers{eq("service", service), re("operation", "operation"), re("model", "model"), re("deployment", "deployment")}
	models := base.and(`model!=""`)
	only := fmt.Sprintf("{%s}", eq("service", service))
	return spec{
		uid: UID(KindService, service), kind: KindService, folder: folder,
		title:       "Service · " + service,
		description: fmt.Sprintf("Requests, errors, latency, tokens and cost of %s, from the spans Vigil receives (span metrics).", service),
		tags:        []string{"service:" + service},
		links:       []string{ManagedTag},
		variables: []variable{
			{name: "operation", label: "Operation", query: fmt.Sprintf("label_values(%s%s, operation)", callsMetric, only)},
			{name: "model", label: "Model", query: fmt.Sprintf("label_values(%s%s, model)", callsMetric, only)},
			{name: "deployment", label: "Deployment", query: fmt.Sprintf("label_values(%s%s, deployment)", callsMetric, only)},
		},
		rows: []row{
			{title: "Now", panels: []panel{
				{kind: statPanel, title: "Requests", unit: "reqps", width: 6, targets: []target{{expr: sumRate("", callsMetric, base, rateInterval), instant: true}}},
				{kind: statPanel, title: "Error ratio", unit: "percentunit", width: 6, targets: []target{{expr: errorRatio("", base, rateInterval), instant: true}},
					thresholds: []threshold{{color: "green"}, {value: ptr(0.01), color: "red"}}},
				{kind: statPanel, title: "p99 latency", unit: "s", width: 6, targets: []target{{expr: quantile(0.99, "", durationBucket, base), instant: true}}},
				{kind: statPanel, title: "Cost per hour", unit: "currencyUSD", width: 6, targets: []target{{expr: sumRate("", costMetric, base, rateInterval) + " * 3600", instant: true}}},
			}},
			{title: "Requests, errors and duration by operation", panels: []panel{
				{title: "Requests by operation", unit: "reqps", targets: []target{{expr: sumRate("operation", callsMetric, base, rateInterval), legend: legend("operation")}}},
				{title: "Error ratio by operation", unit: "percentunit", min: ptr(0.0), targets: []target{{expr: errorRatio("operation", base, rateInterval), legend: legend("operation")}}},
				{title: "p50 / p99 latency by operation", unit: "s", description: "Exemplars are the slowest span of each series per step; click one to open its trace.", targets: []target{
					{expr: quantile(0.5, "operation", durationBucket, base), legend: "p50 " + legend("operation")},
					{expr: quantile(0.99, "operation", durationBucket, base), legend: "p99 " + legend("operation"), exemplar: true},
				}},
				{kind: heatmapPanel, title: "Latency distribution", unit: "s", description: "Spans per duration bucket per step.", targets: []target{
					{expr: fmt.Sprintf("sum by (le) (increase(%s%s[%s]))", durationBucket, base, rateInterval), legend: legend("le"), heatmap: true}}},
			}},
			{title: "Models", panels: []panel{
				{title: "Calls by model", unit: "reqps", targets: []target{{expr: sumRate("model", callsMetric, models, rateInterval), legend: legend("model")}}},
				{title: "p95 latency by model", unit: "s", targets: []target{{expr: quantile(0.95, "model", durationBucket, models), legend: legend("model"), exemplar: true}}},
				{title: "Tokens by model", unit: "short", description: "Tokens per second by model and type (input, output, cached).", stacked: true,
					targets: []target{{expr: sumRate("model, type", tokensMetric, models, rateInterval), legend: legend("model", "type")}}},
				{title: "Cost per hour by model", unit: "currencyUSD", stacked: true,
					targets: []target{{expr: sumRate("model", costMetric, models, rateInterval) + " * 3600", legend: legend("model")}}},
			}},
			{title: "Traces", panels: []panel{
				{kind: tracesTable, title: "Failed traces", jaeger: &JaegerQuery{QueryType: JaegerSearch, Service: service, Tags: "error=true", Limit: 20}},
				{kind: tracesTable, title: "Recent traces", jaeger: &JaegerQuery{QueryType: JaegerSearch, Service: service, Limit: 20}},
			}},
		},
	}
}
