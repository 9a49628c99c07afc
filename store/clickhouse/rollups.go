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

// WriteHourlyRollups writes hours; the newest write of an hour wins, as
// for minutes.
func (s *Store) WriteHourlyRollups(ctx context.Context, hours []store.HourlyRollup) error {
	if err := store.CheckHours(hours); err != nil {
		return err
	}
	version := time.Now().UnixNano()
	return s.insert(ctx, "sli_rollups_hourly", "tenant, slo, hour, good, total, version", len(hours), func(i int) ([]any, error) {
		h := &hours[i]
		return []any{h.Tenant, h.SLO, h.Hour.UTC(), h.Good, h.Total, version + int64(i)}, nil
	})
}
