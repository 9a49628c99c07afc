package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/shopspring/decimal"
)

// UsageDimension is a span column model calls can be grouped by.
type UsageDimension string

// usageColumns maps dimensions to span columns.
var usageColumns = map[UsageDimension]string{
	"service":        "service",
	"operation":      "operation",
	"model":          "model",
	"model_version":  "model_version",
	"provider":       "provider",
	"deployment":     "deployment",
	"operation_type": "operation_type",
}

// Column returns the span column of a dimension.
func (d UsageDimension) Column() (string, error) {
	if c, ok := usageColumns[d]; ok {
		return c, nil
	}
	return "", fmt.Errorf("unknown usage dimension %q (want service, operation, model, model_version, provider, deployment or operation_type)", string(d))
}

// UsageQuery selects model calls (spans with a model) starting in
// [Start, End).
type UsageQuery struct {
	Tenant     string
	Start, End time.Time
	GroupBy    []UsageDimension
	Filter     map[UsageDimension]string
}

// UsageGroup sums the model calls that share one value per dimension.
type UsageGroup struct {
	Keys         []string
	Calls        uint64
	Errors       uint64 // calls with an error status
	InputTokens  int64
	OutputTokens int64
	CachedTokens int64
	Cost         decimal.Decimal
}

// UsageReader sums model calls, the base of unit economics.
type UsageReader interface {
	// Usage returns one group per distinct key tuple, ordered by keys.
	Usage(ctx context.Context, q UsageQuery) ([]UsageGroup, error)
}

// SortUsageGroups orders groups by their keys.
func SortUsageGroups(gs []UsageGroup) {
	sort.Slice(gs, func(i, j int) bool {
		for k := range gs[i].Keys {
			if gs[i].Keys[k] != gs[j].Keys[k] {
				return gs[i].Keys[k] < gs[j].Keys[k]
			}
		}
		return false
	})
}
