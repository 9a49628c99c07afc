package sqlq

import (
	"context"
	"time"
)

// LiveMembers lists the members of group seen at or after since. Grouping
// takes each member's latest heartbeat whether or not a store has folded
// its heartbeats into one row yet (ClickHouse merges in the background).
func (r *Reader) LiveMembers(ctx context.Context, group string, since time.Time) ([]string, error) {
	q := Query{SQL: "SELECT member FROM members WHERE member_group = ? GROUP BY member HAVING max(seen_ns) >= ? ORDER BY member",
		Args: []any{group, since.UnixNano()}}
	var m string
	return collect(ctx, r, "read members of "+group, q, []any{&m}, func() (string, error) { return m, nil })
}
