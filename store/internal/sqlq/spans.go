package sqlq

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/codec"
)

// SpanColumns are the span columns both schemas have, in the order Trace
// reads them (a backend may insert them in this order too).
const SpanColumns = `tenant, start_ns, duration_ns, trace_id, span_id, parent_span_id, trace_state,
	service, operation, kind, status_code, status_message, scope_name, scope_version,
	resource_keys, resource_values, attr_keys, attr_values, events, links,
	model, model_version, deployment, provider, operation_type,
	input_tokens, output_tokens, cached_tokens, cost, resource_types, attr_types`

// failed is true for spans with an error status.
var failed = "status_code = " + strconv.Itoa(int(store.StatusError))

// nanosPerMinute divides start_ns into minutes since the epoch.
var nanosPerMinute = strconv.FormatInt(int64(time.Minute), 10)

// during bounds a time-series table's rows to [start, end) (a zero bound is
// open): exactly on an integer column holding at(t), and on the DateTime
// column the table is partitioned by where the dialect has one.
func (c *conds) during(d Dialect, partition, exact string, at func(time.Time) int64, start, end time.Time) {
	d.prune(c, partition, start, end)
	if !start.IsZero() {
		c.add(exact+" >= ?", at(start))
	}
	if !end.IsZero() {
		c.add(exact+" < ?", at(end))
	}
}

// spansStarting bounds span starts to [start, end).
func (c *conds) spansStarting(d Dialect, start, end time.Time) {
	c.during(d, "timestamp", "start_ns", time.Time.UnixNano, start, end)
}

// attrEquals is true for spans whose attribute k, or whose resource's
// attribute k, is v.
func attrEquals(d Dialect, k, v string) (string, []any) {
	is := func(keys, values string) string {
		return d.has(keys, "?") + " AND " + d.lookup(keys, values, "?") + " = ?"
	}
	return "(" + is("attr_keys", "attr_values") + " OR " + is("resource_keys", "resource_values") + ")", []any{k, k, v, k, k, v}
}

// Trace returns a trace's spans. With a trace index it reads only where
// the index says the trace is: each of its services' spans over the
// seconds they cover (trace_locations), which spans' sort key (tenant,
// service, operation, timestamp) finds in a few granules; for traces
// written before that table existed, whole days (trace_index).
func (r *Reader) Trace(ctx context.Context, tenant string, id store.TraceID) ([]store.Span, error) {
	expr, arg := r.d.traceID(id)
	var c conds
	from := "spans WHERE "
	if r.d.traceIndex() {
		// The id first (PREWHERE, whose argument binds first): the other
		// columns are read only of the granules that hold the trace, where
		// 18.16 would pick the tenant's or service's condition to read
		// first.
		from = "spans PREWHERE trace_id = " + expr + " WHERE "
		c.args = []any{arg}
	}
	c.add("tenant = ?", tenant)
	if r.d.traceIndex() {
		found, err := r.traceLocations(ctx, &c, tenant, id)
		if err != nil {
			return nil, err
		}
		if !found {
			first, last, err := r.traceDays(ctx, tenant, id)
			if err != nil {
				return nil, err
			}
			if first.IsZero() {
				return nil, fmt.Errorf("trace %s: %w", id, store.ErrNotFound)
			}
			r.d.prune(&c, "timestamp", first, last.AddDate(0, 0, 1))
		}
	} else {
		c.add("trace_id = "+expr, arg)
	}
	q := Query{SQL: "SELECT " + SpanColumns + " FROM " + from + c.String() + " ORDER BY start_ns, span_id", Args: c.args}
	out, err := r.Spans(ctx, "read trace "+id.String(), q)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		// Without an index, or the index outlived the spans (retention
		// drops both, not atomically).
		return nil, fmt.Errorf("trace %s: %w", id, store.ErrNotFound)
	}
	return out, nil
}

// Traces returns the traces of ids the tenant has. With trace_locations
// it reads them in two reads (their locations, then their spans over
// those services and seconds); a trace without locations (written before
// the table existed), or a dialect without the index, is read by Trace.
func (r *Reader) Traces(ctx context.Context, tenant string, ids []store.TraceID) ([][]store.Span, error) {
	found := map[store.TraceID][]store.Span{}
	if r.d.traceIndex() && len(ids) > 1 {
		var err error
		if found, err = r.locatedTraces(ctx, tenant, ids); err != nil {
			return nil, err
		}
	}
	return EachTrace(ctx, tenant, ids, func(ctx context.Context, tenant string, id store.TraceID) ([]store.Span, error) {
		if spans, ok := found[id]; ok {
			return spans, nil
		}
		return r.Trace(ctx, tenant, id)
	})
}

// EachTrace is Traces made of one trace read per id: in the order of ids,
// those the read does not find left out.
func EachTrace(ctx context.Context, tenant string, ids []store.TraceID,
	trace func(context.Context, string, store.TraceID) ([]store.Span, error)) ([][]store.Span, error) {
	out := make([][]store.Span, 0, len(ids))
	for _, id := range ids {
		spans, err := trace(ctx, tenant, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, spans)
	}
	return out, nil
}

// locatedTraces reads the traces of ids that trace_locations has, by id.
func (r *Reader) locatedTraces(ctx context.Context, tenant string, ids []store.TraceID) (map[store.TraceID][]store.Span, error) {
	marks := make([]string, len(ids))
	idArgs := make([]any, len(ids))
	for i, id := range ids {
		marks[i], idArgs[i] = r.d.traceID(id)
	}
	in := "trace_id IN (" + strings.Join(marks, ", ") + ")"
	q := Query{SQL: "SELECT service, min(first), max(last) FROM trace_locations WHERE tenant = ? AND " + in +
		" GROUP BY trace_id, service", Args: append([]any{tenant}, idArgs...)}
	var service string
	var first, last time.Time
	var where conds
	err := r.each(ctx, fmt.Sprintf("look up %d traces", len(ids)), q, []any{&service, &first, &last}, func() error {
		where.add("(service = ? AND timestamp >= ? AND timestamp <= ?)", service, r.d.time(first), r.d.time(last))
		return nil
	})
	if err != nil || len(where.sql) == 0 {
		return nil, err
	}
	// As in Trace: the ids first (PREWHERE), then the services and
	// seconds, which the sort key finds.
	c := conds{args: idArgs}
	c.add("tenant = ?", tenant)
	c.add("("+strings.Join(where.sql, " OR ")+")", where.args...)
	spans, err := r.Spans(ctx, fmt.Sprintf("read %d traces", len(ids)), Query{
		SQL:  "SELECT " + SpanColumns + " FROM spans PREWHERE " + in + " WHERE " + c.String() + " ORDER BY trace_id, start_ns, span_id",
		Args: c.args,
	})
	if err != nil {
		return nil, err
	}
	found := map[store.TraceID][]store.Span{}
	for i := range spans {
		id := spans[i].TraceID
		found[id] = append(found[id], spans[i])
	}
	return found, nil
}

// traceLocations adds to c the services and seconds trace_locations has
// the trace's spans in; false when it has none.
func (r *Reader) traceLocations(ctx context.Context, c *conds, tenant string, id store.TraceID) (bool, error) {
	expr, arg := r.d.traceID(id)
	q := Query{SQL: "SELECT service, min(first), max(last) FROM trace_locations WHERE tenant = ? AND trace_id = " + expr +
		" GROUP BY service ORDER BY service", Args: []any{tenant, arg}}
	var service string
	var first, last time.Time
	var where conds
	err := r.each(ctx, "look up trace "+id.String(), q, []any{&service, &first, &last}, func() error {
		where.add("(service = ? AND timestamp >= ? AND timestamp <= ?)", service, r.d.time(first), r.d.time(last))
		return nil
	})
	if err != nil || len(where.sql) == 0 {
		return false, err
	}
	c.add("("+strings.Join(where.sql, " OR ")+")", where.args...)
	return true, nil
}

// traceDays returns the first and last day the trace index has the trace
// on; zero times when it has none.
func (r *Reader) traceDays(ctx context.Context, tenant string, id store.TraceID) (first, last time.Time, err error) {
	expr, arg := r.d.traceID(id)
	q := Query{SQL: "SELECT min(day), max(day) FROM trace_index WHERE tenant = ? AND trace_id = " + expr, Args: []any{tenant, arg}}
	if err := r.one(ctx, "look up trace "+id.String(), q, &first, &last); err != nil {
		return time.Time{}, time.Time{}, err
	}
	if first.Year() <= 1970 { // min over no rows is the zero Date
		return time.Time{}, time.Time{}, nil
	}
	return first, last, nil
}

// Spans runs q, a SELECT of SpanColumns, and returns its spans; what
// names the read in errors. A store whose own plan finds spans faster
// (the embedded store's trace index) reads them with it.
func (r *Reader) Spans(ctx context.Context, what string, q Query) ([]store.Span, error) {
	dest, row := r.spanRow()
	return collect(ctx, r, what, q, dest, row)
}

// spanRow returns the scan destinations of SpanColumns and the function
// that makes a span of each row scanned into them.
func (r *Reader) spanRow() ([]any, func() (store.Span, error)) {
	var scanned store.Span // the columns that scan as they are
	var traceID, spanID, parentID []byte
	var kind, status int8
	var rk, rv, ak, av []string
	var rt, at []int8
	var events, links string
	dest := []any{&scanned.Tenant, &scanned.StartUnixNano, &scanned.DurationNano, &traceID, &spanID, &parentID, &scanned.TraceState,
		&scanned.Service, &scanned.Operation, &kind, &status, &scanned.StatusMessage, &scanned.ScopeName, &scanned.ScopeVersion,
		r.conn.Strings(&rk), r.conn.Strings(&rv), r.conn.Strings(&ak), r.conn.Strings(&av), &events, &links,
		&scanned.Model, &scanned.ModelVersion, &scanned.Deployment, &scanned.Provider, &scanned.OperationType,
		&scanned.InputTokens, &scanned.OutputTokens, &scanned.CachedTokens, r.conn.Money(&scanned.Cost), r.conn.Int8s(&rt), r.conn.Int8s(&at)}
	return dest, func() (store.Span, error) {
		sp := scanned
		copy(sp.TraceID[:], traceID)
		copy(sp.SpanID[:], spanID)
		copy(sp.ParentSpanID[:], parentID)
		sp.Kind, sp.StatusCode = store.SpanKind(kind), store.StatusCode(status)
		sp.Resource = store.JoinTypedAttributes(rk, rv, rt)
		sp.Attributes = store.JoinTypedAttributes(ak, av, at)
		return sp, codec.DecodeEventsLinks(&sp, events, links)
	}
}

// FindTraceIDs finds traces with a span matching the query.
func (r *Reader) FindTraceIDs(ctx context.Context, q store.TraceQuery) ([]store.TraceID, error) {
	c := r.traceMatch(q)
	query := Query{SQL: "SELECT trace_id, max(start_ns) AS latest FROM spans WHERE " + c.String() +
		fmt.Sprintf(" GROUP BY trace_id ORDER BY latest DESC, trace_id LIMIT %d", traceLimit(q)), Args: c.args}
	var b []byte
	var latest int64
	return collect(ctx, r, "search traces", query, []any{&b, &latest}, func() (id store.TraceID, _ error) {
		copy(id[:], b)
		return id, nil
	})
}

// traceLimit is the query's limit, or the default.
func traceLimit(q store.TraceQuery) int {
	if q.Limit <= 0 {
		return store.DefaultTraceLimit
	}
	return q.Limit
}

// traceMatch are the conditions a span of a trace the query finds meets.
func (r *Reader) traceMatch(q store.TraceQuery) conds {
	var c conds
	c.add("tenant = ?", q.Tenant)
	c.equal("service", q.Service, "operation", q.Operation)
	c.spansStarting(r.d, q.Start, q.End)
	if q.MinDuration > 0 {
		c.add("duration_ns >= ?", int64(q.MinDuration))
	}
	if q.MaxDuration > 0 {
		c.add("duration_ns <= ?", int64(q.MaxDuration))
	}
	for _, k := range slices.Sorted(maps.Keys(q.Tags)) {
		v := q.Tags[k]
		cond, args := attrEquals(r.d, k, v)
		if k == "error" && v == "true" {
			// As Jaeger's UI searches for errors.
			cond = "(" + cond + " OR " + failed + ")"
		}
		c.add(cond, args...)
	}
	return c
}

// names is the table that lists services and operations: span_names
// where the dialect has it, holding a row per day rather than per span.
func (r *Reader) names() string {
	if r.d.spanNames() {
		return "span_names"
	}
	return "spans"
}

// Services lists a tenant's services.
func (r *Reader) Services(ctx context.Context, tenant string) ([]string, error) {
	q := Query{SQL: "SELECT DISTINCT service FROM " + r.names() + " WHERE tenant = ? ORDER BY service", Args: []any{tenant}}
	var s string
	return collect(ctx, r, "list services", q, []any{&s}, func() (string, error) { return s, nil })
}

// Operations lists a service's operations.
func (r *Reader) Operations(ctx context.Context, tenant, service string) ([]store.Operation, error) {
	q := Query{SQL: "SELECT DISTINCT operation, kind FROM " + r.names() + " WHERE tenant = ? AND service = ? ORDER BY operation, kind", Args: []any{tenant, service}}
	var name string
	var kind int8
	return collect(ctx, r, "list operations", q, []any{&name, &kind}, func() (store.Operation, error) {
		return store.Operation{Name: name, Kind: store.SpanKind(kind)}, nil
	})
}
