package otlp

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/vigil-dev/vigil/store"
)

// Metrics maps an OTLP metrics export to series and samples the way
// Prometheus stores OTLP metrics, so the same PromQL-style selectors work:
//
//   - names and label names are escaped to [a-zA-Z0-9_:] ('.' and other
//     characters become '_'); unit suffixes are not appended;
//   - service.namespace/service.name becomes the job label and
//     service.instance.id the instance label; other resource attributes are
//     not copied onto every series;
//   - a monotonic cumulative sum is a counter named with a _total suffix; a
//     non-monotonic sum is a gauge;
//   - a histogram becomes cumulative name_bucket{le=...} series with a +Inf
//     bucket, name_sum and name_count;
//   - an exponential histogram is converted to the same classic form, one
//     bucket per exponential bucket: positive bucket i has the upper bound
//     base^(i+1), negative bucket i the upper bound -base^i, and the zero
//     bucket the upper bound of the zero threshold (base = 2^(2^-scale));
//   - a summary becomes name{quantile=...}, name_sum and name_count.
//
// Delta temporality is not stored (Prometheus' model is cumulative): such
// points are rejected with a message saying so, as are points flagged as
// having no recorded value.
func Metrics(tenant string, md pmetric.Metrics) (series []store.Series, samples []store.Sample, rejected int, msg string) {
	c := metricConverter{tenant: tenant, seen: map[uint64]bool{}}
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		base := resourceLabels(rm.Resource().Attributes())
		sms := rm.ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				c.metric(ms.At(k), base)
			}
		}
	}
	return c.series, c.samples, c.rejected, c.msg
}

type metricConverter struct {
	tenant   string
	seen     map[uint64]bool
	series   []store.Series
	samples  []store.Sample
	rejected int
	msg      string
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
}

func (c *metricConverter) metric(m pmetric.Metric, base store.Attributes) {
	name := escapeName(m.Name())
	if name == "" {
		c.reject(dataPointCount(m), "a metric has no name")
		return
	}
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		c.numbers(name, store.MetricGauge, m.Gauge().DataPoints(), base)
	case pmetric.MetricTypeSum:
		sum := m.Sum()
		if sum.AggregationTemporality() == pmetric.AggregationTemporalityDelta {
			c.reject(sum.DataPoints().Len(), "metric %s: delta temporality is not supported, export cumulative", m.Name())
			return
		}
		if sum.IsMonotonic() {
			if !strings.HasSuffix(name, "_total") {
				name += "_total"
			}
			c.numbers(name, store.MetricCounter, sum.DataPoints(), base)
		} else {
			c.numbers(name, store.MetricGauge, sum.DataPoints(), base)
		}
	case pmetric.MetricTypeHistogram:
		h := m.Histogram()
		if h.AggregationTemporality() == pmetric.AggregationTemporalityDelta {
			c.reject(h.DataPoints().Len(), "metric %s: delta temporality is not supported, export cumulative", m.Name())
			return
		}
		dps := h.DataPoints()
		for i := 0; i < dps.Len(); i++ {
			p := dps.At(i)
			if p.Flags().NoRecordedValue() {
				c.reject(1, "metric %s: point has no recorded value", m.Name())
				continue
			}
			bounds, counts := p.ExplicitBounds(), p.BucketCounts()
			les := make([]float64, bounds.Len())
			for b := range les {
				les[b] = bounds.At(b)
			}
			cs := make([]uint64, counts.Len())
			for b := range cs {
				cs[b] = counts.At(b)
			}
			c.histogram(name, withLabels(base, p.Attributes()), uint64(p.Timestamp()), les, cs, p.Count(), p.HasSum(), p.Sum())
		}
	case pmetric.MetricTypeExponentialHistogram:
		h := m.ExponentialHistogram()
		if h.AggregationTemporality() == pmetric.AggregationTemporalityDelta {
			c.reject(h.DataPoints().Len(), "metric %s: delta temporality is not supported, export cumulative", m.Name())
			return
		}
		dps := h.DataPoints()
		for i := 0; i < dps.Len(); i++ {
			p := dps.At(i)
			if p.Flags().NoRecordedValue() {
				c.reject(1, "metric %s: point has no recorded value", m.Name())
				continue
			}
			les, cs := expToClassic(p)
			c.histogram(name, withLabels(base, p.Attributes()), uint64(p.Timestamp()), les, cs, p.Count(), p.HasSum(), p.Sum())
		}
	case pmetric.MetricTypeSummary:
		dps := m.Summary().DataPoints()
		for i := 0; i < dps.Len(); i++ {
			p := dps.At(i)
			if p.Flags().NoRecordedValue() {
				c.reject(1, "metric %s: point has no recorded value", m.Name())
				continue
			}
			labels := withLabels(base, p.Attributes())
			ts := uint64(p.Timestamp())
			qs := p.QuantileValues()
			for q := 0; q < qs.Len(); q++ {
				c.add(name, store.MetricSummary, append(labels[:len(labels):len(labels)], store.KeyValue{Key: "quantile", Value: formatFloat(qs.At(q).Quantile())}), ts, qs.At(q).Value())
			}
			c.add(name+"_sum", store.MetricSummary, labels, ts, p.Sum())
			c.add(name+"_count", store.MetricSummary, labels, ts, float64(p.Count()))
		}
	default:
		c.reject(dataPointCount(m), "metric %s: type %s is not supported", m.Name(), m.Type())
	}
}

func (c *metricConverter) numbers(name string, typ store.MetricType, dps pmetric.NumberDataPointSlice, base store.Attributes) {
	for i := 0; i < dps.Len(); i++ {
		p := dps.At(i)
		if p.Flags().NoRecordedValue() {
			c.reject(1, "metric %s: point has no recorded value", name)
			continue
		}
		v := p.DoubleValue()
		if p.ValueType() == pmetric.NumberDataPointValueTypeInt {
			v = float64(p.IntValue())
		}
		c.add(name, typ, withLabels(base, p.Attributes()), uint64(p.Timestamp()), v)
	}
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

// expToClassic lists an exponential histogram's buckets in ascending order
// of upper bound: negative buckets (highest index first), the zero bucket,
// then positive buckets.
func expToClassic(p pmetric.ExponentialHistogramDataPoint) (les []float64, counts []uint64) {
	base := math.Pow(2, math.Pow(2, -float64(p.Scale())))
	neg, pos := p.Negative(), p.Positive()
	for i := neg.BucketCounts().Len() - 1; i >= 0; i-- {
		idx := float64(int(neg.Offset()) + i)
		les = append(les, -math.Pow(base, idx))
		counts = append(counts, neg.BucketCounts().At(i))
	}
	les = append(les, p.ZeroThreshold())
	counts = append(counts, p.ZeroCount())
	for i := 0; i < pos.BucketCounts().Len(); i++ {
		idx := float64(int(pos.Offset()) + i)
		les = append(les, math.Pow(base, idx+1))
		counts = append(counts, pos.BucketCounts().At(i))
	}
	return les, counts
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
	attrs.Range(func(k string, v pcommon.Value) bool {
		out = append(out, store.KeyValue{Key: escapeLabel(k), Value: v.AsString()})
		return true
	})
	for _, b := range base {
		if _, ok := out.Get(b.Key); !ok {
			out = append(out, b)
		}
	}
	return out
}

func formatFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// escapeName keeps [a-zA-Z0-9_:] and turns anything else into '_'; a
// leading digit gets a '_' prefix.
func escapeName(s string) string { return escape(s, true) }

// escapeLabel is escapeName without ':'; a leading digit gets "key_".
func escapeLabel(s string) string {
	e := escape(s, false)
	if strings.HasPrefix(e, "_") && len(s) > 0 && s[0] >= '0' && s[0] <= '9' {
		return "key" + e
	}
	return e
}

func escape(s string, colon bool) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	if s[0] >= '0' && s[0] <= '9' {
		b.WriteByte('_')
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || colon && r == ':'
		if ok {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
