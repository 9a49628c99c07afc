package sqlq

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// LogColumns are the log columns both schemas have, in the order Logs
// reads them; tokens follows them in both schemas' inserts.
const LogColumns = `tenant, time_ns, observed_ns, id, service, severity, severity_text, body,
	trace_id, span_id, scope_name, resource_keys, resource_values, attr_keys, attr_values`

// Logs finds log records, newest first.
func (r *Reader) Logs(ctx context.Context, q store.LogQuery) ([]store.LogRecord, error) {
	var c conds
	c.add("tenant = ?", q.Tenant)
	c.equal("service", q.Service)
	if q.MinSeverity > 0 {
		c.add("severity >= ?", int8(q.MinSeverity))
	}
	end := q.End
	if a := q.After; a != nil {
		// Prune partitions past the cursor as well as the range.
		if at := time.Unix(0, a.TimeUnixNano+1); end.IsZero() || at.Before(end) {
			end = at
		}
		c.add("(time_ns < ? OR time_ns = ? AND id < ?)", a.TimeUnixNano, a.TimeUnixNano, a.ID)
	}
	c.during(r.d, "timestamp", "time_ns", time.Time.UnixNano, q.Start, end)
	if !q.TraceID.IsZero() {
		expr, arg := r.d.traceID(q.TraceID)
		c.add("trace_id = "+expr, arg)
	}
	for _, k := range slices.Sorted(maps.Keys(q.Attributes)) {
		cond, args := attrEquals(r.d, k, q.Attributes[k])
		c.add(cond, args...)
	}
	var prewhere string
	var preArgs []any
	if q.Text != "" {
		words := store.Tokens(q.Text)
		if len(words) == 0 {
			return nil, fmt.Errorf("cannot search logs for %q: it has no word (letters or digits) to look up", q.Text)
		}
		pre, where := r.d.hasWords(q.Tenant, words, q.Start, end)
		c.add(where.SQL, where.Args...)
		if pre.SQL != "" {
			prewhere = " PREWHERE " + pre.SQL
			preArgs = pre.Args
		}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = store.DefaultLogLimit
	}
	query := Query{SQL: "SELECT " + LogColumns + " FROM logs" + prewhere + " WHERE " + c.String() +
		fmt.Sprintf(" ORDER BY time_ns DESC, id DESC LIMIT %d", limit), Args: append(preArgs, c.args...)}
	var rec store.LogRecord
	var severity int8
	var traceID, spanID []byte
	var rk, rv, ak, av []string
	dest := []any{&rec.Tenant, &rec.TimeUnixNano, &rec.ObservedUnixNano, &rec.ID, &rec.Service, &severity, &rec.SeverityText, &rec.Body,
		&traceID, &spanID, &rec.ScopeName, r.conn.Strings(&rk), r.conn.Strings(&rv), r.conn.Strings(&ak), r.conn.Strings(&av)}
	return collect(ctx, r, "search logs", query, dest, func() (store.LogRecord, error) {
		out := rec
		out.Severity = store.Severity(severity)
		copy(out.TraceID[:], traceID)
		copy(out.SpanID[:], spanID)
		out.Resource = store.JoinAttributes(rk, rv)
		out.Attributes = store.JoinAttributes(ak, av)
		return out, nil
	})
}

// longest is the longest of words: the likeliest to be rare, so the one
// whose index entries are fewest to read.
func longest(words []string) string {
	w := words[0]
	for _, o := range words[1:] {
		if len(o) > len(w) {
			w = o
		}
	}
	return w
}
