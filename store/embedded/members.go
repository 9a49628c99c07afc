package embedded

import (
	"context"
	"fmt"
	"time"
)

// Heartbeat implements store.Members.
func (s *Store) Heartbeat(ctx context.Context, group, member string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO members (member_group, member, seen_ns) VALUES (?, ?, ?)
		ON CONFLICT (member_group, member) DO UPDATE SET seen_ns = greatest(members.seen_ns, excluded.seen_ns)`, group, member, at.UnixNano())
	if err != nil {
		return fmt.Errorf("cannot record heartbeat of %s: %w", member, err)
	}
	return nil
}

// LiveMembers implements store.Members.
func (s *Store) LiveMembers(ctx context.Context, group string, since time.Time) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT member FROM members WHERE member_group = ? AND seen_ns >= ? ORDER BY member`, group, since.UnixNano())
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
