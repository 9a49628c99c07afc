package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// Throughput counts the spans q selects per minute, with their
// nearest-rank 95th-percentile duration. quantileExact would pick the
// ⌊0.95·n⌋-th (0-based) value, one rank above nearest-rank whenever 0.95·n
// is whole (n = 20: the largest of 20); indexing the sorted minute instead
// gives exactly the value the embedded store gives. Both hold a minute's
// durations in memory, as any exact percentile must.
func (s *Store) Throughput(ctx context.Context, q store.ThroughputQuery) ([]store.MinuteThroughput, error) {
	if !q.End.After(q.Start) {
		return nil, fmt.Errorf("cannot read throughput: end %s is not after start %s", q.End, q.Start)
	}
	from, to := secondsRange(q.Start, q.End)
	// timestamp bounds the partitions read; start_ns is the exact range.
	where := []string{"tenant = ?", "service = ?", "timestamp >= ?", "timestamp <= ?", "start_ns >= ?", "start_ns < ?"}
	args := []any{q.Tenant, q.Service, from, to, q.Start.UnixNano(), q.End.UnixNano()}
	if q.Operation != "" {
		where, args = append(where, "operation = ?"), append(args, q.Operation)
	}
	if q.Model != "" {
		where, args = append(where, "model = ?"), append(args, q.Model)
	}
	// ClickHouse arrays are 1-based, so the rank indexes directly.
	rows, err := s.conn.Query(ctx, `SELECT intDiv(start_ns, 60000000000) AS minute, count() AS n,
		arrayElement(arraySort(groupArray(duration_ns)), toUInt64(intDiv(95 * n + 99, 100)))
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
