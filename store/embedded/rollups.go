package embedded

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
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

// TenantHourlyRollups reads every SLO's hours of the tenant in [start, end).
func (s *Store) TenantHourlyRollups(ctx context.Context, tenant string, start, end time.Time, fn func(*store.HourlyRollup) error) error {
	const query = `SELECT slo, hour, good, total FROM sli_rollups_hourly WHERE tenant = ? AND hour >= ? AND hour < ?`
	return s.eachHour(ctx, "read the hourly rollups of tenant "+tenant, tenant, query, []any{tenant, start.UTC(), end.UTC()}, fn)
}

// SumRollupHours sums each SLO's minutes by hour.
func (s *Store) SumRollupHours(ctx context.Context, tenant string, slos []string, start, end time.Time, fn func(*store.HourlyRollup) error) error {
	if len(slos) == 0 {
		return nil
	}
	args := []any{tenant}
	for _, name := range slos {
		args = append(args, name)
	}
	args = append(args, start.UTC(), end.UTC())
	query := `SELECT slo, date_trunc('hour', minute) AS hour, sum(good), sum(total) FROM sli_rollups
WHERE tenant = ? AND slo IN (?` + strings.Repeat(", ?", len(slos)-1) + `) AND minute >= ? AND minute < ?
GROUP BY slo, hour`
	return s.eachHour(ctx, "sum the rollups of tenant "+tenant+" by hour", tenant, query, args, fn)
}

// eachHour runs a query of (slo, hour, good, total) rows and calls fn with each.
func (s *Store) eachHour(ctx context.Context, what, tenant, query string, args []any, fn func(*store.HourlyRollup) error) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("cannot %s: %w", what, err)
	}
	defer rows.Close()
	h := store.HourlyRollup{Tenant: tenant}
	for rows.Next() {
		if err := rows.Scan(&h.SLO, &h.Hour, &h.Good, &h.Total); err != nil {
			return fmt.Errorf("cannot %s: %w", what, err)
		}
		h.Hour = h.Hour.UTC()
		if err := fn(&h); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cannot %s: %w", what, err)
	}
	return nil
}

// SLOsRollups reads the named SLOs' minutes.
func (s *Store) SLOsRollups(ctx context.Context, tenant string, slos []string, start, end time.Time, fn func(*store.Rollup) error) error {
	if len(slos) == 0 {
		return nil
	}
	args := []any{tenant}
	for _, name := range slos {
		args = append(args, name)
	}
	args = append(args, start.UTC(), end.UTC())
	query := `SELECT slo, minute, good, total FROM sli_rollups
WHERE tenant = ? AND slo IN (?` + strings.Repeat(", ?", len(slos)-1) + `) AND minute >= ? AND minute < ?`
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("cannot read the rollups of %d SLOs of tenant %s: %w", len(slos), tenant, err)
	}
	defer rows.Close()
	ru := store.Rollup{Tenant: tenant}
	for rows.Next() {
		if err := rows.Scan(&ru.SLO, &ru.Minute, &ru.Good, &ru.Total); err != nil {
			return fmt.Errorf("cannot read the rollups of tenant %s: %w", tenant, err)
		}
		ru.Minute = ru.Minute.UTC()
		if err := fn(&ru); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cannot read the rollups of tenant %s: %w", tenant, err)
	}
	return nil
}
