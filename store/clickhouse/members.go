package clickhouse

import (
	"context"
	"fmt"
	"time"
)

// Heartbeat implements store.Members.
func (s *Store) Heartbeat(ctx context.Context, group, member string, at time.Time) error {
	return s.insert(ctx, "members", "member_group, member, seen, seen_ns", 1, func(int) ([]any, error) {
		return []any{group, member, dateTime(at), at.UnixNano()}, nil
	})
}

// LiveMembers implements store.Members. Grouping takes each member's latest
// heartbeat whether or not the rows have merged yet.
func (s *Store) LiveMembers(ctx context.Context, group string, since time.Time) ([]string, error) {
	rows, err := s.conn.Query(ctx, `SELECT member FROM members WHERE member_group = ? GROUP BY member HAVING max(seen_ns) >= ? ORDER BY member`,
		group, since.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("cannot read members of %s: %w", group, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
