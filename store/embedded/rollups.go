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

// WriteHourlyRollups writes hours, replacing stored ones.
func (s *Store) WriteHourlyRollups(ctx context.Context, hours []store.HourlyRollup) error {
	if err := store.CheckHours(hours); err != nil {
		return err
	}
	type key struct {
		tenant, slo string
		hour        int64
	}
	keep := lastOfEach(len(hours), func(i int) key { return key{hours[i].Tenant, hours[i].SLO, hours[i].Hour.Unix()} })
	return s.appendRows(ctx, "sli_rollups_hourly", "INSERT OR REPLACE INTO sli_rollups_hourly SELECT * FROM appended_data", len(keep), func(i int) []driver.Value {
		h := &hours[keep[i]]
		return []driver.Value{h.Tenant, h.SLO, h.Hour.UTC(), h.Good, h.Total}
	})
}
