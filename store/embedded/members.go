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
