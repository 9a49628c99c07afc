package promrw

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"

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

// The protobuf messages of remote write 1.0 and 2.0, as the Content-Type's
// proto parameter names them.
const (
	protoV1 = "prometheus.WriteRequest"
	protoV2 = "io.prometheus.write.v2.Request"
)

// ServeHTTP decodes, validates and writes one remote-write request. A
// series that is invalid (no name, repeated label, unknown symbol) is
// dropped and counted; the rest of the request is still written. Remote
// write 1.0 has no partial-success answer, so 1.0 answers 204 and names
// the reason in X-Vigil-Rejected; 2.0 answers 400 with the reason, and
// both 2.0 answers say what was written in the
// X-Prometheus-Remote-Write-*-Written headers, as Prometheus's receiver
// does.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	org, err := tenant.FromHTTP(r)
	if err != nil {
		collector.WriteHTTPError(w, err)
		return
	}
	proto, err := checkHeaders(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnsupportedMediaType)
		return
	}
	b, err := rc.read(r)
	if err != nil {
		collector.WriteHTTPError(w, err)
		return
	}
	rows, err := decode(org, proto, b)
	if err != nil {
		collector.WriteHTTPError(w, collector.BadRequest("cannot decode remote-write protobuf: %v", err))
		return
	}
	if err := rc.write(r, org, rows); err != nil {
		collector.WriteHTTPError(w, err)
		return
	}
	if proto == protoV2 {
		h := w.Header()
		h.Set("X-Prometheus-Remote-Write-Samples-Written", strconv.Itoa(rows.floats))
		h.Set("X-Prometheus-Remote-Write-Histograms-Written", strconv.Itoa(rows.histograms))
		h.Set("X-Prometheus-Remote-Write-Exemplars-Written", "0")
		if rows.rejected > 0 {
			http.Error(w, fmt.Sprintf("%d samples rejected: %s", rows.rejected, rows.msg), http.StatusBadRequest)
			return
		}
	} else if rows.rejected > 0 {
		w.Header().Set("X-Vigil-Rejected", fmt.Sprintf("%d: %s", rows.rejected, rows.msg))
	}
	w.WriteHeader(http.StatusNoContent)
}

func decode(org, proto string, b []byte) (*rows, error) {
	if proto == protoV2 {
		req, err := decodeRequestV2(b)
		if err != nil {
			return nil, err
		}
		return toRowsV2(org, req), nil
	}
	req, err := decodeWriteRequest(b)
	if err != nil {
		return nil, err
	}
	return toRows(org, req), nil
}

func (rc *Receiver) write(r *http.Request, org string, rows *rows) error {
	rc.Stats.Received.WithLabelValues(collector.SignalSamples, org).Add(float64(len(rows.samples) + rows.rejected))
	if rows.rejected > 0 {
		rc.Stats.Refused.WithLabelValues(collector.SignalSamples, org, "invalid").Add(float64(rows.rejected))
	}
	if len(rows.samples) == 0 && len(rows.series) == 0 {
		return nil
	}
	if !rc.Rate.Allow(org, len(rows.samples)) {
		rc.Stats.Refused.WithLabelValues(collector.SignalSamples, org, "rate_limited").Add(float64(len(rows.samples)))
		return collector.ErrRateLimited
	}
	return rc.Metrics.WriteMetrics(r.Context(), rows.series, rows.samples)
}

// checkHeaders returns the message a request carries, or why it cannot be
// read: an unsupported media type, as Prometheus answers it (415).
func checkHeaders(r *http.Request) (string, error) {
	proto := protoV1
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-protobuf" {
			return "", fmt.Errorf("unsupported Content-Type %q: remote write takes application/x-protobuf", ct)
		}
		if p := params["proto"]; p != "" {
			proto = p
		}
		if proto != protoV1 && proto != protoV2 {
			return "", fmt.Errorf("unsupported remote-write message %q: want %s (1.0) or %s (2.0)", proto, protoV1, protoV2)
		}
	}
	// A missing Content-Encoding is snappy too: remote write 1.0 senders
	// did not always say.
	if enc := r.Header.Get("Content-Encoding"); enc != "" && enc != "snappy" {
		return "", fmt.Errorf("unsupported Content-Encoding %q: remote write is snappy-compressed", enc)
	}
	return proto, nil
}

func (rc *Receiver) read(r *http.Request) ([]byte, error) {
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
	return b, nil
}

func withoutEncoding(r *http.Request) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Header.Del("Content-Encoding")
	r2.Body = r.Body
	return r2
}

// errNoName is a series without a metric name.
var errNoName = errors.New("no __name__ label")
