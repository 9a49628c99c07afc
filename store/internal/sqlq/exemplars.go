package sqlq

import (
	"context"
	"strconv"

	"github.com/vigil-dev/vigil/store"
)

// SpanExemplars implements store.SpanExemplarReader: one GROUP BY over the
// range's spans, by label set and step, keeping each group's slowest span.
func (r *Reader) SpanExemplars(ctx context.Context, q store.SpanExemplarQuery) ([]store.SpanExemplar, error) {
	var c conds
	c.add("tenant = ?", q.Tenant)
	c.equal("service", q.Service, "operation", q.Operation, "model", q.Model, "deployment", q.Deployment)
	c.spansStarting(r.d, q.Start, q.End)
	step := strconv.FormatInt(max(int64(q.Step), 1), 10)
	slowest := func(col string) string { return r.d.argMax(col, "duration_ns") }
	query := Query{SQL: "SELECT service, operation, model, deployment, status_code, " + r.d.intDiv("start_ns", step) + " AS slot, " +
		slowest("trace_id") + ", " + slowest("span_id") + ", " + slowest("start_ns") + ", max(duration_ns)" +
		" FROM spans WHERE " + c.String() +
		" GROUP BY service, operation, model, deployment, status_code, slot ORDER BY service, operation, model, deployment, status_code, slot", Args: c.args}
	var e store.SpanExemplar
	var status int8
	var slot int64
	var traceID, spanID []byte
	return collect(ctx, r, "read span exemplars", query,
		[]any{&e.Service, &e.Operation, &e.Model, &e.Deployment, &status, &slot, &traceID, &spanID, &e.StartUnixNano, &e.DurationNano},
		func() (store.SpanExemplar, error) {
			out := e
			out.Status = store.StatusCode(status)
			copy(out.TraceID[:], traceID)
			copy(out.SpanID[:], spanID)
			return out, nil
		})
}
