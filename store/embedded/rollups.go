package embedded

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/codec"
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

// Rollups returns stored minutes, ascending.
func (s *Store) Rollups(ctx context.Context, q store.RollupQuery) ([]store.Rollup, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT minute, good, total FROM sli_rollups
		WHERE tenant = ? AND slo = ? AND minute >= ? AND minute < ? ORDER BY minute`, q.Tenant, q.SLO, q.Start.UTC(), q.End.UTC())
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
	err = s.db.QueryRowContext(ctx, `SELECT coalesce(sum(good), 0)::UBIGINT, coalesce(sum(total), 0)::UBIGINT FROM sli_rollups
		WHERE tenant = ? AND slo = ? AND minute >= ? AND minute < ?`, q.Tenant, q.SLO, q.Start.UTC(), q.End.UTC()).Scan(&good, &total)
	if err != nil {
		return 0, 0, fmt.Errorf("cannot sum rollups of %s: %w", q.SLO, err)
	}
	return good, total, nil
}

// SumRollupWindows sums several windows ending at end, for many SLOs, in
// one scan.
func (s *Store) SumRollupWindows(ctx context.Context, tenant string, slos []string, starts []time.Time, end time.Time) (map[string][]store.GoodTotal, error) {
	if len(starts) == 0 || len(slos) == 0 {
		return map[string][]store.GoodTotal{}, nil
	}
	earliest := starts[0]
	sel := make([]string, 0, 2*len(starts))
	var args []any
	for _, st := range starts {
		if st.Before(earliest) {
			earliest = st
		}
		sel = append(sel, "coalesce(sum(good) FILTER (WHERE minute >= ?), 0)::UBIGINT", "coalesce(sum(total) FILTER (WHERE minute >= ?), 0)::UBIGINT")
		args = append(args, st.UTC(), st.UTC())
	}
	marks := make([]string, len(slos))
	args = append(args, tenant)
	for i, name := range slos {
		marks[i] = "?"
		args = append(args, name)
	}
	args = append(args, earliest.UTC(), end.UTC())
	rows, err := s.db.QueryContext(ctx, `SELECT slo, `+strings.Join(sel, ", ")+` FROM sli_rollups
		WHERE tenant = ? AND slo IN (`+strings.Join(marks, ",")+`) AND minute >= ? AND minute < ? GROUP BY slo`, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot sum rollups: %w", err)
	}
	defer rows.Close()
	sums, err := codec.WindowSums(rows, len(starts))
	if err != nil {
		return nil, fmt.Errorf("cannot sum rollups: %w", err)
	}
	return sums, nil
}
