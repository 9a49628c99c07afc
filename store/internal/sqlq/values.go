package sqlq

import (
	"context"
	"fmt"

	"github.com/vigil-dev/vigil/store"
)

// SpanValues reads one value of the spans q selects, as text.
func (r *Reader) SpanValues(ctx context.Context, q store.ValueQuery) (store.SpanValues, error) {
	var c conds
	c.add("tenant = ?", q.Tenant)
	c.spansStarting(r.d, q.Start, q.End)
	c.equal("service", q.Service, "operation", q.Operation, "model", q.Model, "model_version", q.ModelVersion)
	var value string
	var valueArgs []any // the SELECT list binds before the WHERE clause
	switch q.Field {
	case "duration":
		// Seconds, exactly: nanoseconds are integers, and Go divides them
		// below.
		value = r.d.cast("duration_ns", typeString)
	case "input_tokens", "output_tokens":
		value = r.d.cast(q.Field, typeString)
	case "attribute":
		value, valueArgs = r.d.lookup("attr_keys", "attr_values", "?"), []any{q.Attribute}
		c.add(r.d.has("attr_keys", "?"), q.Attribute)
	default:
		return store.SpanValues{}, fmt.Errorf("cannot read span values: unknown field %q", q.Field)
	}
	var out store.SpanValues
	count := Query{SQL: "SELECT count(*) FROM spans WHERE " + c.String(), Args: c.args}
	if err := r.one(ctx, "count span values", count, &out.Matched); err != nil {
		return store.SpanValues{}, err
	}
	if out.Matched == 0 {
		return out, nil
	}
	limit := store.DurationQuery{Limit: q.Limit}.DurationLimit()
	values := Query{SQL: "SELECT " + value + " FROM spans WHERE " + c.String() +
		fmt.Sprintf(" ORDER BY span_id, trace_id, start_ns LIMIT %d", limit), Args: append(valueArgs, c.args...)}
	var v string
	var err error
	out.Values, err = collect(ctx, r, "read span values", values, []any{&v}, func() (string, error) { return v, nil })
	if err != nil {
		return store.SpanValues{}, err
	}
	if q.Field == "duration" {
		store.NanosToSeconds(out.Values)
	}
	return out, nil
}
