package querier

import (
	"context"
	"math"
	"sync"
	"sync/atomic"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/vigil-dev/vigil/store"
)

// queryable is one query's view of one tenant's series. It keeps the first
// error of the reads it made, for Query.Exec and Querier.Close to report.
type queryable struct {
	store       store.MetricQuerier
	tenant      string
	samplesRead atomic.Int64

	mu       sync.Mutex
	firstErr error // guarded by mu
}

func newQueryable(s store.MetricQuerier, tenant string) *queryable {
	return &queryable{store: s, tenant: tenant}
}

// Querier implements storage.Queryable.
func (q *queryable) Querier(mint, maxt int64) (storage.Querier, error) {
	return q.querier(mint, maxt), nil
}

func (q *queryable) querier(mint, maxt int64) *querier {
	return &querier{queryable: q, mint: mint, maxt: maxt}
}

func (q *queryable) fail(err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.firstErr == nil {
		q.firstErr = err
	}
}

func (q *queryable) err() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.firstErr
}

// querier implements storage.Querier over [mint, maxt].
type querier struct {
	*queryable
	mint, maxt int64
}

// seriesFunc is the SelectHints.Func of a request for series without
// samples (the /series API), as Prometheus names it.
const seriesFunc = "series"

// Select implements storage.Querier. The series come from one store read;
// their samples are read later, in batches, as the engine iterates them.
func (q *querier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	mint, maxt := q.mint, q.maxt
	if hints != nil {
		mint, maxt = hints.Start, hints.End
	}
	sq, err := q.seriesQuery(ms)
	if err != nil {
		return storage.ErrSeriesSet(err)
	}
	// Without samples to read, a series must have some in the range to
	// be selected, as in Prometheus's TSDB.
	onlyLabels := hints != nil && hints.Func == seriesFunc
	if onlyLabels {
		sq = q.within(sq, mint, maxt)
	}
	found, err := q.store.SelectSeries(ctx, sq)
	if err != nil {
		q.fail(err)
		return storage.ErrSeriesSet(err)
	}
	sel := newSelection(ctx, q.queryable, found, mint, maxt, onlyLabels)
	if sortSeries {
		sel.sortByLabels()
	}
	return sel
}

// LabelValues implements storage.Querier.
func (q *querier) LabelValues(ctx context.Context, name string, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	sq, err := q.seriesQuery(ms)
	if err != nil {
		return nil, nil, err
	}
	vals, err := q.store.LabelValues(ctx, q.within(sq, q.mint, q.maxt), name)
	return limit(vals, hints), nil, err
}

// LabelNames implements storage.Querier.
func (q *querier) LabelNames(ctx context.Context, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	sq, err := q.seriesQuery(ms)
	if err != nil {
		return nil, nil, err
	}
	names, err := q.store.LabelNames(ctx, q.within(sq, q.mint, q.maxt))
	return limit(names, hints), nil, err
}

// Close implements storage.Querier: it returns the first failed read.
func (q *querier) Close() error { return q.err() }

func limit(vals []string, hints *storage.LabelHints) []string {
	if hints != nil && hints.Limit > 0 && len(vals) > hints.Limit {
		return vals[:hints.Limit]
	}
	return vals
}

// within restricts sq to series with samples in [mint, maxt], unless the
// range is open at both ends (the API's default, which asks for all).
func (q *querier) within(sq store.SeriesQuery, mint, maxt int64) store.SeriesQuery {
	if mint > math.MinInt64 || maxt < math.MaxInt64 {
		sq.Active, sq.MinT, sq.MaxT = true, mint, maxt
	}
	return sq
}

// seriesQuery converts Prometheus's matchers to the store's.
func (q *querier) seriesQuery(ms []*labels.Matcher) (store.SeriesQuery, error) {
	sq := store.SeriesQuery{Tenant: q.tenant, Matchers: make([]*store.Matcher, 0, len(ms))}
	for _, m := range ms {
		sm, err := store.NewMatcher(matchTypes[m.Type], m.Name, m.Value)
		if err != nil {
			return sq, err
		}
		sq.Matchers = append(sq.Matchers, sm)
	}
	return sq, nil
}

var matchTypes = map[labels.MatchType]store.MatchType{
	labels.MatchEqual:     store.MatchEqual,
	labels.MatchNotEqual:  store.MatchNotEqual,
	labels.MatchRegexp:    store.MatchRegexp,
	labels.MatchNotRegexp: store.MatchNotRegexp,
}
