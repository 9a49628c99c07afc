// Package prom serves the subset of Prometheus' HTTP API that lets Grafana's
// Prometheus data source and scripts read what Vigil ingested: labels,
// label values, series, and instant and range queries of plain selectors.
package prom

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/tenant"
)

// LookbackDelta is how far back a query looks for a series' latest sample,
// Prometheus' default.
const LookbackDelta = 5 * time.Minute

// maxPoints bounds a range query, as Prometheus does.
const maxPoints = 11000

// API answers Prometheus API requests.
type API struct {
	Metrics store.MetricReader
	Now     func() time.Time // nil means time.Now
}

// Mux is where Register adds routes: an http.ServeMux, or the web port's
// auth.Mux, declaring the role every route here needs (viewer: all read).
type Mux interface {
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

// Register adds the routes to mux, for GET and for POST with a form body.
func (a *API) Register(mux Mux) {
	for _, m := range []string{"GET", "POST"} {
		mux.HandleFunc(m+" /api/v1/labels", a.handle(a.labels))
		mux.HandleFunc(m+" /api/v1/label/{name}/values", a.handle(a.labelValues))
		mux.HandleFunc(m+" /api/v1/series", a.handle(a.series))
		mux.HandleFunc(m+" /api/v1/query", a.handle(a.query))
		mux.HandleFunc(m+" /api/v1/query_range", a.handle(a.queryRange))
	}
}

type badData struct{ err error }

func (e *badData) Error() string { return e.err.Error() }

func bad(format string, args ...any) error { return &badData{fmt.Errorf(format, args...)} }

// handle writes Prometheus' envelope: {"status":"success","data":...} or
// {"status":"error","errorType":...,"error":...}.
func (a *API) handle(fn func(r *http.Request, tenant string) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		var data any
		org, err := tenant.FromHTTP(r)
		if err == nil {
			err = r.ParseForm()
		}
		if err == nil {
			data, err = fn(r, org)
		}
		if err != nil {
			code, typ := http.StatusInternalServerError, "internal"
			var bd *badData
			var bt *tenant.InvalidError
			if errors.As(err, &bd) || errors.As(err, &bt) {
				code, typ = http.StatusBadRequest, "bad_data"
			}
			w.WriteHeader(code)
			json.NewEncoder(w).Encode(map[string]any{"status": "error", "errorType": typ, "error": err.Error()})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": data})
	}
}

// matched returns the series any match[] selector selects; none selects
// every series.
func (a *API) matched(r *http.Request, org string, required bool) ([]store.Series, error) {
	sels := r.Form["match[]"]
	if len(sels) == 0 {
		if required {
			return nil, bad("no match[] parameter provided")
		}
		sels = []string{`{__name__=~".+"}`}
	}
	seen := map[uint64]bool{}
	var out []store.Series
	for _, sel := range sels {
		ms, err := store.ParseSelector(sel)
		if err != nil {
			return nil, &badData{err}
		}
		ss, err := a.Metrics.Series(r.Context(), org, ms)
		if err != nil {
			return nil, err
		}
		for _, s := range ss {
			if !seen[s.Fingerprint] {
				seen[s.Fingerprint] = true
				out = append(out, s)
			}
		}
	}
	store.SortSeries(out)
	return out, nil
}

func labelMap(s *store.Series) map[string]string {
	m := make(map[string]string, len(s.Labels)+1)
	m[store.MetricNameLabel] = s.Name
	for _, l := range s.Labels {
		m[l.Key] = l.Value
	}
	return m
}

func (a *API) labels(r *http.Request, org string) (any, error) {
	ss, err := a.matched(r, org, false)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for i := range ss {
		for k := range labelMap(&ss[i]) {
			set[k] = true
		}
	}
	return sortedKeys(set), nil
}

func (a *API) labelValues(r *http.Request, org string) (any, error) {
	name := r.PathValue("name")
	ss, err := a.matched(r, org, false)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for i := range ss {
		if v := ss[i].Label(name); v != "" {
			set[v] = true
		}
	}
	return sortedKeys(set), nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (a *API) series(r *http.Request, org string) (any, error) {
	ss, err := a.matched(r, org, true)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]string, len(ss))
	for i := range ss {
		out[i] = labelMap(&ss[i])
	}
	return out, nil
}

type matrixSeries struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
}

type vectorSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (a *API) queryRange(r *http.Request, org string) (any, error) {
	start, err := parseTime(r.Form.Get("start"), "start", time.Time{})
	if err != nil {
		return nil, err
	}
	end, err := parseTime(r.Form.Get("end"), "end", time.Time{})
	if err != nil {
		return nil, err
	}
	step, err := parseDuration(r.Form.Get("step"))
	if err != nil {
		return nil, err
	}
	if end.Before(start) {
		return nil, bad("end timestamp must not be before start time")
	}
	if step <= 0 {
		return nil, bad("zero or negative query resolution step widths are not accepted; try a positive integer")
	}
	if end.Sub(start)/step > maxPoints {
		return nil, bad("exceeded maximum resolution of %d points per timeseries; try decreasing the query resolution (?step=XX)", maxPoints)
	}
	var steps []time.Time
	for t := start; !t.After(end); t = t.Add(step) {
		steps = append(steps, t)
	}
	series, points, err := a.evaluate(r, org, steps)
	if err != nil {
		return nil, err
	}
	result := []matrixSeries{}
	for i := range series {
		if len(points[i]) == 0 {
			continue
		}
		result = append(result, matrixSeries{Metric: labelMap(&series[i]), Values: points[i]})
	}
	return map[string]any{"resultType": "matrix", "result": result}, nil
}

func (a *API) query(r *http.Request, org string) (any, error) {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	at, err := parseTime(r.Form.Get("time"), "time", now())
	if err != nil {
		return nil, err
	}
	series, points, err := a.evaluate(r, org, []time.Time{at})
	if err != nil {
		return nil, err
	}
	result := []vectorSample{}
	for i := range series {
		if len(points[i]) == 1 {
			result = append(result, vectorSample{Metric: labelMap(&series[i]), Value: points[i][0]})
		}
	}
	return map[string]any{"resultType": "vector", "result": result}, nil
}

// evaluate gives, for each series the query selects and each step, the
// latest sample at or before the step and within LookbackDelta of it.
func (a *API) evaluate(r *http.Request, org string, steps []time.Time) ([]store.Series, [][][2]any, error) {
	ms, err := store.ParseSelector(r.Form.Get("query"))
	if err != nil {
		return nil, nil, &badData{err}
	}
	series, err := a.Metrics.Series(r.Context(), org, ms)
	if err != nil {
		return nil, nil, err
	}
	fps := make([]uint64, len(series))
	index := make(map[uint64]int, len(series))
	for i, s := range series {
		fps[i], index[s.Fingerprint] = s.Fingerprint, i
	}
	first, last := steps[0], steps[len(steps)-1]
	samples, err := a.Metrics.Samples(r.Context(), org, fps, first.Add(-LookbackDelta+time.Millisecond), last.Add(time.Millisecond))
	if err != nil {
		return nil, nil, err
	}
	bySeries := make([][]store.Sample, len(series))
	for _, s := range samples {
		i := index[s.Fingerprint]
		bySeries[i] = append(bySeries[i], s)
	}
	points := make([][][2]any, len(series))
	for i, ss := range bySeries {
		j := 0
		for _, t := range steps {
			ms := t.UnixMilli()
			for j < len(ss) && ss[j].TimestampMsec <= ms {
				j++
			}
			if j == 0 || ss[j-1].TimestampMsec <= ms-LookbackDelta.Milliseconds() {
				continue
			}
			points[i] = append(points[i], [2]any{float64(ms) / 1000, formatValue(ss[j-1].Value)})
		}
	}
	return series, points, nil
}

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// parseTime reads RFC 3339 or Unix seconds (with a fraction), as Prometheus
// does.
func parseTime(s, name string, def time.Time) (time.Time, error) {
	if s == "" {
		if def.IsZero() {
			return def, bad("missing parameter %q", name)
		}
		return def, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, bad("invalid parameter %q: cannot parse %q to a valid timestamp", name, s)
}

// parseDuration reads seconds (with a fraction) or a Go/Prometheus
// duration.
func parseDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	return 0, bad("invalid parameter \"step\": cannot parse %q to a valid duration", s)
}
