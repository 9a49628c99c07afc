package splunk

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

// Receiver serves HEC's endpoints on the ingest port and writes through
// the pipeline, answering once the events are durable.
type Receiver struct {
	Logs   store.LogWriter
	Limits collector.BodyLimits
	Rate   *collector.TenantLimiter // nil: no limit
	Stats  *collector.Metrics
	Now    func() time.Time // nil: time.Now
}

// Routes are HEC's routes, with and without the /1.0 suffix senders use;
// each needs the ingest role (or admin), the health check too, since it
// tells a sender its token works.
func (r *Receiver) Routes() []auth.Route {
	var out []auth.Route
	add := func(pattern string, h http.HandlerFunc) {
		for _, p := range []string{pattern, pattern + "/1.0"} {
			out = append(out, auth.Route{Method: "POST", Pattern: p, Role: auth.Ingest, Handler: h})
		}
	}
	add("/services/collector", r.handleEvent)
	add("/services/collector/event", r.handleEvent)
	add("/services/collector/raw", r.handleRaw)
	for _, p := range []string{"/services/collector/health", "/services/collector/health/1.0"} {
		out = append(out, auth.Route{Method: "GET", Pattern: p, Role: auth.Ingest, Handler: http.HandlerFunc(health)})
	}
	return out
}

func (r *Receiver) handleEvent(w http.ResponseWriter, req *http.Request) {
	r.serve(w, req, parseEvents)
}

func (r *Receiver) handleRaw(w http.ResponseWriter, req *http.Request) {
	r.serve(w, req, parseRaw)
}

// serve stores every valid event of a request; when one was invalid the
// answer is HEC's 400 naming it (invalid-event-number), and the others
// are stored nonetheless: a sender that drops the batch on 400 loses only
// what was wrong, one that resends it duplicates the rest (as Splunk does).
func (r *Receiver) serve(w http.ResponseWriter, req *http.Request, parse func(string, []byte, meta, time.Time) ([]store.LogRecord, *invalid)) {
	org, err := tenant.FromHTTP(req)
	var body []byte
	if err == nil {
		body, err = collector.ReadBody(req, r.Limits)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	q := req.URL.Query()
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	recs, bad := parse(org, body, meta{host: q.Get("host"), source: q.Get("source"), sourceType: q.Get("sourcetype"), index: q.Get("index")}, now)
	refused := 0
	if bad != nil && bad.code != codeNoData {
		refused = 1
	}
	if err := r.write(req.Context(), org, recs, refused); err != nil {
		writeError(w, err)
		return
	}
	if bad != nil {
		answer(w, http.StatusBadRequest, bad)
		return
	}
	answer(w, http.StatusOK, &invalid{code: codeSuccess, text: "Success", number: -1})
}

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

// answer writes HEC's JSON answer.
func answer(w http.ResponseWriter, status int, a *invalid) {
	body := map[string]any{"text": a.text, "code": a.code}
	if a.number >= 0 {
		body["invalid-event-number"] = a.number
	}
	if a.detail != "" {
		body["detail"] = a.detail // beyond Splunk's answer: what was wrong
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

// writeError answers a request that failed as a whole: HEC's "server is
// busy" (code 9) for backpressure and outages, which senders retry.
func writeError(w http.ResponseWriter, err error) {
	code := collector.HTTPStatus(err)
	a := &invalid{code: codeInvalidFormat, text: "Invalid data format", number: -1, detail: err.Error()}
	switch code {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "5")
		a = &invalid{code: codeServerBusy, text: "Server is busy", number: -1, detail: err.Error()}
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
	default:
		a.text, a.code = "Internal server error", 8
	}
	answer(w, code, a)
}

func health(w http.ResponseWriter, _ *http.Request) {
	answer(w, http.StatusOK, &invalid{code: codeHealthy, text: "HEC is healthy", number: -1})
}
