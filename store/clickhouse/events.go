package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// WriteEvents inserts events; ReplacingMergeTree keeps one per id, and
// readers use FINAL.
func (s *Store) WriteEvents(ctx context.Context, events []store.Event) error {
	return s.insert(ctx, "events", "tenant, id, time, time_ns, kind, type, subject, severity, summary, attr_keys, attr_values, payload", len(events), func(i int) ([]any, error) {
		e := &events[i]
		// The attribute columns predate typed payloads; new events leave them empty.
		return []any{e.Tenant, e.ID, dateTime(e.Time), e.Time.UnixNano(), string(e.Kind), e.Type, e.Subject, e.Severity, e.Summary, []string{}, []string{}, e.Payload}, nil
	})
}

// Events returns matching events, newest first.
func (s *Store) Events(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	from, to := secondsRange(q.Start, q.End)
	query := `SELECT tenant, id, kind, type, subject, severity, time_ns, summary, payload FROM events FINAL
		WHERE time >= ? AND time <= ? AND time_ns >= ? AND time_ns < ?`
	args := []any{from, to, q.Start.UnixNano(), q.End.UnixNano()}
	if !q.AllTenants {
		query += ` AND tenant = ?`
		args = append(args, q.Tenant)
	}
	kinds := make([]string, len(q.Kinds))
	for i, k := range q.Kinds {
		kinds[i] = string(k)
	}
	for _, f := range []struct {
		col    string
		values []string
	}{{"kind", kinds}, {"type", q.Types}, {"subject", q.Subjects}} {
		if len(f.values) > 0 {
			query += ` AND has(?, ` + f.col + `)`
			args = append(args, f.values)
		}
	}
	query += ` ORDER BY time_ns DESC, id`
	if q.Limit > 0 {
		query += fmt.Sprintf(` LIMIT %d`, q.Limit)
	}
	rows, err := s.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot read events: %w", err)
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		var e store.Event
		var kind string
		var ns int64
		if err := rows.Scan(&e.Tenant, &e.ID, &kind, &e.Type, &e.Subject, &e.Severity, &ns, &e.Summary, &e.Payload); err != nil {
			return nil, fmt.Errorf("cannot read events: %w", err)
		}
		e.Kind, e.Time = store.EventKind(kind), time.Unix(0, ns).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
