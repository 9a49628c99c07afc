package store

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
)

// SpanStatsQuery selects spans starting in [Start, End) and groups them by
// the dimensions and, with a Step, by time bucket: the request rate, errors
// and latency percentiles the UI's services and service pages show.
type SpanStatsQuery struct {
	Tenant     string
	Start, End time.Time
	// Step splits [Start, End) into buckets of this width from Start; 0 is
	// one bucket.
	Step    time.Duration
	GroupBy []UsageDimension
	Filter  map[UsageDimension]string
	// Entry counts only the spans through which requests enter a service:
	// server and consumer spans, and roots. A service's rate is its
	// requests, not every span it records while serving one.
	Entry bool
	// ModelCalls counts only spans with a model.
	ModelCalls bool
	// CountsOnly leaves the percentiles zero, so that a backend need not
	// hold and sort every group's durations: what a rate chart or a
	// sparkline needs.
	CountsOnly bool
}

// SpanStats are the spans of one group and bucket.
type SpanStats struct {
	Keys          []string
	Bucket        time.Time // the bucket's start; Start without a Step
	Spans, Errors uint64
	// Nearest-rank percentiles of the durations: the ⌈p·n/100⌉-th smallest,
	// an actual span's duration, so both backends agree exactly.
	P50, P90, P99 time.Duration
}

// SpanStatsReader groups spans into rates, errors and percentiles.
type SpanStatsReader interface {
	// SpanStats returns one entry per group and bucket that has spans,
	// ordered by keys, then bucket. Percentiles are exact, so a backend
	// holds a group's durations while it aggregates: callers bound the
	// range (hours, not weeks, of a busy service).
	SpanStats(ctx context.Context, q SpanStatsQuery) ([]SpanStats, error)
}

// TraceStatus narrows a trace search by the matching span's status.
type TraceStatus int8

const (
	AnyStatus  TraceStatus = iota
	OnlyErrors             // the matching span failed
	NoErrors               // the matching span did not fail
)

// TraceSearch selects traces as TraceQuery does (a trace matches when one
// of its spans matches every condition), narrowed by the span's model and
// status.
type TraceSearch struct {
	TraceQuery
	Model  string
	Status TraceStatus
}

// TraceSummary is one trace found, summed over its spans.
type TraceSummary struct {
	TraceID       TraceID
	StartUnixNano int64 // the earliest span's start
	DurationNano  int64 // from the earliest start to the latest end
	Spans, Errors uint64
	// RootService and RootOperation are the root span's (the earliest one
	// without a parent; the earliest span when the root is missing).
	RootService, RootOperation string
	InputTokens, OutputTokens  int64
	Cost                       decimal.Decimal
}

// TraceSummaryMargin is how far outside the search's range a trace's spans
// are still summed: a trace's spans are read from the range widened by it,
// so a long trace that crosses the range's edge by more is summed in part.
const TraceSummaryMargin = 15 * time.Minute

// TraceSummaryReader finds traces with their summaries in one read, for a
// search results table and its duration scatter plot.
type TraceSummaryReader interface {
	// TraceSummaries returns the summaries of the traces FindTraceIDs would
	// pick (the Limit traces whose latest matching span is latest), the
	// latest-starting trace first (ties by id).
	TraceSummaries(ctx context.Context, q TraceSearch) ([]TraceSummary, error)
}
