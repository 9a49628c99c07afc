// Package prom serves the Prometheus HTTP API under /prometheus/api/v1
// (Mimir's convention, so it never collides with Vigil's own /api/v1),
// answered by Prometheus's PromQL engine over Vigil's store
// (querier.Engine): instant and range queries, series, label names and
// values, metadata, build information, query formatting, and the rules,
// alerts and exemplars endpoints. Responses are byte for byte what
// Prometheus writes, so Grafana's Prometheus data source and Prometheus's
// own clients read them.
package prom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/vigil-dev/vigil/querier"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/tenant"
)

// Prefix is where the API is served.
const Prefix = "/prometheus/api/v1"

// API answers Prometheus API requests for the request's tenant.
type API struct {
	Engine *querier.Engine
	// Store answers what the engine does not: metric metadata.
	Store store.MetricQuerier
	// Spans answers exemplars: the slowest spans of the latency series
	// counted from spans. Nil answers none.
	Spans store.SpanExemplarReader
	// SLOs returns the SLOs of the config directory, whose Prometheus
	// rules /rules lists; nil lists none.
	SLOs func() []*slo.SLO
	// Events holds the SLO alert events /alerts and /rules read; nil
	// answers no alerts.
	Events store.EventReader
	Now    func() time.Time // nil means time.Now
}

// Register adds the routes to mux, with the methods Prometheus accepts.
func (a *API) Register(mux Mux) {
	for path, fn := range map[string]apiFunc{
		"/query":               a.query,
		"/query_range":         a.queryRange,
		"/query_exemplars":     a.queryExemplars,
		"/format_query":        a.formatQuery,
		"/series":              a.series,
		"/labels":              a.labelNames,
		"/label/{name}/values": a.labelValues,
		"/metadata":            a.metadata,
		"/status/buildinfo":    a.buildInfo,
		"/rules":               a.rules,
		"/alerts":              a.alerts,
	} {
		mux.HandleFunc("GET "+Prefix+path, a.handle(fn))
		if postable[path] {
			mux.HandleFunc("POST "+Prefix+path, a.handle(fn))
		}
	}
}

// Mux is where Register adds routes: an http.ServeMux, or the web port's
// route table, which declares the role they need.
type Mux interface {
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

// postable are the paths Prometheus also answers with a form body.
var postable = map[string]bool{"/query": true, "/query_range": true, "/query_exemplars": true, "/format_query": true, "/series": true, "/labels": true}

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// errorType is Prometheus's errorType, which decides the status code.
type errorType string

const (
	errorTimeout  errorType = "timeout"
	errorCanceled errorType = "canceled"
	errorExec     errorType = "execution"
	errorBadData  errorType = "bad_data"
	errorInternal errorType = "internal"
)

// statusClientClosedConnection is nginx's code, which Prometheus uses too.
const statusClientClosedConnection = 499

var statusCodes = map[errorType]int{
	errorTimeout:  http.StatusServiceUnavailable,
	errorCanceled: statusClientClosedConnection,
	errorExec:     http.StatusUnprocessableEntity,
	errorBadData:  http.StatusBadRequest,
	errorInternal: http.StatusInternalServerError,
}

type apiError struct {
	typ errorType
	err error
}

func badData(err error) *apiError { return &apiError{errorBadData, err} }

// invalidParam is Prometheus's message for a parameter it cannot read.
func invalidParam(name string, err error) *apiError {
	return badData(fmt.Errorf("invalid parameter %q: %w", name, err))
}

// execError classifies an error of the engine or the store as Prometheus
// does: what the store failed at is internal, anything else the query's.
func execError(err error) *apiError {
	var canceled promql.ErrQueryCanceled
	var timeout promql.ErrQueryTimeout
	var storage promql.ErrStorage
	switch {
	case errors.As(err, &canceled), errors.Is(err, context.Canceled):
		return &apiError{errorCanceled, err}
	case errors.As(err, &timeout):
		return &apiError{errorTimeout, err}
	case errors.Is(err, context.DeadlineExceeded):
		// The deadline can pass before the engine looks at it (while a
		// query is prepared or its series are selected); Prometheus's
		// engine names it a timeout wherever it passes.
		return &apiError{errorTimeout, promql.ErrQueryTimeout("query execution")}
	case errors.As(err, &storage):
		return &apiError{errorInternal, err}
	}
	return &apiError{errorExec, err}
}

// result is what a handler answers: data, or an error; warnings; and what
// to release once the response is written.
type result struct {
	data     any
	err      *apiError
	warnings annotations.Annotations
	release  func()
}

type apiFunc func(r *http.Request, tenant string) result

// handle reads the tenant and the form, runs fn and writes Prometheus's
// envelope. A handler without data answers 204, as Prometheus does.
func (a *API) handle(fn apiFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		org, err := tenant.FromHTTP(r)
		if err != nil {
			writeError(w, badData(err))
			return
		}
		if err := r.ParseForm(); err != nil {
			writeError(w, badData(fmt.Errorf("error parsing form values: %w", err)))
			return
		}
		res := fn(r, org)
		if res.release != nil {
			defer res.release()
		}
		switch {
		case res.err != nil:
			writeError(w, res.err)
		case res.data == nil:
			w.WriteHeader(http.StatusNoContent)
		default:
			writeData(w, res.data, res.warnings, r.FormValue("query"))
		}
	}
}

// writeData writes {"status":"success","data":...} with the warnings and
// infos, ten of each at most, placed in the query as Prometheus does.
func writeData(w http.ResponseWriter, data any, ws annotations.Annotations, query string) {
	warnings, infos := ws.AsStrings(query, 10, 10)
	var e encoder
	e.raw(`{"status":"success","data":`)
	err := e.data(data)
	if len(warnings) > 0 {
		e.raw(`,"warnings":`)
		err = errors.Join(err, e.json(warnings))
	}
	if len(infos) > 0 {
		e.raw(`,"infos":`)
		err = errors.Join(err, e.json(infos))
	}
	e.raw(`}`)
	if err != nil {
		writeError(w, &apiError{errorInternal, fmt.Errorf("cannot encode the response: %w", err)})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(e.buf)
}

func writeError(w http.ResponseWriter, e *apiError) {
	var enc encoder
	enc.raw(`{"status":"error","errorType":"` + string(e.typ) + `","error":`)
	enc.json(e.err.Error())
	enc.raw(`}`)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(statusCodes[e.typ])
	w.Write(enc.buf)
}
