package clickhouse

import (
	"context"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/promsql"
)

// The reads behind PromQL (store.MetricQuerier) are promsql's, in
// ClickHouse's dialect.

// promConn runs promsql's queries on the store's connection.
type promConn struct{ s *Store }

func (c promConn) Query(ctx context.Context, query string, args ...any) (promsql.Rows, error) {
	return c.s.conn.Query(ctx, query, args...)
}

// Strings: the driver scans an Array(String) into a []string as it is.
func (promConn) Strings(p *[]string) any { return p }

func (s *Store) prom() *promsql.Reader { return promsql.NewReader(promsql.ClickHouse, promConn{s}) }

// SelectSeries implements store.MetricQuerier.
func (s *Store) SelectSeries(ctx context.Context, q store.SeriesQuery) ([]store.Series, error) {
	return s.prom().SelectSeries(ctx, q)
}

// LabelNames implements store.MetricQuerier.
func (s *Store) LabelNames(ctx context.Context, q store.SeriesQuery) ([]string, error) {
	return s.prom().LabelNames(ctx, q)
}

// LabelValues implements store.MetricQuerier.
func (s *Store) LabelValues(ctx context.Context, q store.SeriesQuery, name string) ([]string, error) {
	return s.prom().LabelValues(ctx, q, name)
}

// MetricFamilies implements store.MetricQuerier.
func (s *Store) MetricFamilies(ctx context.Context, q store.SeriesQuery) ([]store.MetricFamily, error) {
	return s.prom().MetricFamilies(ctx, q)
}

// ScanSamples implements store.MetricQuerier.
func (s *Store) ScanSamples(ctx context.Context, tenant string, fingerprints []uint64, minT, maxT int64, fn func(uint64, int64, float64)) error {
	return s.prom().ScanSamples(ctx, tenant, fingerprints, minT, maxT, fn)
}
