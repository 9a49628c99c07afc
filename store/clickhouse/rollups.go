package clickhouse

import (
	"context"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// WriteRollups writes rollups; the newest write of a minute wins
// (ReplacingMergeTree by write version; readers take the latest).
func (s *Store) WriteRollups(ctx context.Context, rollups []store.Rollup) error {
	version := time.Now().UnixNano()
	return s.insert(ctx, "sli_rollups", "tenant, slo, minute, good, total, version", len(rollups), func(i int) ([]any, error) {
		r := &rollups[i]
		// Rows later in the batch win over earlier ones for the same minute.
		return []any{r.Tenant, r.SLO, r.Minute.UTC().Truncate(time.Minute), r.Good, r.Total, version + int64(i)}, nil
	})
}
