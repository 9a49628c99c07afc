package clickhouse

import (
	"context"
	"time"
)

// Heartbeat implements store.Members; readers take each member's latest
// heartbeat.
func (s *Store) Heartbeat(ctx context.Context, group, member string, at time.Time) error {
	return s.insert(ctx, "members", "member_group, member, seen, seen_ns", 1, func(int) ([]any, error) {
		return []any{group, member, dateTime(at), at.UnixNano()}, nil
	})
}
