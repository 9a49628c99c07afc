package promrw

import (
	"math"
	"sort"
	"strconv"
	"testing"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/vigil-dev/vigil/store"
)

// v2Series is one io.prometheus.write.v2.TimeSeries to encode.
type v2Series struct {
	refs      []uint32
	samples   []sample
	start     int64 // the samples' start_timestamp
	metaType  int32
	histogram []byte // an encoded Histogram, or nil
}

func encodeV2(symbols []string, series []v2Series) []byte {
	var req []byte
	for _, s := range symbols {
		req = protowire.AppendTag(req, 4, protowire.BytesType)
		req = protowire.AppendString(req, s)
	}
	for _, s := range series {
		var ts, refs []byte
		for _, r := range s.refs {
			refs = protowire.AppendVarint(refs, uint64(r))
		}
		ts = protowire.AppendTag(ts, 1, protowire.BytesType)
		ts = protowire.AppendBytes(ts, refs)
		for _, sm := range s.samples {
			var sb []byte
			sb = protowire.AppendTag(sb, 1, protowire.Fixed64Type)
			sb = protowire.AppendFixed64(sb, math.Float64bits(sm.value))
			sb = protowire.AppendTag(sb, 2, protowire.VarintType)
			sb = protowire.AppendVarint(sb, uint64(sm.ts))
			sb = protowire.AppendTag(sb, 3, protowire.VarintType)
			sb = protowire.AppendVarint(sb, uint64(s.start))
			ts = protowire.AppendTag(ts, 2, protowire.BytesType)
			ts = protowire.AppendBytes(ts, sb)
		}
		if s.histogram != nil {
			ts = protowire.AppendTag(ts, 3, protowire.BytesType)
			ts = protowire.AppendBytes(ts, s.histogram)
		}
		var mb []byte
		mb = protowire.AppendTag(mb, 1, protowire.VarintType)
		mb = protowire.AppendVarint(mb, uint64(s.metaType))
		ts = protowire.AppendTag(ts, 5, protowire.BytesType)
		ts = protowire.AppendBytes(ts, mb)
		req = protowire.AppendTag(req, 5, protowire.BytesType)
		req = protowire.AppendBytes(req, ts)
	}
	return req
}

// nativeHistogram1 encodes an integer native histogram of schema 0: count
// 5, sum 12, 1 in the zero bucket (threshold 0.001), and buckets 1 and 2
// ((1, 2] and (2, 4]) holding 1 and 3, sent as deltas.
func nativeHistogram1(ts int64) []byte {
	var h, span []byte
	h = protowire.AppendTag(h, 1, protowire.VarintType)
	h = protowire.AppendVarint(h, 5)
	h = protowire.AppendTag(h, 3, protowire.Fixed64Type)
	h = protowire.AppendFixed64(h, math.Float64bits(12))
	h = protowire.AppendTag(h, 5, protowire.Fixed64Type)
	h = protowire.AppendFixed64(h, math.Float64bits(0.001))
	h = protowire.AppendTag(h, 6, protowire.VarintType)
	h = protowire.AppendVarint(h, 1)
	span = protowire.AppendTag(span, 1, protowire.VarintType)
	span = protowire.AppendVarint(span, protowire.EncodeZigZag(1))
	span = protowire.AppendTag(span, 2, protowire.VarintType)
	span = protowire.AppendVarint(span, 2)
	h = protowire.AppendTag(h, 11, protowire.BytesType)
	h = protowire.AppendBytes(h, span)
	var deltas []byte
	deltas = protowire.AppendVarint(deltas, protowire.EncodeZigZag(1))
	deltas = protowire.AppendVarint(deltas, protowire.EncodeZigZag(2))
	h = protowire.AppendTag(h, 12, protowire.BytesType)
	h = protowire.AppendBytes(h, deltas)
	h = protowire.AppendTag(h, 15, protowire.VarintType)
	h = protowire.AppendVarint(h, uint64(ts))
	return h
}

func TestRemoteWrite2(t *testing.T) {
	w := &memWriter{}
	symbols := []string{"", "__name__", "requests_total", "job", "api", "latency_seconds", "bad"}
	body := encodeV2(symbols, []v2Series{
		{refs: []uint32{1, 2, 3, 4}, samples: []sample{{3, 2000}, {5, 3000}}, start: 1000, metaType: typeCounter},
		{refs: []uint32{1, 5}, histogram: nativeHistogram1(2000), metaType: typeHistogram},
		{refs: []uint32{1, 99}, samples: []sample{{1, 1000}}},
	})
	rec := send(newReceiver(w), snappy.Encode(nil, body), map[string]string{"Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request"})
	h := rec.Header()
	if rec.Code != 400 || h.Get("X-Prometheus-Remote-Write-Samples-Written") != "2" || h.Get("X-Prometheus-Remote-Write-Histograms-Written") != "1" || h.Get("X-Prometheus-Remote-Write-Exemplars-Written") != "0" {
		t.Fatalf("%d %q, headers %v", rec.Code, rec.Body.String(), h)
	}
	got := map[string]float64{}
	names := map[uint64]string{}
	for _, s := range w.series {
		names[s.Fingerprint] = s.Name + labelsOf(s)
	}
	for _, sm := range w.samples {
		got[names[sm.Fingerprint]+"@"+strconv.FormatInt(sm.TimestampMsec, 10)] = sm.Value
	}
	want := map[string]float64{
		"requests_total{job=api}@1000":          0, // the created timestamp
		"requests_total{job=api}@2000":          3,
		"requests_total{job=api}@3000":          5,
		"latency_seconds_bucket{le=0.001}@2000": 1,
		"latency_seconds_bucket{le=2}@2000":     2,
		"latency_seconds_bucket{le=4}@2000":     5,
		"latency_seconds_bucket{le=+Inf}@2000":  5,
		"latency_seconds_sum{}@2000":            12,
		"latency_seconds_count{}@2000":          5,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("stored %v", got)
	}
	if w.series[0].Type != store.MetricCounter {
		t.Errorf("type %v, want counter from the series' metadata", w.series[0].Type)
	}
}

func labelsOf(s store.Series) string {
	var parts []string
	for _, kv := range s.Labels {
		parts = append(parts, kv.Key+"="+kv.Value)
	}
	sort.Strings(parts)
	out := "{"
	for i, p := range parts {
		if i > 0 {
			out += ","
		}
		out += p
	}
	return out + "}"
}
