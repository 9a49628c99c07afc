package embedded

import (
	"context"
	"database/sql/driver"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// WriteRollups writes rollups, replacing stored minutes.
func (s *Store) WriteRollups(ctx context.Context, rollups []store.Rollup) error {
	// Keep the last of repeated minutes: one statement may not write a key twice.
	type key struct {
		tenant, slo string
		minute      int64
	}
	last := make(map[key]int, len(rollups))
	var keep []int
	for i, r := range rollups {
		k := key{r.Tenant, r.SLO, r.Minute.Unix()}
		if j, ok := last[k]; ok {
			keep[j] = i
			continue
		}
		last[k] = len(keep)
		keep = append(keep, i)
	}
	return s.appendRows(ctx, "sli_rollups", "INSERT OR REPLACE INTO sli_rollups SELECT * FROM appended_data", len(keep), func(i int) []driver.Value {
		r := &rollups[keep[i]]
		return []driver.Value{r.Tenant, r.SLO, r.Minute.UTC().Truncate(time.Minute), r.Good, r.Total}
	})
}
