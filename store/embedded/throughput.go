package embedded

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// Throughput counts the spans q selects per minute, with their
// nearest-rank 95th-percentile duration: the ⌈0.95·n⌉-th of the sorted
// minute, as the ClickHouse store computes it (quantile_disc picks by a
// different rank rule, so the list is indexed instead).
func (s *Store) Throughput(ctx context.Context, q store.ThroughputQuery) ([]store.MinuteThroughput, error) {
	if !q.End.After(q.Start) {
		return nil, fmt.Errorf("cannot read throughput: end %s is not after start %s", q.End, q.Start)
	}
	where := []string{"tenant = ?", "service = ?", "start_ns >= ?", "start_ns < ?"}
	args := []any{q.Tenant, q.Service, q.Start.UnixNano(), q.End.UnixNano()}
	if q.Operation != "" {
		where, args = append(where, "operation = ?"), append(args, q.Operation)
	}
	if q.Model != "" {
		where, args = append(where, "model = ?"), append(args, q.Model)
	}
	// DuckDB lists are 1-based, so the rank indexes directly.
	rows, err := s.db.QueryContext(ctx, `SELECT start_ns // 60000000000 AS minute, count(*) AS n,
		list_sort(list(duration_ns))[(95 * count(*) + 99) // 100]
		FROM spans WHERE `+strings.Join(where, " AND ")+` GROUP BY minute ORDER BY minute`, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot read throughput: %w", err)
	}
	defer rows.Close()
	var out []store.MinuteThroughput
	for rows.Next() {
		var m, p95 int64
		var n uint64
		if err := rows.Scan(&m, &n, &p95); err != nil {
			return nil, fmt.Errorf("cannot read throughput: %w", err)
		}
		out = append(out, store.MinuteThroughput{Minute: time.Unix(m*60, 0).UTC(), Requests: n, P95: time.Duration(p95)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read throughput: %w", err)
	}
	return out, nil
}
