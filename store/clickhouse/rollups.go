package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// WriteRollups writes rollups; the newest write of a minute wins.
func (s *Store) WriteRollups(ctx context.Context, rollups []store.Rollup) error {
	version := time.Now().UnixNano()
	return s.insert(ctx, "sli_rollups", "tenant, slo, minute, good, total, version", len(rollups), func(i int) ([]any, error) {
		r := &rollups[i]
		// Rows later in the batch win over earlier ones for the same minute.
		return []any{r.Tenant, r.SLO, r.Minute.UTC().Truncate(time.Minute), r.Good, r.Total, version + int64(i)}, nil
	})
}

// Rollups returns stored minutes, ascending.
func (s *Store) Rollups(ctx context.Context, q store.RollupQuery) ([]store.Rollup, error) {
	rows, err := s.conn.Query(ctx, `SELECT minute, good, total FROM sli_rollups FINAL
		WHERE tenant = ? AND slo = ? AND minute >= ? AND minute < ? ORDER BY minute`, q.Tenant, q.SLO, dateTime(q.Start), dateTime(q.End))
	if err != nil {
		return nil, fmt.Errorf("cannot read rollups of %s: %w", q.SLO, err)
	}
	defer rows.Close()
	var out []store.Rollup
	for rows.Next() {
		r := store.Rollup{Tenant: q.Tenant, SLO: q.SLO}
		if err := rows.Scan(&r.Minute, &r.Good, &r.Total); err != nil {
			return nil, fmt.Errorf("cannot read rollups of %s: %w", q.SLO, err)
		}
		r.Minute = r.Minute.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// SumRollups adds up good and total.
func (s *Store) SumRollups(ctx context.Context, q store.RollupQuery) (good, total uint64, err error) {
	err = s.conn.QueryRow(ctx, `SELECT sum(good), sum(total) FROM sli_rollups FINAL
		WHERE tenant = ? AND slo = ? AND minute >= ? AND minute < ?`, q.Tenant, q.SLO, dateTime(q.Start), dateTime(q.End)).Scan(&good, &total)
	if err != nil {
		return 0, 0, fmt.Errorf("cannot sum rollups of %s: %w", q.SLO, err)
	}
	return good, total, nil
}
