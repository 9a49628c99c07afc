package dashboards

import "fmt"

// modelDashboard is one model's calls, latency, time to first token,
// tokens and cost, each by deployment so a canary shows beside the
// stable version.
func modelDashboard(model string) spec {
	base := matchers{eq("model", model), re("service", "service"), re("deployment", "deployment")}
	only := fmt.Sprintf("{%s}", eq("model", model))
	// Time to first token is the GenAI semantic convention's histogram,
	// labelled with the requested model; its deployment is a resource
	// attribute, which Prometheus's OTLP naming keeps in target_info, so
	// the deployment is joined from there.
	ttft := func(q float64) string {
		return fmt.Sprintf("histogram_quantile(%s, sum by (deployment_name, le) (%s * on (job, instance) group_left (deployment_name) target_info{%s}))",
			promFloat(q), rate(ttftBucket, matchers{eq("gen_ai_request_model", model)}, rateInterval), re("deployment_name", "deployment"))
	}
	byDeployment := legend("deployment")
	return spec{
		uid: UID(KindModel, model), kind: KindModel, folder: VigilFolder,
		title:       "Model · " + model,
		description: fmt.Sprintf("Calls, latency, time to first token, tokens and cost of %s by deployment (stable and canary side by side).", model),
		tags:        []string{"model:" + model},
		links:       []string{ManagedTag},
		variables: []variable{
			{name: "service", label: "Service", query: fmt.Sprintf("label_values(%s%s, service)", callsMetric, only)},
			{name: "deployment", label: "Deployment", query: fmt.Sprintf("label_values(%s%s, deployment)", callsMetric, only)},
			{name: "trace_service", label: "Traces of", single: true, query: fmt.Sprintf("label_values(%s%s, service)", callsMetric, only)},
		},
		rows: []row{
			{title: "Calls", panels: []panel{
				{title: "Calls by deployment", unit: "reqps", targets: []target{{expr: sumRate("deployment", callsMetric, base, rateInterval), legend: byDeployment}}},
				{title: "Error ratio by deployment", unit: "percentunit", min: ptr(0.0), targets: []target{{expr: errorRatio("deployment", base, rateInterval), legend: byDeployment}}},
				{title: "p50 / p95 latency by deployment", unit: "s", targets: []target{
					{expr: quantile(0.5, "deployment", durationBucket, base), legend: "p50 " + byDeployment},
					{expr: quantile(0.95, "deployment", durationBucket, base), legend: "p95 " + byDeployment, exemplar: true},
				}},
				{title: "Time to first token by deployment", unit: "s", description: "p50 and p95 of gen_ai.server.time_to_first_token (OpenTelemetry GenAI metrics), by the deployment.name resource attribute.", targets: []target{
					{expr: ttft(0.5), legend: "p50 " + legend("deployment_name")},
					{expr: ttft(0.95), legend: "p95 " + legend("deployment_name")},
				}},
			}},
			{title: "Tokens and cost", panels: []panel{
				{title: "Tokens by deployment", unit: "short", description: "Tokens per second by deployment and type (input, output, cached).",
					targets: []target{{expr: sumRate("deployment, type", tokensMetric, base, rateInterval), legend: legend("deployment", "type")}}},
				{title: "Cost per hour by deployment", unit: "currencyUSD", targets: []target{{expr: sumRate("deployment", costMetric, base, rateInterval) + " * 3600", legend: byDeployment}}},
				{title: "Cost per 1M tokens by deployment", unit: "currencyUSD", targets: []target{{
					expr:   fmt.Sprintf("%s / %s * 1e6", sumRate("deployment", costMetric, base, rateInterval), sumRate("deployment", tokensMetric, base.and(`type=~"input|output"`), rateInterval)),
					legend: byDeployment}}},
				{title: "Cost per 1k calls by deployment", unit: "currencyUSD", targets: []target{{
					expr:   fmt.Sprintf("%s / %s * 1e3", sumRate("deployment", costMetric, base, rateInterval), sumRate("deployment", callsMetric, base, rateInterval)),
					legend: byDeployment}}},
			}},
			{title: "Traces", panels: []panel{
				{kind: tracesTable, title: "Recent calls", width: 24, jaeger: &JaegerQuery{QueryType: JaegerSearch, Service: "$trace_service", Tags: "gen_ai.request.model=" + model, Limit: 20}},
			}},
		},
	}
}
