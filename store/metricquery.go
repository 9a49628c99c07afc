package store

import (
	"context"
	"math"
)

// StaleNaN is the bit pattern of Prometheus's staleness marker: a NaN of
// its own that a Prometheus server writes (and remote-writes) when a series
// disappears from its target. The store keeps markers as samples, so PromQL
// ends a series where its source ended it instead of looking back five
// minutes; MetricReader.Samples leaves them out for readers that want
// values, and MetricQuerier.ScanSamples returns them.
const StaleNaN uint64 = 0x7ff0000000000002

// IsStaleNaN reports whether v is a staleness marker. Any other NaN is a
// value.
func IsStaleNaN(v float64) bool { return math.Float64bits(v) == StaleNaN }

// SeriesQuery selects a tenant's series for PromQL.
type SeriesQuery struct {
	Tenant string
	// AllTenants selects every tenant's series, ignoring Tenant. It is for
	// Vigil's own background work (a collector resuming the counters it
	// wrote), never for answering a request.
	AllTenants bool
	// Matchers must all match. None selects every series of the tenant.
	Matchers []*Matcher
	// Active keeps only series with a sample in [MinT, MaxT], in Unix
	// milliseconds; without it a series is selected whatever its samples.
	Active     bool
	MinT, MaxT int64
}

// MetricFamily is a metric name and the type of its series.
type MetricFamily struct {
	Name string
	Type MetricType
}

// MetricQuerier is what Prometheus's query engine and HTTP API read. The
// backend evaluates every matcher and the time range itself (in SQL), so a
// selector reads only the series it names: a regexp matcher has RE2 syntax
// and semantics, fully anchored, as in Prometheus.
type MetricQuerier interface {
	// SelectSeries returns the series q selects, sorted with SortSeries.
	SelectSeries(ctx context.Context, q SeriesQuery) ([]Series, error)
	// LabelNames returns the distinct label names of the series q selects,
	// __name__ included, sorted.
	LabelNames(ctx context.Context, q SeriesQuery) ([]string, error)
	// LabelValues returns the distinct non-empty values of the label
	// (__name__ for metric names) among the series q selects, sorted.
	LabelValues(ctx context.Context, q SeriesQuery, name string) ([]string, error)
	// MetricFamilies returns the distinct names and types of the series q
	// selects, sorted by name, then type.
	MetricFamilies(ctx context.Context, q SeriesQuery) ([]MetricFamily, error)
	// ScanSamples calls fn with every sample, staleness markers included,
	// of the tenant's given series with a timestamp in [minT, maxT] (Unix
	// milliseconds, both ends included), ordered by fingerprint, then time,
	// as the rows arrive from the backend: the result is never held whole
	// in memory. fn must not block on another read of the store.
	ScanSamples(ctx context.Context, tenant string, fingerprints []uint64, minT, maxT int64, fn func(fingerprint uint64, t int64, v float64)) error
}
