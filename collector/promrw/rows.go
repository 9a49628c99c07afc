package promrw

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil/store"
)

// rows are what a request stores, and what it refused.
type rows struct {
	org        string
	series     []store.Series
	samples    []store.Sample
	floats     int // float samples written
	histograms int // native histograms written (as classic series)
	rejected   int
	msg        string
}

func (rs *rows) reject(n int, format string, args ...any) {
	if rs.rejected == 0 {
		rs.msg = fmt.Sprintf(format, args...)
	}
	rs.rejected += n
}

func (rs *rows) add(s store.Series, ts int64, v float64) {
	if len(rs.series) == 0 || rs.series[len(rs.series)-1].Fingerprint != s.Fingerprint {
		rs.series = append(rs.series, s)
	}
	rs.samples = append(rs.samples, store.Sample{Tenant: rs.org, Fingerprint: s.Fingerprint, TimestampMsec: ts, Value: v})
}

// prompb.MetricType values, the same in 1.0 and 2.0.
const (
	typeCounter   = 1
	typeGauge     = 2
	typeHistogram = 3
	typeSummary   = 5
)

func toRows(org string, req *writeRequest) *rows {
	rs := &rows{org: org}
	for i, ts := range req.series {
		name, labels, err := seriesLabels(ts.labels)
		if err != nil {
			rs.reject(len(ts.samples)+len(ts.histograms), "timeseries %d: %v", i, err)
			continue
		}
		rs.floatSeries(name, metricType(req.metadata, name), labels, ts.samples, 0)
		rs.nativeHistograms(i, name, labels, ts.histograms, 0)
	}
	return rs
}

func toRowsV2(org string, req *requestV2) *rows {
	rs := &rows{org: org}
	if len(req.symbols) > 0 && req.symbols[0] != "" {
		rs.reject(countV2(req), "the symbol table must start with the empty string")
		return rs
	}
	for i, ts := range req.series {
		pairs, err := symbolLabels(req.symbols, ts.labelRefs)
		var name string
		var labels store.Attributes
		if err == nil {
			name, labels, err = seriesLabels(pairs)
		}
		if err != nil {
			rs.reject(len(ts.samples)+len(ts.histograms), "timeseries %d: %v", i, err)
			continue
		}
		rs.floatSeries(name, storeType(ts.metaType), labels, ts.samples, ts.createdMs)
		rs.nativeHistograms(i, name, labels, ts.histograms, ts.createdMs)
	}
	return rs
}

func countV2(req *requestV2) int {
	n := 0
	for _, ts := range req.series {
		n += len(ts.samples) + len(ts.histograms)
	}
	return n
}

// symbolLabels resolves label references: name and value pairs of
// indexes into the symbol table.
func symbolLabels(symbols []string, refs []uint32) ([]label, error) {
	if len(refs)%2 != 0 {
		return nil, fmt.Errorf("odd number of label references (%d)", len(refs))
	}
	out := make([]label, 0, len(refs)/2)
	for j := 0; j < len(refs); j += 2 {
		if int(refs[j]) >= len(symbols) || int(refs[j+1]) >= len(symbols) {
			return nil, fmt.Errorf("label reference %d or %d is outside the symbol table of %d", refs[j], refs[j+1], len(symbols))
		}
		out = append(out, label{symbols[refs[j]], symbols[refs[j+1]]})
	}
	return out, nil
}

// seriesLabels checks a series' labels and splits off its name. A label
// with an empty value is the same as no label.
func seriesLabels(ls []label) (string, store.Attributes, error) {
	var name string
	labels := make(store.Attributes, 0, len(ls))
	seen := make(map[string]bool, len(ls))
	for _, l := range ls {
		if seen[l.name] {
			return "", nil, fmt.Errorf("label %q appears twice", l.name)
		}
		seen[l.name] = true
		if l.name == "" {
			return "", nil, fmt.Errorf("a label has no name")
		}
		if l.name == store.MetricNameLabel {
			name = l.value
		} else if l.value != "" {
			labels = append(labels, store.KeyValue{Key: l.name, Value: l.value})
		}
	}
	if name == "" {
		return "", nil, errNoName
	}
	return name, labels, nil
}

// floatSeries stores a series' samples. Staleness markers (store.StaleNaN)
// are stored like any sample: PromQL ends the series at them. A created
// timestamp before the first sample becomes a zero sample there, as
// Prometheus's created-timestamp zero ingestion does, so the first
// increase of a new counter counts.
func (rs *rows) floatSeries(name string, typ store.MetricType, labels store.Attributes, samples []sample, createdMs int64) {
	if len(samples) == 0 {
		return
	}
	s := store.NewSeries(rs.org, name, typ, labels)
	if createdMs > 0 && createdMs < samples[0].ts {
		rs.add(s, createdMs, 0)
	}
	for _, sm := range samples {
		rs.add(s, sm.ts, sm.value)
	}
	rs.floats += len(samples)
}

// nativeHistograms stores native histograms as classic ones: name_bucket
// series with an le label, name_sum and name_count.
func (rs *rows) nativeHistograms(i int, name string, labels store.Attributes, hs []nativeHistogram, createdMs int64) {
	for _, h := range hs {
		les, counts, err := h.classicBuckets()
		if err != nil {
			rs.reject(1, "timeseries %d: %v", i, err)
			continue
		}
		if created := max(createdMs, h.createdMs); created > 0 && created < h.ts {
			rs.histogram(name, labels, created, les, make([]float64, len(counts)), 0, 0)
		}
		rs.histogram(name, labels, h.ts, les, counts, h.count, h.sum)
		rs.histograms++
	}
}

func (rs *rows) histogram(name string, labels store.Attributes, ts int64, les, counts []float64, count, sum float64) {
	with := func(le string) store.Attributes {
		return append(labels[:len(labels):len(labels)], store.KeyValue{Key: "le", Value: le})
	}
	cum := 0.0
	for b, le := range les {
		cum += counts[b]
		if !math.IsInf(le, 1) {
			rs.add(store.NewSeries(rs.org, name+"_bucket", store.MetricHistogram, with(strconv.FormatFloat(le, 'f', -1, 64))), ts, cum)
		}
	}
	rs.add(store.NewSeries(rs.org, name+"_bucket", store.MetricHistogram, with("+Inf")), ts, count)
	rs.add(store.NewSeries(rs.org, name+"_sum", store.MetricHistogram, labels), ts, sum)
	rs.add(store.NewSeries(rs.org, name+"_count", store.MetricHistogram, labels), ts, count)
}

// metricType finds a series' type from a 1.0 request's metadata, which
// names metric families (a histogram family covers its _bucket, _sum and
// _count).
func metricType(meta map[string]int32, name string) store.MetricType {
	t, ok := meta[name]
	if !ok {
		for _, suffix := range []string{"_bucket", "_sum", "_count", "_total"} {
			if base, found := strings.CutSuffix(name, suffix); found {
				if t, ok = meta[base]; ok {
					break
				}
			}
		}
	}
	return storeType(t)
}

func storeType(t int32) store.MetricType {
	switch t {
	case typeCounter:
		return store.MetricCounter
	case typeGauge:
		return store.MetricGauge
	case typeHistogram:
		return store.MetricHistogram
	case typeSummary:
		return store.MetricSummary
	}
	return store.MetricUnknown
}
