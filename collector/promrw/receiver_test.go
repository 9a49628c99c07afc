package promrw

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/store"
)

// encode builds a prometheus.WriteRequest the way Prometheus marshals it.
func encode(series [][]label, samples [][]sample, meta map[string]int32, histograms bool) []byte {
	var req []byte
	for i, ls := range series {
		var ts []byte
		for _, l := range ls {
			var lb []byte
			lb = protowire.AppendTag(lb, 1, protowire.BytesType)
			lb = protowire.AppendString(lb, l.name)
			lb = protowire.AppendTag(lb, 2, protowire.BytesType)
			lb = protowire.AppendString(lb, l.value)
			ts = protowire.AppendTag(ts, 1, protowire.BytesType)
			ts = protowire.AppendBytes(ts, lb)
		}
		for _, s := range samples[i] {
			var sb []byte
			sb = protowire.AppendTag(sb, 1, protowire.Fixed64Type)
			sb = protowire.AppendFixed64(sb, math.Float64bits(s.value))
			sb = protowire.AppendTag(sb, 2, protowire.VarintType)
			sb = protowire.AppendVarint(sb, uint64(s.ts))
			ts = protowire.AppendTag(ts, 2, protowire.BytesType)
			ts = protowire.AppendBytes(ts, sb)
		}
		if histograms {
			ts = protowire.AppendTag(ts, 4, protowire.BytesType)
			ts = protowire.AppendBytes(ts, []byte{0x08, 0x01, 0x30, 0x01}) // count 1, zero_count 1
		}
		req = protowire.AppendTag(req, 1, protowire.BytesType)
		req = protowire.AppendBytes(req, ts)
	}
	for name, typ := range meta {
		var mb []byte
		mb = protowire.AppendTag(mb, 1, protowire.VarintType)
		mb = protowire.AppendVarint(mb, uint64(typ))
		mb = protowire.AppendTag(mb, 2, protowire.BytesType)
		mb = protowire.AppendString(mb, name)
		req = protowire.AppendTag(req, 3, protowire.BytesType)
		req = protowire.AppendBytes(req, mb)
	}
	return req
}

type memWriter struct {
	series  []store.Series
	samples []store.Sample
}

func (m *memWriter) WriteMetrics(_ context.Context, se []store.Series, sa []store.Sample) error {
	m.series = append(m.series, se...)
	m.samples = append(m.samples, sa...)
	return nil
}

func send(rc *Receiver, body []byte, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/api/v1/write", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	rc.ServeHTTP(rec, req)
	return rec
}

func newReceiver(w *memWriter) *Receiver {
	return &Receiver{Metrics: w, Limits: collector.BodyLimits{MaxBytes: 1 << 20, MaxDecodedBytes: 4 << 20}, Stats: collector.NewMetrics(nil)}
}

func TestRemoteWrite(t *testing.T) {
	w := &memWriter{}
	rc := newReceiver(w)
	body := encode(
		[][]label{
			{{"__name__", "http_requests_total"}, {"job", "api"}, {"code", "200"}, {"empty", ""}},
			{{"__name__", "latency_seconds_bucket"}, {"le", "0.5"}},
			{{"job", "no-name"}},
			{{"__name__", "dup"}, {"a", "1"}, {"a", "2"}},
			{{"__name__", "up"}},
		},
		[][]sample{
			{{1, 1000}, {2, 2000}},
			{{5, 1000}},
			{{1, 1000}},
			{{1, 1000}},
			{{1, 1000}, {math.Float64frombits(store.StaleNaN), 2000}},
		},
		map[string]int32{"http_requests_total": typeCounter, "latency_seconds": typeHistogram},
		false)
	rec := send(rc, snappy.Encode(nil, body), map[string]string{"X-Scope-OrgID": "acme"})
	if rec.Code != 204 {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	if got := rec.Header().Get("X-Vigil-Rejected"); got != "2: timeseries 2: no __name__ label" {
		t.Errorf("rejected header %q", got)
	}
	// up's staleness marker is stored with the values.
	if len(w.series) != 3 || len(w.samples) != 5 {
		t.Fatalf("stored %d series, %d samples", len(w.series), len(w.samples))
	}
	if !store.IsStaleNaN(w.samples[4].Value) || w.samples[4].TimestampMsec != 2000 {
		t.Errorf("staleness marker stored as %+v", w.samples[4])
	}
	s := w.series[0]
	if s.Tenant != "acme" || s.Name != "http_requests_total" || s.Type != store.MetricCounter || len(s.Labels) != 2 || s.Labels[0].Key != "code" {
		t.Errorf("series 0: %+v", s)
	}
	if w.series[1].Type != store.MetricHistogram {
		t.Errorf("bucket series type %d, want histogram from the family's metadata", w.series[1].Type)
	}
	if w.samples[1].Value != 2 || w.samples[1].TimestampMsec != 2000 {
		t.Errorf("sample %+v", w.samples[1])
	}
}

func TestRemoteWriteBadInput(t *testing.T) {
	good := snappy.Encode(nil, encode([][]label{{{"__name__", "up"}}}, [][]sample{{{1, 1}}}, nil, false))
	// A snappy header claiming 100 MB: refused before anything is allocated.
	bomb := binary.AppendUvarint(nil, 100<<20)
	bomb = append(bomb, 0, 0, 0)
	cases := []struct {
		name   string
		body   []byte
		hdr    map[string]string
		code   int
		substr string
	}{
		{"not snappy", []byte("hello"), nil, 400, "snappy"},
		{"truncated protobuf", snappy.Encode(nil, encode([][]label{{{"__name__", "up"}}}, [][]sample{{{1, 1}}}, nil, false)[:5]), nil, 400, "cannot decode remote-write protobuf"},
		{"bomb", bomb, nil, 413, "decompresses to"},
		{"unknown message", good, map[string]string{"Content-Type": "application/x-protobuf;proto=io.prometheus.write.v3.Request"}, 415, "unsupported remote-write message"},
		{"gzip", good, map[string]string{"Content-Encoding": "gzip"}, 415, "snappy-compressed"},
		{"json", good, map[string]string{"Content-Type": "application/json"}, 415, "Content-Type"},
	}
	for _, c := range cases {
		w := &memWriter{}
		rec := send(newReceiver(w), c.body, c.hdr)
		if rec.Code != c.code || !strings.Contains(rec.Body.String(), c.substr) || len(w.samples) != 0 {
			t.Errorf("%s: %d %q (%d samples stored)", c.name, rec.Code, rec.Body.String(), len(w.samples))
		}
	}
	w := &memWriter{}
	rec := send(newReceiver(w), snappy.Encode(nil, encode([][]label{{{"__name__", "h"}}}, [][]sample{{{1, 1}}}, nil, true)), nil)
	// A native histogram of count 1 is stored as classic series: le="0"
	// (the zero bucket), le="+Inf", _sum and _count.
	if rec.Code != 204 || rec.Header().Get("X-Vigil-Rejected") != "" || len(w.samples) != 5 {
		t.Errorf("native histogram: %d %q, %d samples", rec.Code, rec.Header().Get("X-Vigil-Rejected"), len(w.samples))
	}
}

func FuzzDecodeWriteRequest(f *testing.F) {
	f.Add(encode([][]label{{{"__name__", "up"}, {"a", "b"}}}, [][]sample{{{1, 1}}}, map[string]int32{"up": 2}, true))
	f.Add([]byte{0x0a, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := decodeWriteRequest(b)
		if err != nil {
			return
		}
		// Whatever decodes must convert without panicking.
		toRows("acme", req)
	})
}
