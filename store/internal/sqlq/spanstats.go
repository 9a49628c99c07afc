package sqlq

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// isRoot is true for spans without a parent. hex() reads a FixedString(8)
// and a BLOB alike, so one literal serves both backends.
const isRoot = "hex(parent_span_id) = '0000000000000000'"

// isEntry is true for the spans through which requests enter a service.
var isEntry = fmt.Sprintf("(kind IN (%d, %d) OR %s)", store.SpanKindServer, store.SpanKindConsumer, isRoot)

// SpanStats groups spans by dimensions and time bucket. The inner query
// sorts each group's durations once; the outer picks the nearest-rank
// percentiles out of that array by index, as Throughput does, because the
// databases' own quantile functions rank differently from each other.
func (r *Reader) SpanStats(ctx context.Context, q store.SpanStatsQuery) ([]store.SpanStats, error) {
	if !q.End.After(q.Start) {
		return nil, fmt.Errorf("cannot read span stats: end %s is not after start %s", q.End, q.Start)
	}
	// The inner query names each key (k0, k1, ...), which the outer one
	// reads: a key may be an expression (an attribute dimension).
	var keys, group, inner []string
	for i, d := range q.GroupBy {
		expr, err := usageKey(r.d, d)
		if err != nil {
			return nil, err
		}
		name := "k" + strconv.Itoa(i)
		keys, group, inner = append(keys, name), append(group, expr), append(inner, expr+" AS "+name)
	}
	c, err := r.spanStatsConds(q)
	if err != nil {
		return nil, err
	}
	var args []any
	if q.Step > 0 {
		inner = append(inner, r.d.cast(r.d.intDiv("start_ns - ?", strconv.FormatInt(int64(q.Step), 10)), typeInt64)+" AS bucket")
		group = append(group, "bucket")
		args = append(args, q.Start.UnixNano())
	} else {
		inner = append(inner, r.d.cast("0", typeInt64)+" AS bucket")
	}
	inner = append(inner, "count(*) AS n", r.d.countIf(failed)+" AS errs")
	if !q.CountsOnly {
		inner = append(inner, r.d.sortedList("duration_ns")+" AS d")
	}
	innerSQL := "SELECT " + strings.Join(inner, ", ") + " FROM spans WHERE " + c.String()
	if len(group) > 0 {
		innerSQL += " GROUP BY " + strings.Join(group, ", ")
	}
	// Without GROUP BY, no spans would be a row of zeros.
	innerSQL += " HAVING count(*) > 0"
	outer := append(slices.Clone(keys), "bucket", "n", "errs")
	for _, p := range []int{50, 90, 99} {
		if q.CountsOnly {
			outer = append(outer, r.d.cast("0", typeInt64))
			continue
		}
		outer = append(outer, r.d.element("d", r.d.intDiv(fmt.Sprintf("%d * n + 99", p), "100")))
	}
	order := append(slices.Clone(keys), "bucket")
	query := Query{SQL: "SELECT " + strings.Join(outer, ", ") + " FROM (" + innerSQL + ") AS g ORDER BY " + strings.Join(order, ", "),
		Args: append(args, c.args...)}
	return r.collectSpanStats(ctx, q, len(keys), query)
}

// spanStatsConds are a SpanStatsQuery's conditions.
func (r *Reader) spanStatsConds(q store.SpanStatsQuery) (conds, error) {
	var c conds
	c.add("tenant = ?", q.Tenant)
	c.spansStarting(r.d, q.Start, q.End)
	for _, d := range slices.Sorted(maps.Keys(q.Filter)) {
		col, err := usageKey(r.d, d)
		if err != nil {
			return c, err
		}
		c.add(col+" = ?", q.Filter[d])
	}
	if q.Entry {
		c.add(isEntry)
	}
	if q.ModelCalls {
		c.add("model <> ''")
	}
	return c, nil
}

func (r *Reader) collectSpanStats(ctx context.Context, q store.SpanStatsQuery, nKeys int, query Query) ([]store.SpanStats, error) {
	keys := make([]string, nKeys)
	var s store.SpanStats
	var bucket, p50, p90, p99 int64
	dest := make([]any, 0, nKeys+6)
	for i := range keys {
		dest = append(dest, &keys[i])
	}
	dest = append(dest, &bucket, &s.Spans, &s.Errors, &p50, &p90, &p99)
	return collect(ctx, r, "read span stats", query, dest, func() (store.SpanStats, error) {
		s.Keys = slices.Clone(keys)
		s.Bucket = q.Start.Add(time.Duration(bucket) * q.Step).UTC()
		s.P50, s.P90, s.P99 = time.Duration(p50), time.Duration(p90), time.Duration(p99)
		return s, nil
	})
}

// rootFirst orders a trace's spans for argMin: roots by start, then every
// other span by start. Starts are below 2^62 ns (year 2116), so adding 2^62
// keeps every non-root after every root without overflowing an Int64.
const rootFirst = "start_ns + CASE WHEN " + isRoot + " THEN 0 ELSE 4611686018427387904 END"

// TraceSummaries finds traces as FindTraceIDs does and sums each one's
// spans in the same read.
func (r *Reader) TraceSummaries(ctx context.Context, q store.TraceSearch) ([]store.TraceSummary, error) {
	match := r.traceMatch(q.TraceQuery)
	match.equal("model", q.Model)
	switch q.Status {
	case store.OnlyErrors:
		match.add(failed)
	case store.NoErrors:
		match.add("NOT " + failed)
	}
	found := "SELECT trace_id FROM (SELECT trace_id, max(start_ns) AS latest FROM spans WHERE " + match.String() +
		fmt.Sprintf(" GROUP BY trace_id ORDER BY latest DESC, trace_id LIMIT %d) AS found", traceLimit(q.TraceQuery))
	var c conds
	c.add("tenant = ?", q.Tenant)
	c.spansStarting(r.d, widen(q.Start, -store.TraceSummaryMargin), widen(q.End, store.TraceSummaryMargin))
	// found ranks traces across every shard, so it runs once.
	c.add("trace_id "+r.d.globalIn()+" ("+found+")", match.args...)
	sel := []string{"trace_id", "min(start_ns) AS trace_start", "max(start_ns + duration_ns)", "count(*)", r.d.countIf(failed),
		r.d.argMin("service", rootFirst), r.d.argMin("operation", rootFirst),
		r.d.sum("input_tokens", "", typeInt64), r.d.sum("output_tokens", "", typeInt64), "sum(cost)"}
	query := Query{SQL: "SELECT " + strings.Join(sel, ", ") + " FROM spans WHERE " + c.String() +
		" GROUP BY trace_id ORDER BY trace_start DESC, trace_id", Args: c.args}
	var ts store.TraceSummary
	var id []byte
	var end int64
	dest := []any{&id, &ts.StartUnixNano, &end, &ts.Spans, &ts.Errors, &ts.RootService, &ts.RootOperation,
		&ts.InputTokens, &ts.OutputTokens, r.conn.Money(&ts.Cost)}
	return collect(ctx, r, "summarise traces", query, dest, func() (store.TraceSummary, error) {
		copy(ts.TraceID[:], id)
		ts.DurationNano = end - ts.StartUnixNano
		return ts, nil
	})
}

// widen moves a range's bound by d, leaving an open (zero) bound open.
func widen(t time.Time, d time.Duration) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Add(d)
}
