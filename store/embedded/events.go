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
		// The attribute columns predate typed payloads; new events leave them empty.
		return []driver.Value{e.Tenant, e.ID, string(e.Kind), e.Type, e.Subject, e.Severity, e.Time.UnixNano(), e.Summary, []string{}, []string{}, e.Payload}
	})
}

// Events returns matching events, newest first.
func (s *Store) Events(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	query := `SELECT tenant, id, kind, type, subject, severity, time_ns, summary, payload FROM events
		WHERE time_ns >= ? AND time_ns < ?`
	args := []any{q.Start.UnixNano(), q.End.UnixNano()}
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
		if len(f.values) == 0 {
			continue
		}
		marks := make([]string, len(f.values))
		for i, v := range f.values {
			marks[i] = "?"
			args = append(args, v)
		}
		query += ` AND ` + f.col + ` IN (` + strings.Join(marks, ",") + `)`
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
