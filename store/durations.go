package store

import (
	"context"
	"time"
)

// DefaultDurationLimit bounds the samples SpanDurations returns when the
// query sets no Limit: 100,000 latencies (1.6 MB) are far more than a
// Mann–Whitney test needs to see a shift of a few percent.
const DefaultDurationLimit = 100_000

// DurationQuery selects the spans of one deployment of a service, the
// input of canary analysis. Empty filters match everything.
type DurationQuery struct {
	Tenant       string
	Service      string
	Operation    string
	Model        string
	ModelVersion string
	Deployment   string
	Start, End   time.Time // span start in [Start, End)
	// Limit bounds the samples returned; 0 means DefaultDurationLimit.
	Limit int
}

// DurationSample is one span's duration and whether it failed.
type DurationSample struct {
	Nanos int64
	Error bool // status code error
}

// Durations answers a DurationQuery.
type Durations struct {
	// Spans and Errors count every matching span, however many samples
	// were returned.
	Spans, Errors uint64
	// Samples are every matching span when there are at most Limit of
	// them, else the Limit spans with the smallest span ids. Span ids are
	// random, so that is a uniform sample, and it is deterministic: both
	// backends, and every repetition, return the same spans. Order is by
	// span id, then trace id and start.
	Samples []DurationSample
}

// DurationReader reads raw span durations for statistics that rollups
// cannot answer, such as comparing two latency distributions.
type DurationReader interface {
	SpanDurations(ctx context.Context, q DurationQuery) (Durations, error)
}

// DurationLimit is q's effective sample bound.
func (q DurationQuery) DurationLimit() int {
	if q.Limit <= 0 {
		return DefaultDurationLimit
	}
	return q.Limit
}
