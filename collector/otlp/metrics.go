package otlp

import (
	"fmt"
	"math"
	"strconv"

	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/vigil-dev/vigil/store"
)

// Metrics maps an OTLP metrics export to series and samples the way
// Prometheus's OTLP receiver stores it (its default translation,
// UnderscoreEscapingWithSuffixes), so the same PromQL works:
//
//   - names and label names are escaped to Prometheus's legacy character
//     set, the unit is appended to the name (s as _seconds, By as _bytes,
//     a gauge of unit 1 as _ratio, {annotations} dropped), and a monotonic
//     sum gets the _total suffix (github.com/prometheus/otlptranslator);
//   - service.namespace/service.name becomes the job label and
//     service.instance.id the instance label; the other resource
//     attributes go on one target_info series per resource, not on every
//     series;
//   - a monotonic sum is a counter; a non-monotonic sum is a gauge;
//   - a histogram becomes cumulative name_bucket{le=...} series with a +Inf
//     bucket, name_sum and name_count;
//   - an exponential histogram is converted to the same classic form, one
//     bucket per exponential bucket (see expBuckets.classic);
//   - a summary becomes name{quantile=...}, name_sum and name_count;
//   - delta temporality (sums, histograms, exponential histograms) is
//     accumulated into cumulative series by deltas.
//
// Points flagged as having no recorded value are rejected with a message
// saying so, as are delta points older than their stream's last.
func Metrics(tenant string, md pmetric.Metrics, deltas *Deltas) (series []store.Series, samples []store.Sample, rejected int, msg string) {
	c := metricConverter{tenant: tenant, deltas: deltas, seen: map[uint64]bool{}}
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		base := resourceLabels(rm.Resource().Attributes())
		c.latest = 0
		sms := rm.ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				c.metric(ms.At(k), base)
			}
		}
		c.targetInfo(rm.Resource().Attributes(), base)
	}
	return c.series, c.samples, c.rejected, c.msg
}

type metricConverter struct {
	tenant   string
	deltas   *Deltas
	seen     map[uint64]bool
	series   []store.Series
	samples  []store.Sample
	rejected int
	msg      string
	latest   uint64 // the latest point of the current resource, Unix ns
}

func (c *metricConverter) reject(n int, format string, args ...any) {
	if c.rejected == 0 {
		c.msg = fmt.Sprintf(format, args...)
	}
	c.rejected += n
}

func (c *metricConverter) add(name string, typ store.MetricType, labels store.Attributes, tsNano uint64, v float64) {
	s := store.NewSeries(c.tenant, name, typ, labels)
	if !c.seen[s.Fingerprint] {
		c.seen[s.Fingerprint] = true
		c.series = append(c.series, s)
	}
	c.samples = append(c.samples, store.Sample{Tenant: c.tenant, Fingerprint: s.Fingerprint, TimestampMsec: int64(tsNano / 1e6), Value: v})
	c.latest = max(c.latest, tsNano)
}

// stream is the identity of a point's stream for delta accumulation.
func (c *metricConverter) stream(name string, labels store.Attributes) streamKey {
	return streamKey{tenant: c.tenant, fingerprint: store.Fingerprint(name, labels.SortedCopy())}
}

// translatedTypes are the otlptranslator types that decide suffixes.
func translatedType(m pmetric.Metric) otlptranslator.MetricType {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return otlptranslator.MetricTypeGauge
	case pmetric.MetricTypeSum:
		if m.Sum().IsMonotonic() {
			return otlptranslator.MetricTypeMonotonicCounter
		}
		return otlptranslator.MetricTypeNonMonotonicCounter
	case pmetric.MetricTypeHistogram:
		return otlptranslator.MetricTypeHistogram
	case pmetric.MetricTypeExponentialHistogram:
		return otlptranslator.MetricTypeExponentialHistogram
	case pmetric.MetricTypeSummary:
		return otlptranslator.MetricTypeSummary
	}
	return otlptranslator.MetricTypeUnknown
}

var metricNamer = otlptranslator.MetricNamer{WithMetricSuffixes: true}

func (c *metricConverter) metric(m pmetric.Metric, base store.Attributes) {
	name, err := metricNamer.Build(otlptranslator.Metric{Name: m.Name(), Unit: m.Unit(), Type: translatedType(m)})
	if err != nil || name == "" {
		c.reject(dataPointCount(m), "metric %q has no valid name", m.Name())
		return
	}
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		c.numbers(name, store.MetricGauge, m.Gauge().DataPoints(), base, false)
	case pmetric.MetricTypeSum:
		sum := m.Sum()
		typ := store.MetricGauge
		if sum.IsMonotonic() {
			typ = store.MetricCounter
		}
		c.numbers(name, typ, sum.DataPoints(), base, sum.AggregationTemporality() == pmetric.AggregationTemporalityDelta)
	case pmetric.MetricTypeHistogram:
		h := m.Histogram()
		delta := h.AggregationTemporality() == pmetric.AggregationTemporalityDelta
		for _, p := range h.DataPoints().All() {
			c.explicitHistogram(name, p, base, delta)
		}
	case pmetric.MetricTypeExponentialHistogram:
		h := m.ExponentialHistogram()
		delta := h.AggregationTemporality() == pmetric.AggregationTemporalityDelta
		for _, p := range h.DataPoints().All() {
			c.exponentialHistogram(name, p, base, delta)
		}
	case pmetric.MetricTypeSummary:
		for _, p := range m.Summary().DataPoints().All() {
			c.summary(name, p, base)
		}
	default:
		c.reject(dataPointCount(m), "metric %s: type %s is not supported", m.Name(), m.Type())
	}
}

func (c *metricConverter) numbers(name string, typ store.MetricType, dps pmetric.NumberDataPointSlice, base store.Attributes, delta bool) {
	for _, p := range dps.All() {
		if p.Flags().NoRecordedValue() {
			c.reject(1, "metric %s: point has no recorded value", name)
			continue
		}
		v := p.DoubleValue()
		if p.ValueType() == pmetric.NumberDataPointValueTypeInt {
			v = float64(p.IntValue())
		}
		labels := withLabels(base, p.Attributes())
		if delta {
			var ok bool
			if v, ok = c.deltas.sum(c.stream(name, labels), uint64(p.Timestamp()), v); !ok {
				c.rejectOld(name)
				continue
			}
		}
		c.add(name, typ, labels, uint64(p.Timestamp()), v)
	}
}

func (c *metricConverter) rejectOld(name string) {
	c.reject(1, "metric %s: delta point not newer than the last of its stream", name)
}

func (c *metricConverter) explicitHistogram(name string, p pmetric.HistogramDataPoint, base store.Attributes, delta bool) {
	if p.Flags().NoRecordedValue() {
		c.reject(1, "metric %s: point has no recorded value", name)
		return
	}
	labels := withLabels(base, p.Attributes())
	les, counts := p.ExplicitBounds().AsRaw(), p.BucketCounts().AsRaw()
	count, sum := p.Count(), p.Sum()
	if delta {
		var ok bool
		if counts, count, sum, ok = c.deltas.histogram(c.stream(name, labels), uint64(p.Timestamp()), les, counts, count, sum); !ok {
			c.rejectOld(name)
			return
		}
	}
	c.histogram(name, labels, uint64(p.Timestamp()), les, counts, count, p.HasSum(), sum)
}

func (c *metricConverter) exponentialHistogram(name string, p pmetric.ExponentialHistogramDataPoint, base store.Attributes, delta bool) {
	if p.Flags().NoRecordedValue() {
		c.reject(1, "metric %s: point has no recorded value", name)
		return
	}
	labels := withLabels(base, p.Attributes())
	e, count, sum := expBucketsOf(p), p.Count(), p.Sum()
	if delta {
		var ok bool
		if e, count, sum, ok = c.deltas.exponential(c.stream(name, labels), uint64(p.Timestamp()), e, count, sum); !ok {
			c.rejectOld(name)
			return
		}
	}
	les, counts := e.classic()
	c.histogram(name, labels, uint64(p.Timestamp()), les, counts, count, p.HasSum(), sum)
}

func (c *metricConverter) summary(name string, p pmetric.SummaryDataPoint, base store.Attributes) {
	if p.Flags().NoRecordedValue() {
		c.reject(1, "metric %s: point has no recorded value", name)
		return
	}
	labels := withLabels(base, p.Attributes())
	ts := uint64(p.Timestamp())
	for _, q := range p.QuantileValues().All() {
		c.add(name, store.MetricSummary, append(labels[:len(labels):len(labels)], store.KeyValue{Key: "quantile", Value: formatFloat(q.Quantile())}), ts, q.Value())
	}
	c.add(name+"_sum", store.MetricSummary, labels, ts, p.Sum())
	c.add(name+"_count", store.MetricSummary, labels, ts, float64(p.Count()))
}

// histogram writes classic buckets: les are the finite upper bounds, counts
// the per-bucket (not cumulative) counts, the last for (last bound, +Inf].
func (c *metricConverter) histogram(name string, labels store.Attributes, ts uint64, les []float64, counts []uint64, count uint64, hasSum bool, sum float64) {
	var cum uint64
	for b, le := range les {
		if b < len(counts) {
			cum += counts[b]
		}
		c.add(name+"_bucket", store.MetricHistogram, append(labels[:len(labels):len(labels)], store.KeyValue{Key: "le", Value: formatFloat(le)}), ts, float64(cum))
	}
	c.add(name+"_bucket", store.MetricHistogram, append(labels[:len(labels):len(labels)], store.KeyValue{Key: "le", Value: "+Inf"}), ts, float64(count))
	if hasSum {
		c.add(name+"_sum", store.MetricHistogram, labels, ts, sum)
	}
	c.add(name+"_count", store.MetricHistogram, labels, ts, float64(count))
}

// identifying are the resource attributes that become job and instance
// instead of target_info labels.
var identifying = map[string]bool{"service.name": true, "service.namespace": true, "service.instance.id": true}

// targetInfo writes target_info{job, instance, resource attributes} 1 at
// the resource's latest point, as Prometheus's OTLP receiver does, so
// resource attributes join series by job and instance in PromQL.
func (c *metricConverter) targetInfo(res pcommon.Map, base store.Attributes) {
	if c.latest == 0 {
		return
	}
	labels := base
	for k, v := range res.All() {
		if !identifying[k] {
			labels = appendLabel(labels, k, v.AsString())
		}
	}
	if len(labels) > len(base) {
		c.add("target_info", store.MetricGauge, labels, c.latest, 1)
	}
}
func dataPointCount(m pmetric.Metric) int {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints().Len()
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints().Len()
	case pmetric.MetricTypeHistogram:
		return m.Histogram().DataPoints().Len()
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().DataPoints().Len()
	case pmetric.MetricTypeSummary:
		return m.Summary().DataPoints().Len()
	}
	return 1
}

func resourceLabels(res pcommon.Map) store.Attributes {
	var out store.Attributes
	get := func(k string) string {
		if v, ok := res.Get(k); ok {
			return v.AsString()
		}
		return ""
	}
	job, ns := get("service.name"), get("service.namespace")
	if ns != "" && job != "" {
		job = ns + "/" + job
	}
	if job != "" {
		out = append(out, store.KeyValue{Key: "job", Value: job})
	}
	if inst := get("service.instance.id"); inst != "" {
		out = append(out, store.KeyValue{Key: "instance", Value: inst})
	}
	return out
}

// withLabels adds a point's attributes to the resource labels; a point
// attribute wins over a resource label of the same name.
func withLabels(base store.Attributes, attrs pcommon.Map) store.Attributes {
	out := make(store.Attributes, 0, len(base)+attrs.Len())
	for k, v := range attrs.All() {
		out = appendLabel(out, k, v.AsString())
	}
	for _, b := range base {
		if _, ok := out.Get(b.Key); !ok {
			out = append(out, b)
		}
	}
	return out
}

var labelNamer = otlptranslator.LabelNamer{}

// appendLabel adds an attribute under its Prometheus label name; one
// that has none (only underscores) is left out.
func appendLabel(out store.Attributes, key, value string) store.Attributes {
	name, err := labelNamer.Build(key)
	if err != nil {
		return out
	}
	return append(out, store.KeyValue{Key: name, Value: value})
}

func formatFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
