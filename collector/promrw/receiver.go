package promrw

import (
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/klauspost/compress/snappy"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/tenant"
)

// Receiver serves POST /api/v1/write.
type Receiver struct {
	Metrics store.MetricWriter
	Limits  collector.BodyLimits
	Rate    *collector.TenantLimiter
	Stats   *collector.Metrics
}

// Route is remote write's route; sending needs the ingest role (or admin).
func (rc *Receiver) Route() auth.Route {
	return auth.Route{Method: "POST", Pattern: "/api/v1/write", Role: auth.Ingest, Handler: rc}
}

// ServeHTTP decodes, validates and writes one remote-write request. A
// series that is invalid (no name, repeated label) is dropped and counted;
// the rest of the request is still written, and the answer is 204 once it
// is durable. Remote-write 1.0 has no partial-success answer, so the reason
// goes to the log and the refused metric.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	org, err := tenant.FromHTTP(r)
	if err != nil {
		collector.WriteHTTPError(w, err)
		return
	}
	if err := checkHeaders(r); err != nil {
		collector.WriteHTTPError(w, err)
		return
	}
	req, err := rc.read(r)
	if err != nil {
		collector.WriteHTTPError(w, err)
		return
	}
	series, samples, rejected, msg := toRows(org, req)
	rc.Stats.Received.WithLabelValues(collector.SignalSamples, org).Add(float64(len(samples) + rejected))
	if rejected > 0 {
		rc.Stats.Refused.WithLabelValues(collector.SignalSamples, org, "invalid").Add(float64(rejected))
		w.Header().Set("X-Vigil-Rejected", fmt.Sprintf("%d: %s", rejected, msg))
	}
	if len(samples) > 0 {
		if !rc.Rate.Allow(org, len(samples)) {
			rc.Stats.Refused.WithLabelValues(collector.SignalSamples, org, "rate_limited").Add(float64(len(samples)))
			collector.WriteHTTPError(w, collector.ErrRateLimited)
			return
		}
		if err := rc.Metrics.WriteMetrics(r.Context(), series, samples); err != nil {
			collector.WriteHTTPError(w, err)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func checkHeaders(r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-protobuf" {
			return collector.BadRequest("unsupported Content-Type %q: remote write takes application/x-protobuf", ct)
		}
		if p := params["proto"]; p != "" && p != "prometheus.WriteRequest" {
			return collector.BadRequest("unsupported remote-write message %q: only remote write 1.0 (prometheus.WriteRequest) is supported", p)
		}
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && enc != "snappy" {
		return collector.BadRequest("unsupported Content-Encoding %q: remote write is snappy-compressed", enc)
	}
	return nil
}

func (rc *Receiver) read(r *http.Request) (*writeRequest, error) {
	// The body is snappy block format, not a Content-Encoding to undo:
	// read it raw, then check the decoded length before allocating it.
	raw, err := collector.ReadBody(withoutEncoding(r), collector.BodyLimits{MaxBytes: rc.Limits.MaxBytes, MaxDecodedBytes: rc.Limits.MaxBytes})
	if err != nil {
		return nil, err
	}
	n, err := snappy.DecodedLen(raw)
	if err != nil {
		return nil, collector.BadRequest("cannot decode snappy body: %v", err)
	}
	if int64(n) > rc.Limits.MaxDecodedBytes {
		return nil, fmt.Errorf("%w: snappy body decompresses to %d bytes, the limit is %d", collector.ErrTooLarge, n, rc.Limits.MaxDecodedBytes)
	}
	b, err := snappy.Decode(nil, raw)
	if err != nil {
		return nil, collector.BadRequest("cannot decode snappy body: %v", err)
	}
	req, err := decodeWriteRequest(b)
	if err != nil {
		return nil, collector.BadRequest("cannot decode remote-write protobuf: %v", err)
	}
	return req, nil
}

func withoutEncoding(r *http.Request) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Header.Del("Content-Encoding")
	r2.Body = r.Body
	return r2
}

// prompb.MetricType values.
const (
	typeCounter   = 1
	typeGauge     = 2
	typeHistogram = 3
	typeSummary   = 5
)

func toRows(org string, req *writeRequest) (series []store.Series, samples []store.Sample, rejected int, msg string) {
	reject := func(n int, format string, args ...any) {
		if rejected == 0 {
			msg = fmt.Sprintf(format, args...)
		}
		rejected += n
	}
	for i, ts := range req.series {
		if ts.histograms > 0 {
			reject(ts.histograms, "timeseries %d: native histograms are not supported", i)
		}
		var name string
		labels := make(store.Attributes, 0, len(ts.labels))
		seen := make(map[string]bool, len(ts.labels))
		bad := ""
		for _, l := range ts.labels {
			if seen[l.name] {
				bad = fmt.Sprintf("label %q appears twice", l.name)
				break
			}
			seen[l.name] = true
			if l.name == store.MetricNameLabel {
				name = l.value
			} else if l.value != "" { // an empty label is the same as no label
				labels = append(labels, store.KeyValue{Key: l.name, Value: l.value})
			}
		}
		if bad == "" && name == "" {
			bad = "no __name__ label"
		}
		if bad != "" {
			reject(len(ts.samples), "timeseries %d: %s", i, bad)
			continue
		}
		if len(ts.samples) == 0 {
			continue
		}
		s := store.NewSeries(org, name, metricType(req.metadata, name), labels)
		series = append(series, s)
		// Staleness markers (store.StaleNaN) are stored like any sample:
		// PromQL ends the series at them.
		for _, sm := range ts.samples {
			samples = append(samples, store.Sample{Tenant: org, Fingerprint: s.Fingerprint, TimestampMsec: sm.ts, Value: sm.value})
		}
	}
	return series, samples, rejected, msg
}

// metricType finds a series' type from the request's metadata, which names
// metric families (a histogram family covers its _bucket, _sum and _count).
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
