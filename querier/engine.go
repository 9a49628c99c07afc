// Package querier runs PromQL over Vigil's metric store: Prometheus's own
// engine (github.com/prometheus/prometheus/promql) over a storage.Queryable
// that pushes label matchers and time ranges down to the store
// (store.MetricQuerier) and streams each selector's samples in batches, as
// Thanos's and Mimir's queriers do over theirs. One Engine, with its limits,
// serves the HTTP API (web/prom) and the SLO evaluator (QueryRange).
//
// It is named for what it owns, as Mimir's and Cortex's querier is: a
// package named promql would shadow Prometheus's in every file that imports
// both.
package querier

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigil-dev/vigil/store"
)

// Options are the engine's limits, with Prometheus's flags' meanings.
type Options struct {
	// LookbackDelta is how far back an instant selector looks for a
	// series' latest sample.
	LookbackDelta time.Duration
	// Timeout bounds one query, its wait for a slot included.
	Timeout time.Duration
	// MaxSamples bounds the samples one query holds in memory at once.
	MaxSamples int
	// MaxConcurrency is how many queries run at once; the others wait.
	MaxConcurrency int
	Logger         *slog.Logger
	// Registerer gets the engine's prometheus_engine_* metrics; nil keeps
	// none.
	Registerer prometheus.Registerer
}

// DefaultOptions are Prometheus's defaults.
var DefaultOptions = Options{LookbackDelta: 5 * time.Minute, Timeout: 2 * time.Minute, MaxSamples: 50_000_000, MaxConcurrency: 20}

// subqueryStep is the step of a subquery that names none: Prometheus's
// default global evaluation_interval.
const subqueryStep = time.Minute

// Engine evaluates PromQL for any tenant.
type Engine struct {
	store  store.MetricQuerier
	engine *promql.Engine
	parser parser.Parser
}

// ParseExpr parses PromQL as every engine does: what lint checks queries
// with before any engine runs them.
func ParseExpr(qs string) (parser.Expr, error) { return newParser().ParseExpr(qs) }

func newParser() parser.Parser { return parser.NewParser(parser.Options{}) }

// NewEngine returns an engine reading from s.
func NewEngine(s store.MetricQuerier, o Options) *Engine {
	p := newParser()
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e := promql.NewEngine(promql.EngineOpts{
		Logger:     logger,
		Reg:        o.Registerer,
		MaxSamples: o.MaxSamples,
		Timeout:    o.Timeout,
		// A slot per query, held in memory: Prometheus's own tracker also
		// logs queries to a file under its data directory.
		ActiveQueryTracker:       newSlots(o.MaxConcurrency),
		LookbackDelta:            o.LookbackDelta,
		NoStepSubqueryIntervalFn: func(int64) int64 { return subqueryStep.Milliseconds() },
		// On in Prometheus since 2.33.
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
		Parser:               p,
	})
	return &Engine{store: s, engine: e, parser: p}
}

// Parser parses PromQL as the engine does.
func (e *Engine) Parser() parser.Parser { return e.parser }

// Querier reads the tenant's series in [mint, maxt] (Unix milliseconds)
// directly, for series, label names and values. Close returns the first
// read error.
func (e *Engine) Querier(tenant string, mint, maxt int64) storage.Querier {
	return newQueryable(e.store, tenant).querier(mint, maxt)
}

// NewInstantQuery prepares qs for evaluation at ts. lookback overrides the
// engine's lookback delta when positive.
func (e *Engine) NewInstantQuery(ctx context.Context, tenant, qs string, ts time.Time, lookback time.Duration) (*Query, error) {
	q := newQueryable(e.store, tenant)
	pq, err := e.engine.NewInstantQuery(ctx, q, promql.NewPrometheusQueryOpts(false, lookback, nil), qs, ts)
	if err != nil {
		return nil, err
	}
	return &Query{Query: pq, reads: q}, nil
}

// NewRangeQuery prepares qs for evaluation from start to end every step.
func (e *Engine) NewRangeQuery(ctx context.Context, tenant, qs string, start, end time.Time, step, lookback time.Duration) (*Query, error) {
	q := newQueryable(e.store, tenant)
	pq, err := e.engine.NewRangeQuery(ctx, q, promql.NewPrometheusQueryOpts(false, lookback, nil), qs, start, end, step)
	if err != nil {
		return nil, err
	}
	return &Query{Query: pq, reads: q}, nil
}

// QueryRange evaluates qs for the tenant from start to end every step, with
// the engine's lookback delta, and returns the float samples of each
// series: the whole of a range query for callers that want values, not a
// Query to manage. The result is a copy, so the query's memory goes back
// to the engine's pools at once.
func (e *Engine) QueryRange(ctx context.Context, tenant, qs string, start, end time.Time, step time.Duration) (promql.Matrix, error) {
	q, err := e.NewRangeQuery(ctx, tenant, qs, start, end, step, 0)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	m, err := res.Matrix()
	if err != nil {
		return nil, err
	}
	out := make(promql.Matrix, len(m))
	for i, s := range m {
		out[i] = promql.Series{Metric: s.Metric, Floats: slices.Clone(s.Floats)}
	}
	return out, nil
}

// Query is a prepared query. Close it once its result is no longer used.
type Query struct {
	promql.Query
	reads *queryable
}

// Exec evaluates the query. A failed read of the store fails the query as
// promql.ErrStorage, even where the engine would not look: it checks an
// iterator's error in only a few places, and a result missing a batch of
// samples must not pass for an answer. (A timeout stays a timeout.)
func (q *Query) Exec(ctx context.Context) *promql.Result {
	res := q.Query.Exec(ctx)
	if err := q.reads.err(); err != nil && (res.Err == nil || errors.Is(res.Err, err)) {
		res.Err = promql.ErrStorage{Err: err}
	}
	return res
}

// SamplesRead is how many samples the query read from the store.
func (q *Query) SamplesRead() int64 { return q.reads.samplesRead.Load() }

// slots is a promql.QueryTracker that only bounds concurrency: Insert
// waits for a free slot, or gives up with the query's context.
type slots chan struct{}

func newSlots(n int) slots { return make(slots, n) }

func (s slots) GetMaxConcurrent() int { return cap(s) }

func (s slots) Insert(ctx context.Context, _ string) (int, error) {
	select {
	case s <- struct{}{}:
		return 0, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (s slots) Delete(int) { <-s }

func (s slots) Close() error { return nil }
