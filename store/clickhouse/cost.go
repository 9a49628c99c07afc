package clickhouse

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/sqlq"
)

// WriteCostLines inserts lines; a line replaces an earlier one of the same
// identity (ReplacingMergeTree by write version; readers use FINAL).
func (s *Store) WriteCostLines(ctx context.Context, lines []store.CostLine) error {
	version := time.Now().UnixNano()
	return s.insert(ctx, "cost_lines", "tenant, version, "+sqlq.CostColumns, len(lines), func(i int) ([]any, error) {
		l := &lines[i]
		vals, err := sqlq.CostValues(l, func(t time.Time) any { return dateTime(t) }, func(d decimal.Decimal, scale int32) (any, error) { return store.Scaled(d, scale) })
		return append([]any{l.Tenant, version + int64(i)}, vals...), err
	})
}
