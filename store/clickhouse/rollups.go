package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

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

// TenantHourlyRollups reads every SLO's hours of the tenant in [start, end),
// each at its latest write.
func (s *Store) TenantHourlyRollups(ctx context.Context, tenant string, start, end time.Time, fn func(*store.HourlyRollup) error) error {
	const query = `SELECT slo, hour, argMax(good, version) AS good, argMax(total, version) AS total
FROM sli_rollups_hourly WHERE tenant = ? AND hour >= ? AND hour < ? GROUP BY slo, hour`
	return s.eachHour(ctx, "read the hourly rollups of tenant "+tenant, tenant, query, []any{tenant, seconds(start), seconds(end)}, fn)
}

// SumRollupHours sums each SLO's latest minutes by hour. slo IN (?, ...)
// keeps to the primary key, as SumRollupWindows does.
func (s *Store) SumRollupHours(ctx context.Context, tenant string, slos []string, start, end time.Time, fn func(*store.HourlyRollup) error) error {
	if len(slos) == 0 {
		return nil
	}
	args := []any{tenant}
	for _, name := range slos {
		args = append(args, name)
	}
	args = append(args, seconds(start), seconds(end))
	query := `SELECT slo, toStartOfHour(minute) AS hour, sum(g), sum(t) FROM (
	SELECT slo, minute, argMax(good, version) AS g, argMax(total, version) AS t FROM sli_rollups
	WHERE tenant = ? AND slo IN (?` + strings.Repeat(", ?", len(slos)-1) + `) AND minute >= ? AND minute < ?
	GROUP BY slo, minute)
GROUP BY slo, hour`
	return s.eachHour(ctx, "sum the rollups of tenant "+tenant+" by hour", tenant, query, args, fn)
}

// eachHour runs a query of (slo, hour, good, total) rows and calls fn with each.
func (s *Store) eachHour(ctx context.Context, what, tenant, query string, args []any, fn func(*store.HourlyRollup) error) error {
	rows, err := s.conn.Query(ctx, query, args...)
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

// seconds binds a time as a DateTime: the driver binds one with a
// fraction as DateTime64, which 18.16 does not have.
func seconds(t time.Time) time.Time { return time.Unix(max(t.Unix(), 0), 0).UTC() }

// SLOsRollups reads the named SLOs' latest minutes. slo IN (?, ...) keeps
// the read to those SLOs' key ranges, where TenantRollups reads the
// tenant's whole day partitions.
func (s *Store) SLOsRollups(ctx context.Context, tenant string, slos []string, start, end time.Time, fn func(*store.Rollup) error) error {
	if len(slos) == 0 {
		return nil
	}
	args := []any{tenant}
	for _, name := range slos {
		args = append(args, name)
	}
	args = append(args, seconds(start), seconds(end))
	query := `SELECT slo, minute, argMax(good, version) AS good, argMax(total, version) AS total FROM sli_rollups
WHERE tenant = ? AND slo IN (?` + strings.Repeat(", ?", len(slos)-1) + `) AND minute >= ? AND minute < ?
GROUP BY slo, minute`
	rows, err := s.conn.Query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("cannot read the rollups of %d SLOs of tenant %s: %w", len(slos), tenant, err)
	}
	defer rows.Close()
	return eachRollup(rows, tenant, fn)
}

// eachRollup scans (slo, minute, good, total) rows.
func eachRollup(rows driver.Rows, tenant string, fn func(*store.Rollup) error) error {
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
