package store

import (
	"context"
	"strconv"
	"time"
)

// ValueQuery selects one value of the spans of a service: their duration,
// token counts, or a span attribute — what a drift monitor compares.
type ValueQuery struct {
	Tenant       string
	Service      string
	Operation    string // "" for every operation
	Model        string
	ModelVersion string
	// Field is "duration" (seconds), "input_tokens", "output_tokens" or
	// "attribute" (the span attribute named Attribute; spans without it
	// are left out).
	Field      string
	Attribute  string
	Start, End time.Time // span start in [Start, End)
	Limit      int       // 0 means DefaultDurationLimit
}

// SpanValues are the values, as text (attributes are strings; numbers
// are written so strconv.ParseFloat reads them back exactly), of at most
// Limit matching spans — the ones with the smallest span ids, a uniform
// and deterministic sample — and how many spans matched in all.
type SpanValues struct {
	Matched uint64
	Values  []string
}

// SpanValueReader reads span values for distribution comparisons.
type SpanValueReader interface {
	SpanValues(ctx context.Context, q ValueQuery) (SpanValues, error)
}

// NanosToSeconds rewrites integer nanoseconds as seconds in place, with
// the shortest text that reads back as the same float.
func NanosToSeconds(values []string) {
	for i, v := range values {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			values[i] = strconv.FormatFloat(float64(n)/1e9, 'g', -1, 64)
		}
	}
}
