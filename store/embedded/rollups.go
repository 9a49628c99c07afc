package embedded

import (
	"context"
	"database/sql/driver"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// WriteRollups writes rollups, replacing stored minutes.
func (s *Store) WriteRollups(ctx context.Context, rollups []store.Rollup) error {
	type key struct {
		tenant, slo string
		minute      int64
	}
	keep := lastOfEach(len(rollups), func(i int) key { return key{rollups[i].Tenant, rollups[i].SLO, rollups[i].Minute.Unix()} })
	return s.appendRows(ctx, "sli_rollups", "INSERT OR REPLACE INTO sli_rollups SELECT * FROM appended_data", len(keep), func(i int) []driver.Value {
		r := &rollups[keep[i]]
		return []driver.Value{r.Tenant, r.SLO, r.Minute.UTC().Truncate(time.Minute), r.Good, r.Total}
	})
}
