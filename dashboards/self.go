package dashboards

import "fmt"

// selfDashboard is Vigil itself, from its /metrics as a Prometheus
// scraping it writes them back into Vigil: ingest, the pipeline's queue
// and spool, refused items, the analyzer's ticks and alert deliveries.
// The analyzer's job label meets the scrape's own job label, so with
// Prometheus's default honor_labels: false it is exported_job.
func selfDashboard() spec {
	inst := matchers{re("instance", "instance")}
	return spec{
		uid: UID(KindSelf, ""), kind: KindSelf, folder: VigilFolder,
		title:       "Vigil · Vigil itself",
		description: "Vigil's own health, from its /metrics scraped by Prometheus: ingest, pipeline queue and spool, refused items, analyzer ticks and alert deliveries.",
		links:       []string{ManagedTag},
		time:        "3h",
		variables: []variable{
			{name: "instance", label: "Instance", query: "label_values(vigil_build_info, instance)"},
		},
		rows: []row{
			{title: "Ingest", panels: []panel{
				{title: "Items received and accepted", unit: "short", description: "Spans and samples per second: decoded from requests, and acknowledged (written or spooled).", targets: []target{
					{expr: sumRate("signal", "vigil_collector_received_items_total", inst, rateInterval), legend: "received " + legend("signal")},
					{expr: sumRate("signal", "vigil_collector_accepted_items_total", inst, rateInterval), legend: "accepted " + legend("signal")},
				}},
				{title: "Refused items by reason", unit: "short", description: "Items not acknowledged per second: invalid, busy (backpressure), rate_limited, unavailable, closed.",
					targets: []target{{expr: sumRate("signal, reason", "vigil_collector_refused_items_total", inst, rateInterval), legend: legend("signal", "reason")}}},
				{title: "Pipeline queue", unit: "short", description: "Items accepted into a batch and not yet durable.",
					targets: []target{{expr: fmt.Sprintf("sum by (signal) (vigil_collector_queue_items%s)", inst), legend: legend("signal")}}},
				{title: "Disk spool", unit: "bytes", description: "Batches waiting on disk for the store to come back.",
					targets: []target{{expr: fmt.Sprintf("sum by (signal) (vigil_collector_spool_bytes%s)", inst), legend: legend("signal")}}},
				{title: "Batch write p99", unit: "s",
					targets: []target{{expr: quantile(0.99, "signal", "vigil_collector_batch_write_seconds_bucket", inst), legend: legend("signal")}}},
				{title: "Span metrics label sets", unit: "short", description: "Label sets counted from spans per tenant; at --collector.span-metrics-max-label-sets new ones go to __overflow__.",
					targets: []target{{expr: fmt.Sprintf("sum by (tenant) (vigil_spanmetrics_label_sets%s)", inst), legend: legend("tenant")}}},
			}},
			{title: "Analyzer and alerts", panels: []panel{
				{title: "Analyzer job duration p99", unit: "s",
					targets: []target{{expr: quantile(0.99, "exported_job", "vigil_analyzer_job_duration_seconds_bucket", inst), legend: legend("exported_job")}}},
				{title: "Analyzer runs and missed ticks", unit: "short", targets: []target{
					{expr: sumRate("exported_job", "vigil_analyzer_job_runs_total", inst, rateInterval), legend: "runs " + legend("exported_job")},
					{expr: sumRate("", "vigil_analyzer_missed_ticks_total", inst, rateInterval), legend: "missed ticks"},
				}},
				{title: "Deliveries by outcome", unit: "short", description: "Delivery attempts per second (alerts, actions, streams) by subscriber and outcome: delivered, retrying, failed, skipped.",
					targets: []target{{expr: sumRate("subscriber, outcome", "vigil_dispatch_attempts_total", inst, rateInterval), legend: legend("subscriber", "outcome")}}},
				{title: "Deliveries queued", unit: "short",
					targets: []target{{expr: fmt.Sprintf("sum by (subscriber) (vigil_dispatch_queued%s)", inst), legend: legend("subscriber")}}},
			}},
		},
	}
}
