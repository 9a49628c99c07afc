// Package jaeger serves Jaeger's query API (/api/services, /api/traces, ...)
// from the store, so Grafana's Jaeger data source and the Jaeger UI can read
// Vigil's traces.
package jaeger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/tenant"
)

// API answers Jaeger query requests.
type API struct {
	Spans store.SpanReader
	Now   func() time.Time // nil means time.Now
}

// Register adds the routes to mux; every one is a read, for viewers.
func (a *API) Register(mux *auth.Mux) {
	for _, rt := range []struct {
		pattern string
		fn      func(r *http.Request, tenant string) (any, int, error)
	}{
		{"/api/services", a.services},
		{"/api/services/{service}/operations", a.operations},
		{"/api/operations", a.operations},
		{"/api/traces", a.findTraces},
		{"/api/traces/{traceID}", a.trace},
	} {
		mux.Handle(auth.Route{Method: "GET", Pattern: rt.pattern, Role: auth.Viewer, Handler: a.handle(rt.fn)})
	}
}

// httpError carries a status for the one place that writes errors.
type httpError struct {
	code int
	err  error
}

func (e *httpError) Error() string { return e.err.Error() }

func badRequest(format string, args ...any) error {
	return &httpError{code: http.StatusBadRequest, err: fmt.Errorf(format, args...)}
}

// handle runs an endpoint and writes its result or error in Jaeger's
// envelope.
func (a *API) handle(fn func(r *http.Request, tenant string) (any, int, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		org, err := tenant.FromHTTP(r)
		var data any
		var total int
		if err == nil {
			data, total, err = fn(r, org)
		}
		if err != nil {
			code := http.StatusInternalServerError
			var he *httpError
			var bad *tenant.InvalidError
			switch {
			case errors.As(err, &he):
				code = he.code
			case errors.As(err, &bad):
				code = http.StatusBadRequest
			case errors.Is(err, store.ErrNotFound):
				code = http.StatusNotFound
			}
			w.WriteHeader(code)
			json.NewEncoder(w).Encode(response{Errors: []apiError{{Code: code, Message: err.Error()}}})
			return
		}
		json.NewEncoder(w).Encode(response{Data: data, Total: total})
	}
}

func (a *API) services(r *http.Request, tenant string) (any, int, error) {
	s, err := a.Spans.Services(r.Context(), tenant)
	if s == nil {
		s = []string{}
	}
	return s, len(s), err
}

// operations serves both /api/services/{service}/operations (names only,
// the form Grafana reads) and /api/operations?service=&spanKind= (names with
// kinds, the form the Jaeger UI reads).
func (a *API) operations(r *http.Request, tenant string) (any, int, error) {
	service := r.PathValue("service")
	namesOnly := service != ""
	if !namesOnly {
		service = r.URL.Query().Get("service")
		if service == "" {
			return nil, 0, badRequest("parameter 'service' is required")
		}
	}
	ops, err := a.Spans.Operations(r.Context(), tenant, service)
	if err != nil {
		return nil, 0, err
	}
	if namesOnly {
		names := []string{}
		for i, op := range ops {
			if i == 0 || ops[i-1].Name != op.Name {
				names = append(names, op.Name)
			}
		}
		return names, len(names), nil
	}
	kind := r.URL.Query().Get("spanKind")
	out := []operation{}
	for _, op := range ops {
		if kind == "" || op.Kind.String() == kind {
			out = append(out, operation{Name: op.Name, SpanKind: op.Kind.String()})
		}
	}
	return out, len(out), nil
}

func (a *API) trace(r *http.Request, tenant string) (any, int, error) {
	id, err := store.ParseTraceID(r.PathValue("traceID"))
	if err != nil {
		return nil, 0, badRequest("%v", err)
	}
	spans, err := a.Spans.Trace(r.Context(), tenant, id)
	if err != nil {
		return nil, 0, err
	}
	return []trace{toTrace(spans)}, 1, nil
}

func (a *API) findTraces(r *http.Request, tenant string) (any, int, error) {
	q, ids, err := a.parseQuery(r, tenant)
	if err != nil {
		return nil, 0, err
	}
	if len(ids) == 0 {
		if q.Service == "" {
			return nil, 0, badRequest("parameter 'service' is required")
		}
		ids, err = a.Spans.FindTraceIDs(r.Context(), q)
		if err != nil {
			return nil, 0, err
		}
	}
	traces, err := a.load(r.Context(), tenant, ids)
	return traces, len(traces), err
}

// load reads the traces of ids in one store call; one dropped by retention
// since it was found is left out.
func (a *API) load(ctx context.Context, tenant string, ids []store.TraceID) ([]trace, error) {
	traces, err := a.Spans.Traces(ctx, tenant, ids)
	if err != nil {
		return nil, err
	}
	out := make([]trace, 0, len(traces))
	for _, spans := range traces {
		out = append(out, toTrace(spans))
	}
	return out, nil
}

// parseQuery reads the search parameters the Jaeger UI and Grafana send;
// traceID parameters ask for those traces directly.
func (a *API) parseQuery(r *http.Request, tenant string) (store.TraceQuery, []store.TraceID, error) {
	v := r.URL.Query()
	q := store.TraceQuery{Tenant: tenant, Service: v.Get("service"), Operation: v.Get("operation")}
	var ids []store.TraceID
	for _, s := range v["traceID"] {
		id, err := store.ParseTraceID(s)
		if err != nil {
			return q, nil, badRequest("%v", err)
		}
		ids = append(ids, id)
	}
	var err error
	if q.MinDuration, err = duration(v.Get("minDuration"), "minDuration"); err != nil {
		return q, nil, err
	}
	if q.MaxDuration, err = duration(v.Get("maxDuration"), "maxDuration"); err != nil {
		return q, nil, err
	}
	if q.Limit, err = integer(v.Get("limit"), "limit"); err != nil {
		return q, nil, err
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	end := now()
	if s := v.Get("end"); s != "" {
		us, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return q, nil, badRequest("cannot parse end %q: want microseconds since the epoch", s)
		}
		end = time.UnixMicro(us)
	}
	start := end.Add(-time.Hour)
	if lb := v.Get("lookback"); lb != "" && lb != "custom" {
		d, err := time.ParseDuration(lb)
		if err != nil {
			return q, nil, badRequest("cannot parse lookback %q: %v", lb, err)
		}
		start = end.Add(-d)
	}
	if s := v.Get("start"); s != "" {
		us, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return q, nil, badRequest("cannot parse start %q: want microseconds since the epoch", s)
		}
		start = time.UnixMicro(us)
	}
	// end is inclusive in Jaeger's API.
	q.Start, q.End = start, end.Add(time.Microsecond)
	q.Tags, err = parseTags(v["tags"], v["tag"])
	return q, ids, err
}

// parseTags reads tags={"k":"v"} (JSON, as the UI and Grafana send it) and
// repeated tag=k:v.
func parseTags(jsonTags, pairTags []string) (map[string]string, error) {
	out := map[string]string{}
	for _, js := range jsonTags {
		var m map[string]any
		if err := json.Unmarshal([]byte(js), &m); err != nil {
			return nil, badRequest("cannot parse tags %q: want a JSON object of strings: %v", js, err)
		}
		for k, v := range m {
			switch x := v.(type) {
			case string:
				out[k] = x
			default:
				b, _ := json.Marshal(x)
				out[k] = string(b)
			}
		}
	}
	for _, p := range pairTags {
		k, v, ok := strings.Cut(p, ":")
		if !ok {
			return nil, badRequest("cannot parse tag %q: want key:value", p)
		}
		out[k] = v
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func duration(s, name string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, badRequest("cannot parse %s %q: %v", name, s, err)
	}
	return d, nil
}

func integer(s, name string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, badRequest("cannot parse %s %q: want a non-negative integer", name, s)
	}
	return n, nil
}
