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
		k, v := e.Attributes.Split()
		return []any{e.Tenant, e.ID, dateTime(e.Time), e.Time.UnixNano(), string(e.Kind), e.Type, e.Subject, e.Severity, e.Summary, k, v, e.Payload}, nil
	})
}

// Events returns matching events, newest first.
func (s *Store) Events(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	from, to := secondsRange(q.Start, q.End)
	query := `SELECT id, kind, type, subject, severity, time_ns, summary, attr_keys, attr_values, payload FROM events FINAL
		WHERE tenant = ? AND time >= ? AND time <= ? AND time_ns >= ? AND time_ns < ?`
	args := []any{q.Tenant, from, to, q.Start.UnixNano(), q.End.UnixNano()}
	if len(q.Kinds) > 0 {
		kinds := make([]string, len(q.Kinds))
		for i, k := range q.Kinds {
			kinds[i] = string(k)
		}
		query += ` AND has(?, kind)`
		args = append(args, kinds)
	}
	if q.Subject != "" {
		query += ` AND subject = ?`
		args = append(args, q.Subject)
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
		e := store.Event{Tenant: q.Tenant}
		var kind string
		var ns int64
		var k, v []string
		if err := rows.Scan(&e.ID, &kind, &e.Type, &e.Subject, &e.Severity, &ns, &e.Summary, &k, &v, &e.Payload); err != nil {
			return nil, fmt.Errorf("cannot read events: %w", err)
		}
		e.Kind, e.Time, e.Attributes = store.EventKind(kind), time.Unix(0, ns).UTC(), store.JoinAttributes(k, v)
		out = append(out, e)
	}
	return out, rows.Err()
}
