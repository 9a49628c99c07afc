package spanmetrics

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the generator's self-metrics.
type Metrics struct {
	LabelSets *prometheus.GaugeVec   // tenant
	Overflow  *prometheus.CounterVec // tenant
}

// NewMetrics creates the metrics and registers them when reg is not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		LabelSets: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigil_spanmetrics_label_sets", Help: "Label sets (service, operation, model, deployment, status) counted from spans, by tenant; the limit is --collector.span-metrics-max-label-sets.",
		}, []string{"tenant"}),
		Overflow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_spanmetrics_overflow_spans_total", Help: "Spans counted in the __overflow__ series because their tenant was at its label-set limit.",
		}, []string{"tenant"}),
	}
	if reg != nil {
		reg.MustRegister(m.LabelSets, m.Overflow)
	}
	return m
}
