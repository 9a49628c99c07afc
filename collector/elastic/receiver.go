package elastic

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/tenant"
)

// Receiver serves the bulk API's subset on the ingest port and writes the
// records through the pipeline, answering once they are durable.
type Receiver struct {
	Logs   store.LogWriter
	Limits collector.BodyLimits
	Rate   *collector.TenantLimiter // nil: no limit
	Stats  *collector.Metrics
	Now    func() time.Time // nil: time.Now
}

// Version is the Elasticsearch version GET / reports: clients of 7.x and
// 8.x (Filebeat and Logstash check the major; Elastic's Go client v8 checks
// the product header) send to it.
const Version = "8.11.0"

// Routes are the bulk API's routes; each needs the ingest role (or admin).
func (r *Receiver) Routes() []auth.Route {
	route := func(method, pattern string, h http.HandlerFunc) auth.Route {
		return auth.Route{Method: method, Pattern: pattern, Role: auth.Ingest, Handler: product(h)}
	}
	var out []auth.Route
	for _, m := range []string{"POST", "PUT"} {
		out = append(out,
			route(m, "/_bulk", r.handleBulk),
			route(m, "/{index}/_bulk", r.handleBulk),
			route(m, "/{index}/_doc/{id}", r.handleDoc),
			route(m, "/{index}/_create/{id}", r.handleDoc),
		)
	}
	return append(out, route("POST", "/{index}/_doc", r.handleDoc), route("GET", "/{$}", info))
}

// product marks every answer as Elasticsearch's, which Elastic's clients
// from 7.14 require before they read it.
func product(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		h(w, req)
	}
}

func (r *Receiver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// handleBulk serves POST /_bulk: every item is answered, refused ones
// with their own error, and the request fails as a whole only when the
// accepted records cannot be made durable (429 or 503, which shippers
// retry).
func (r *Receiver) handleBulk(w http.ResponseWriter, req *http.Request) {
	start := r.now()
	org, body, ok := r.read(w, req)
	if !ok {
		return
	}
	items := parseBulk(org, req.PathValue("index"), body, start)
	if len(items) == 0 {
		writeError(w, collector.BadRequest("the bulk request holds no action: send an action line and a document line for each record, each ending in a newline"))
		return
	}
	var recs []store.LogRecord
	for _, it := range items {
		if it.rec != nil {
			recs = append(recs, *it.rec)
		}
	}
	if err := r.write(req.Context(), org, recs, len(items)-len(recs)); err != nil {
		writeError(w, err)
		return
	}
	json.NewEncoder(w).Encode(response(items, r.now().Sub(start)))
}

// handleDoc serves one document: POST /{index}/_doc, PUT
// /{index}/_doc/{id} and /{index}/_create/{id}.
func (r *Receiver) handleDoc(w http.ResponseWriter, req *http.Request) {
	org, body, ok := r.read(w, req)
	if !ok {
		return
	}
	rec, err := record(org, req.PathValue("index"), body, r.now())
	if err != nil {
		r.Stats.Received.WithLabelValues(collector.SignalLogs, org).Inc()
		r.Stats.Refused.WithLabelValues(collector.SignalLogs, org, "invalid").Inc()
		writeError(w, collector.BadRequest("%v", err))
		return
	}
	id := req.PathValue("id")
	if id == "" {
		id = idOf(rec.ID)
	} else {
		rec.Attributes = append(rec.Attributes, store.KeyValue{Key: "elasticsearch.id", Value: id})
	}
	if err := r.write(req.Context(), org, []store.LogRecord{rec}, 0); err != nil {
		writeError(w, err)
		return
	}
	resp := response([]item{{action: "index", index: req.PathValue("index"), id: id, rec: &rec, status: 201}}, 0).Items[0]["index"]
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(resp)
}

// write counts and writes the accepted records of a request.
func (r *Receiver) write(ctx context.Context, org string, recs []store.LogRecord, refused int) error {
	r.Stats.Received.WithLabelValues(collector.SignalLogs, org).Add(float64(len(recs) + refused))
	if refused > 0 {
		r.Stats.Refused.WithLabelValues(collector.SignalLogs, org, "invalid").Add(float64(refused))
	}
	if len(recs) == 0 {
		return nil
	}
	if !r.Rate.Allow(org, len(recs)) {
		r.Stats.Refused.WithLabelValues(collector.SignalLogs, org, "rate_limited").Add(float64(len(recs)))
		return collector.ErrRateLimited
	}
	return r.Logs.WriteLogs(ctx, recs)
}

func (r *Receiver) read(w http.ResponseWriter, req *http.Request) (string, []byte, bool) {
	org, err := tenant.FromHTTP(req)
	var body []byte
	if err == nil {
		body, err = collector.ReadBody(req, r.Limits)
	}
	if err != nil {
		writeError(w, err)
		return "", nil, false
	}
	return org, body, true
}

// errorTypes name a request's failure as Elasticsearch would.
var errorTypes = map[int]string{
	http.StatusBadRequest:            "parse_exception",
	http.StatusRequestEntityTooLarge: "content_too_long_exception",
	http.StatusTooManyRequests:       "es_rejected_execution_exception",
	http.StatusServiceUnavailable:    "unavailable_shards_exception",
}

// writeError answers a failed request in Elasticsearch's error shape, with
// the status the collector gives the error (429 and 503 with Retry-After).
func writeError(w http.ResponseWriter, err error) {
	code := collector.HTTPStatus(err)
	if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	typ := errorTypes[code]
	if typ == "" {
		typ = "exception"
	}
	cause := map[string]string{"type": typ, "reason": err.Error()}
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{
		"error":  map[string]any{"root_cause": []any{cause}, "type": typ, "reason": err.Error()},
		"status": code,
	})
}

// info answers GET /, which Filebeat, Logstash and Elastic's clients ask
// before sending to learn the version.
func info(w http.ResponseWriter, _ *http.Request) {
	json.NewEncoder(w).Encode(map[string]any{
		"name":         "vigil",
		"cluster_name": "vigil",
		"cluster_uuid": "vigil-logs",
		"version": map[string]any{
			"number":                              Version,
			"build_flavor":                        "default",
			"build_type":                          "vigil",
			"lucene_version":                      "9.8.0",
			"minimum_wire_compatibility_version":  "7.17.0",
			"minimum_index_compatibility_version": "7.0.0",
		},
		"tagline": "You Know, for Search (Vigil's logs ingest: the bulk API's subset)",
	})
}
