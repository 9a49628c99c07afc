package prom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/annotations"
	"github.com/prometheus/prometheus/util/stats"

	"github.com/vigil-dev/vigil/querier"
)

// maxPoints bounds the steps of a range query, as Prometheus does.
const maxPoints = 11000

// queryOptions are the parameters query and query_range share: the
// deadline the timeout parameter sets, and a lookback delta override.
func queryOptions(r *http.Request) (ctx context.Context, cancel context.CancelFunc, lookback time.Duration, err *apiError) {
	ctx, cancel = r.Context(), func() {}
	if s := r.FormValue("timeout"); s != "" {
		d, e := parseDuration(s)
		if e == nil && d <= 0 {
			e = fmt.Errorf("timeout must be positive, got %s", d)
		}
		if e != nil {
			return ctx, cancel, 0, invalidParam("timeout", e)
		}
		ctx, cancel = context.WithTimeout(ctx, d)
	}
	if s := r.FormValue("lookback_delta"); s != "" {
		d, e := parseDuration(s)
		if e != nil {
			cancel()
			return ctx, func() {}, 0, badData(fmt.Errorf("error parsing lookback delta duration: %w", e))
		}
		lookback = d
	}
	return ctx, cancel, lookback, nil
}

func (a *API) query(r *http.Request, org string) result {
	limit, aerr := limitParam(r)
	if aerr != nil {
		return result{err: aerr}
	}
	ts, ok, aerr := timeParam(r, "time")
	if aerr != nil {
		return result{err: aerr}
	}
	if !ok {
		ts = a.now()
	}
	ctx, cancel, lookback, aerr := queryOptions(r)
	defer cancel()
	if aerr != nil {
		return result{err: aerr}
	}
	q, err := a.Engine.NewInstantQuery(ctx, org, r.FormValue("query"), ts, lookback)
	if err != nil {
		return result{err: prepareError(err)}
	}
	return run(ctx, q, limit, r.FormValue("stats") != "")
}

func (a *API) queryRange(r *http.Request, org string) result {
	limit, aerr := limitParam(r)
	if aerr != nil {
		return result{err: aerr}
	}
	start, err := parseTime(r.FormValue("start"))
	if err != nil {
		return result{err: invalidParam("start", err)}
	}
	end, err := parseTime(r.FormValue("end"))
	if err != nil {
		return result{err: invalidParam("end", err)}
	}
	if end.Before(start) {
		return result{err: invalidParam("end", errors.New("end timestamp must not be before start time"))}
	}
	step, err := parseDuration(r.FormValue("step"))
	if err != nil {
		return result{err: invalidParam("step", err)}
	}
	if step <= 0 {
		return result{err: invalidParam("step", errors.New("zero or negative query resolution step widths are not accepted. Try a positive integer"))}
	}
	if end.Sub(start)/step > maxPoints {
		return result{err: badData(errors.New("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"))}
	}
	ctx, cancel, lookback, aerr := queryOptions(r)
	defer cancel()
	if aerr != nil {
		return result{err: aerr}
	}
	q, err := a.Engine.NewRangeQuery(ctx, org, r.FormValue("query"), start, end, step, lookback)
	if err != nil {
		return result{err: prepareError(err)}
	}
	return run(ctx, q, limit, r.FormValue("stats") != "")
}

// run executes a prepared query; the result holds the query open until
// the response is written, as the engine pools its points. With withStats
// the data carries the engine's timings and sample counts, as Prometheus
// answers a stats parameter.
func run(ctx context.Context, q *querier.Query, limit int, withStats bool) result {
	res := q.Exec(ctx)
	if res.Err != nil {
		return result{err: execError(res.Err), warnings: res.Warnings, release: q.Close}
	}
	val, ws := truncate(res.Value, limit, res.Warnings)
	data := &queryData{ResultType: res.Value.Type(), Result: val}
	if withStats {
		data.Stats = stats.NewQueryStats(q.Stats())
	}
	return result{data: data, warnings: ws, release: q.Close}
}

// truncate keeps the first limit series of a result.
func truncate(v parser.Value, limit int, ws annotations.Annotations) (parser.Value, annotations.Annotations) {
	if limit <= 0 {
		return v, ws
	}
	switch vv := v.(type) {
	case promql.Vector:
		if len(vv) > limit {
			return vv[:limit], ws.Add(truncated)
		}
	case promql.Matrix:
		if len(vv) > limit {
			return vv[:limit], ws.Add(truncated)
		}
	}
	return v, ws
}

func (a *API) formatQuery(r *http.Request, _ string) result {
	expr, err := a.Engine.Parser().ParseExpr(r.FormValue("query"))
	if err != nil {
		return result{err: invalidParam("query", err)}
	}
	return result{data: expr.Pretty(0)}
}

// prepareError classifies an error preparing a query: the query's own fault
// (it does not parse), unless its deadline passed meanwhile.
func prepareError(err error) *apiError {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return execError(err)
	}
	return invalidParam("query", err)
}
