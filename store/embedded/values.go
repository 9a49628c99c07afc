package embedded

import (
	"context"
	"fmt"
	"strings"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/codec"
)

// SpanValues implements store.SpanValueReader.
func (s *Store) SpanValues(ctx context.Context, q store.ValueQuery) (store.SpanValues, error) {
	where := []string{"tenant = ?", "start_ns >= ?", "start_ns < ?"}
	args := []any{q.Tenant, q.Start.UnixNano(), q.End.UnixNano()}
	where, args = codec.Equal(where, args, "service", q.Service, "operation", q.Operation, "model", q.Model, "model_version", q.ModelVersion)
	var value string
	var valueArgs []any // the SELECT list binds before the WHERE clause
	switch q.Field {
	case "duration":
		value = "CAST(duration_ns AS VARCHAR)"
	case "input_tokens", "output_tokens":
		value = "CAST(" + q.Field + " AS VARCHAR)"
	case "attribute":
		value, valueArgs = "attr_values[list_position(attr_keys, ?)]", []any{q.Attribute}
		where, args = append(where, "list_contains(attr_keys, ?)"), append(args, q.Attribute)
	default:
		return store.SpanValues{}, fmt.Errorf("cannot read span values: unknown field %q", q.Field)
	}
	cond := strings.Join(where, " AND ")
	var out store.SpanValues
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM spans WHERE `+cond, args...).Scan(&out.Matched); err != nil {
		return store.SpanValues{}, fmt.Errorf("cannot count span values: %w", err)
	}
	if out.Matched == 0 {
		return out, nil
	}
	limit := store.DurationQuery{Limit: q.Limit}.DurationLimit()
	rows, err := s.db.QueryContext(ctx, `SELECT `+value+` FROM spans WHERE `+cond+fmt.Sprintf(` ORDER BY span_id, trace_id, start_ns LIMIT %d`, limit),
		append(valueArgs, args...)...)
	if err != nil {
		return store.SpanValues{}, fmt.Errorf("cannot read span values: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return store.SpanValues{}, fmt.Errorf("cannot read span values: %w", err)
		}
		out.Values = append(out.Values, v)
	}
	if err := rows.Err(); err != nil {
		return store.SpanValues{}, err
	}
	if q.Field == "duration" {
		store.NanosToSeconds(out.Values)
	}
	return out, nil
}
