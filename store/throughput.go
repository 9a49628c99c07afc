package store

import (
	"context"
	"time"
)

// ThroughputQuery selects the spans whose rate and latency a replica
// recommendation is computed from. Empty Operation and Model match every
// operation and model.
type ThroughputQuery struct {
	Tenant     string
	Service    string
	Operation  string
	Model      string
	Start, End time.Time // span start in [Start, End)
}

// MinuteThroughput is the spans that started in one minute: how many, and
// their 95th-percentile duration.
type MinuteThroughput struct {
	Minute   time.Time
	Requests uint64
	// P95 is the nearest-rank 95th percentile: the ⌈0.95·n⌉-th smallest
	// duration of the minute's n spans. It is an actual span's duration
	// (no interpolation), so both backends give exactly the same value.
	P95 time.Duration
}

// ThroughputReader reads a service's request rate and tail latency per
// minute, the input of replica recommendations.
type ThroughputReader interface {
	// Throughput returns one entry per minute that has spans, ascending.
	// The percentile is exact, so a backend holds each minute's durations
	// while it aggregates: callers should bound the window (hours, not
	// weeks, of a busy service).
	Throughput(ctx context.Context, q ThroughputQuery) ([]MinuteThroughput, error)
}
