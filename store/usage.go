package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
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

// Column returns the span column of a dimension; an attribute
// dimension has none (see AttributeKey).
func (d UsageDimension) Column() (string, error) {
	if c, ok := usageColumns[d]; ok {
		return c, nil
	}
	if _, ok := d.AttributeKey(); ok {
		return "", fmt.Errorf("usage dimension %q is an attribute, not a column", string(d))
	}
	return "", fmt.Errorf("unknown usage dimension %q (want service, operation, model, model_version, provider, deployment, operation_type or attr:KEY)", string(d))
}

// attrDimension prefixes the key of an attribute dimension.
const attrDimension = "attr:"

// AttributeDimension groups model calls by an attribute: the span's of
// that key, or when the span has none, its resource's (where a team or
// a customer is usually set). The key is letters, digits and . _ - /
// only, so that a backend may write it into its SQL as a literal.
func AttributeDimension(key string) (UsageDimension, error) {
	if !validAttrKey(key) {
		return "", fmt.Errorf("attribute key %q: want 1 to 128 letters, digits, '.', '_', '-' or '/'", key)
	}
	return UsageDimension(attrDimension + key), nil
}

// AttributeKey returns the key of an attribute dimension; ok is false for
// a column's dimension (or a malformed one).
func (d UsageDimension) AttributeKey() (key string, ok bool) {
	key, ok = strings.CutPrefix(string(d), attrDimension)
	return key, ok && validAttrKey(key)
}

func validAttrKey(key string) bool {
	if key == "" || len(key) > 128 {
		return false
	}
	for _, c := range key {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '/') {
			return false
		}
	}
	return true
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
