package sqlq

import (
	"context"
	"fmt"

	"github.com/vigil-dev/vigil/store"
)

// SpanDurations reads the durations of the spans q selects, at most
// q.DurationLimit() of them (the smallest span ids), with exact counts of
// all matching spans and errors.
func (r *Reader) SpanDurations(ctx context.Context, q store.DurationQuery) (store.Durations, error) {
	if !q.End.After(q.Start) {
		return store.Durations{}, fmt.Errorf("cannot read span durations: end %s is not after start %s", q.End, q.Start)
	}
	var c conds
	c.add("tenant = ?", q.Tenant)
	c.spansStarting(r.d, q.Start, q.End)
	c.equal("service", q.Service, "operation", q.Operation, "model", q.Model, "model_version", q.ModelVersion, "deployment", q.Deployment)
	var out store.Durations
	// Counts and samples are two reads: spans written between them can
	// make the samples a little younger than the counts, which a
	// statistical comparison does not notice.
	count := Query{SQL: "SELECT count(*), " + r.d.countIf(failed) + " FROM spans WHERE " + c.String(), Args: c.args}
	if err := r.one(ctx, "count span durations", count, &out.Spans, &out.Errors); err != nil {
		return store.Durations{}, err
	}
	if out.Spans == 0 {
		return out, nil
	}
	limit := q.DurationLimit()
	samples := Query{SQL: "SELECT duration_ns, status_code FROM spans WHERE " + c.String() +
		fmt.Sprintf(" ORDER BY span_id, trace_id, start_ns LIMIT %d", limit), Args: c.args}
	out.Samples = make([]store.DurationSample, 0, min(out.Spans, uint64(limit)))
	var d int64
	var code int8
	err := r.each(ctx, "read span durations", samples, []any{&d, &code}, func() error {
		out.Samples = append(out.Samples, store.DurationSample{Nanos: d, Error: store.StatusCode(code) == store.StatusError})
		return nil
	})
	if err != nil {
		return store.Durations{}, err
	}
	return out, nil
}
