package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-dev/vigil/cost"
)

// Signal names for metric labels.
const (
	SignalSpans   = "spans"
	SignalSamples = "samples"
	SignalLogs    = "logs"
)

// Metrics are the collector's self-metrics, shared by the receivers (what
// arrived, what was invalid) and the pipeline (what became durable, what
// was refused, spooled and replayed).
type Metrics struct {
	Received   *prometheus.CounterVec // signal, tenant
	Accepted   *prometheus.CounterVec // signal, tenant
	Refused    *prometheus.CounterVec // signal, tenant, reason
	Spooled    *prometheus.CounterVec // signal, tenant
	Replayed   *prometheus.CounterVec // signal, tenant
	Queue      *prometheus.GaugeVec   // signal
	SpoolBytes *prometheus.GaugeVec   // signal
	WriteTime  *prometheus.HistogramVec
}

// NewMetrics creates the metrics and registers them when reg is not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_collector_received_items_total", Help: "Items (spans, samples) decoded from requests, by signal and tenant.",
		}, []string{"signal", "tenant"}),
		Accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_collector_accepted_items_total", Help: "Items acknowledged: written to the store or spooled to disk.",
		}, []string{"signal", "tenant"}),
		Refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_collector_refused_items_total", Help: "Items not acknowledged, by reason (invalid, busy, rate_limited, unavailable, closed).",
		}, []string{"signal", "tenant", "reason"}),
		Spooled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_collector_spooled_items_total", Help: "Items spooled to disk because the store did not take them.",
		}, []string{"signal", "tenant"}),
		Replayed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_collector_replayed_items_total", Help: "Spooled items written to the store after it came back.",
		}, []string{"signal", "tenant"}),
		Queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigil_collector_queue_items", Help: "Items accepted into a batch and not yet durable.",
		}, []string{"signal"}),
		SpoolBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigil_collector_spool_bytes", Help: "Bytes of batches waiting in the disk spool.",
		}, []string{"signal"}),
		WriteTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "vigil_collector_batch_write_seconds", Help: "Time to write one batch to the store.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}, []string{"signal"}),
	}
	if reg != nil {
		reg.MustRegister(m.Received, m.Accepted, m.Refused, m.Spooled, m.Replayed, m.Queue, m.SpoolBytes, m.WriteTime)
	}
	return m
}

// UnknownModels lists the models calls were seen for without a price.
type UnknownModels interface {
	Unknown() []cost.UnknownModel
}

// unpricedCollector reports the price table's unknown models as a counter,
// so an unpriced model shows on a dashboard instead of as a cost of zero.
type unpricedCollector struct {
	models UnknownModels
	desc   *prometheus.Desc
}

// RegisterUnpriced registers vigil_collector_unpriced_calls_total{model}.
func RegisterUnpriced(reg prometheus.Registerer, models UnknownModels) {
	reg.MustRegister(&unpricedCollector{models: models, desc: prometheus.NewDesc(
		"vigil_collector_unpriced_calls_total", "GenAI calls ingested for a model the price table has no price for.", []string{"model"}, nil)})
}

func (c *unpricedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *unpricedCollector) Collect(ch chan<- prometheus.Metric) {
	for _, u := range c.models.Unknown() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(u.Calls), u.Model)
	}
}
