package store

import (
	"context"
	"sort"
	"time"
)

// SLIQuery selects the spans of an SLO's indicator and says which are good.
type SLIQuery struct {
	Tenant     string
	Service    string
	Operation  string            // "" for every operation
	Model      string            // "" for every model
	Attributes map[string]string // span or resource attributes that must match
	// Good is "latency" (a span that took at most Latency),
	// "availability" (a span without an error status) or "attribute" (a
	// span whose numeric attribute Attribute compares to Threshold by Op;
	// spans without a number there are not events at all, so a
	// time-to-first-token SLO counts only streamed calls).
	Good       string
	Latency    time.Duration
	Attribute  string
	Op         string // lt, lte, gt or gte
	Threshold  float64
	Start, End time.Time // span start in [Start, End)
}

// SQLOp is the comparison operator an SLIQuery's Op names, or "" when it
// names none.
func SQLOp(op string) string {
	return map[string]string{"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[op]
}

// MinuteCounts are the good and total spans that started in one minute.
type MinuteCounts struct {
	Minute      time.Time
	Good, Total uint64
}

// SLIReader counts an indicator's events per minute, the input of the SLO
// rollups.
type SLIReader interface {
	// SLICounts returns one entry per minute that has events, ascending.
	SLICounts(ctx context.Context, q SLIQuery) ([]MinuteCounts, error)
	// SLICountsEach counts several indicators in as few reads as the
	// backend can: out[i] is SLICounts of qs[i].
	SLICountsEach(ctx context.Context, qs []SLIQuery) ([][]MinuteCounts, error)
}

// SortedAttributeKeys returns the query's attribute keys in order, so both
// backends build the same conditions.
func (q SLIQuery) SortedAttributeKeys() []string {
	keys := make([]string, 0, len(q.Attributes))
	for k := range q.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
