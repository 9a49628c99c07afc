package embedded

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/codec"
)

// SLICounts counts an indicator's good and total spans per minute.
func (s *Store) SLICounts(ctx context.Context, q store.SLIQuery) ([]store.MinuteCounts, error) {
	where := []string{"tenant = ?", "service = ?", "start_ns >= ?", "start_ns < ?"}
	args := []any{q.Tenant, q.Service, q.Start.UnixNano(), q.End.UnixNano()}
	where, args = codec.Equal(where, args, "operation", q.Operation, "model", q.Model)
	for _, k := range q.SortedAttributeKeys() {
		where = append(where, "(list_contains(attr_keys, ?) AND attr_values[list_position(attr_keys, ?)] = ? OR list_contains(resource_keys, ?) AND resource_values[list_position(resource_keys, ?)] = ?)")
		v := q.Attributes[k]
		args = append(args, k, k, v, k, k, v)
	}
	var good string
	var goodArgs []any // the SELECT list binds before the WHERE clause
	switch q.Good {
	case "latency":
		good = fmt.Sprintf("duration_ns <= %d", int64(q.Latency))
	case "availability":
		good = "status_code != 2"
	case "attribute":
		op := store.SQLOp(q.Op)
		if op == "" {
			return nil, fmt.Errorf("cannot count SLI events: unknown comparison %q", q.Op)
		}
		where = append(where, "TRY_CAST(attr_values[list_position(attr_keys, ?)] AS DOUBLE) IS NOT NULL")
		args, goodArgs = append(args, q.Attribute), []any{q.Attribute}
		good = "TRY_CAST(attr_values[list_position(attr_keys, ?)] AS DOUBLE) " + op + " " + strconv.FormatFloat(q.Threshold, 'g', -1, 64)
	default:
		return nil, fmt.Errorf("cannot count SLI events: unknown kind of good event %q", q.Good)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT start_ns // 60000000000 AS minute, count(*) FILTER (WHERE `+good+`), count(*)
		FROM spans WHERE `+strings.Join(where, " AND ")+` GROUP BY minute ORDER BY minute`, append(goodArgs, args...)...)
	if err != nil {
		return nil, fmt.Errorf("cannot count SLI events: %w", err)
	}
	defer rows.Close()
	counts, err := codec.MinuteCounts(rows)
	if err != nil {
		return nil, fmt.Errorf("cannot count SLI events: %w", err)
	}
	return counts, nil
}
