package embedded

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// WriteEvents appends events not stored yet.
func (s *Store) WriteEvents(ctx context.Context, events []store.Event) error {
	type key struct{ tenant, id string }
	seen := make(map[key]bool, len(events))
	var keep []*store.Event
	for i := range events {
		k := key{events[i].Tenant, events[i].ID}
		if !seen[k] {
			seen[k] = true
			keep = append(keep, &events[i])
		}
	}
	return s.appendRows(ctx, "events", "INSERT OR IGNORE INTO events SELECT * FROM appended_data", len(keep), func(i int) []driver.Value {
		e := keep[i]
		k, v := e.Attributes.Split()
		return []driver.Value{e.Tenant, e.ID, string(e.Kind), e.Type, e.Subject, e.Severity, e.Time.UnixNano(), e.Summary, k, v, e.Payload}
	})
}

// Events returns matching events, newest first.
func (s *Store) Events(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	query := `SELECT id, kind, type, subject, severity, time_ns, summary, attr_keys, attr_values, payload FROM events
		WHERE tenant = ? AND time_ns >= ? AND time_ns < ?`
	args := []any{q.Tenant, q.Start.UnixNano(), q.End.UnixNano()}
	if len(q.Kinds) > 0 {
		marks := make([]string, len(q.Kinds))
		for i, k := range q.Kinds {
			marks[i] = "?"
			args = append(args, string(k))
		}
		query += ` AND kind IN (` + strings.Join(marks, ",") + `)`
	}
	if q.Subject != "" {
		query += ` AND subject = ?`
		args = append(args, q.Subject)
	}
	query += ` ORDER BY time_ns DESC, id`
	if q.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot read events: %w", err)
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		e := store.Event{Tenant: q.Tenant}
		var kind string
		var ns int64
		var k, v stringList
		if err := rows.Scan(&e.ID, &kind, &e.Type, &e.Subject, &e.Severity, &ns, &e.Summary, &k, &v, &e.Payload); err != nil {
			return nil, fmt.Errorf("cannot read events: %w", err)
		}
		e.Kind, e.Time, e.Attributes = store.EventKind(kind), time.Unix(0, ns).UTC(), store.JoinAttributes(k, v)
		out = append(out, e)
	}
	return out, rows.Err()
}
