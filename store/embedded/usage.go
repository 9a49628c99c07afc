package embedded

import (
	"context"
	"fmt"
	"strings"

	"github.com/vigil-dev/vigil/store"
)

// Usage sums model calls.
func (s *Store) Usage(ctx context.Context, q store.UsageQuery) ([]store.UsageGroup, error) {
	groupCols, conds, condArgs, err := store.UsageSQL(q)
	if err != nil {
		return nil, err
	}
	where := append([]string{"tenant = ?", "start_ns >= ?", "start_ns < ?", "model <> ''"}, conds...)
	args := append([]any{q.Tenant, q.Start.UnixNano(), q.End.UnixNano()}, condArgs...)
	sel := append(append([]string(nil), groupCols...),
		"count(*)", "count(*) FILTER (WHERE status_code = 2)", "coalesce(sum(input_tokens), 0)::BIGINT", "coalesce(sum(output_tokens), 0)::BIGINT", "coalesce(sum(cached_tokens), 0)::BIGINT", "sum(cost)")
	query := `SELECT ` + strings.Join(sel, ", ") + ` FROM spans WHERE ` + strings.Join(where, " AND ")
	if len(groupCols) > 0 {
		query += ` GROUP BY ` + strings.Join(groupCols, ", ")
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot sum usage: %w", err)
	}
	defer rows.Close()
	var out []store.UsageGroup
	for rows.Next() {
		g := store.UsageGroup{Keys: make([]string, len(groupCols))}
		var c money
		dest := make([]any, 0, len(groupCols)+6)
		for i := range g.Keys {
			dest = append(dest, &g.Keys[i])
		}
		dest = append(dest, &g.Calls, &g.Errors, &g.InputTokens, &g.OutputTokens, &g.CachedTokens, &c)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("cannot sum usage: %w", err)
		}
		if g.Calls == 0 {
			continue // no group-by and no calls: the empty aggregate row
		}
		g.Cost = c.d
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	store.SortUsageGroups(out)
	return out, nil
}
