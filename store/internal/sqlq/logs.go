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
		via, err := r.indexWord(ctx, q.Tenant, words, q.Start, end)
		if err != nil {
			return nil, err
		}
		pre, where := r.d.hasWords(q.Tenant, words, via, q.Start, end)
		if where.SQL != "" {
			c.add(where.SQL, where.Args...)
		}
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

// IndexedRowsLimit is the most index rows a search's word may have in
// its range for the search to go through the token index. The index plan
// reads the logs table's id column, hands it every id the word has (an
// IN set), and then reads the other columns of every granule (8,192
// rows) that holds one of them; a word spread over the range touches
// about as many granules as it has rows until it touches them all, and
// then the index plan reads everything the tokens-column plan does and
// more. Measured over 10,000,000 lines (1,221 granules; BENCHMARKS.md,
// "Logs: bulk parsing, writing and full-text search"): a word in 100
// lines took 0.43 s through the index and 1.44 s through the tokens
// column, one in 10,000 lines 3.50 s and 2.70 s; the line between them
// crosses where the word touches a little over half the granules, about
// 1,000 rows at that size. The crossing grows with the range's granules,
// so on more lines the limit errs towards the scan.
var IndexedRowsLimit = 1000

// indexWord picks the word whose token index rows a search reads: the
// one of words with the fewest rows in [start, end), or "" when even that
// one has more than IndexedRowsLimit (or the dialect has no index), and
// the search reads every row's tokens instead. Each count stops past the
// limit, a primary-key range of the index.
func (r *Reader) indexWord(ctx context.Context, tenant string, words []string, start, end time.Time) (string, error) {
	limit := IndexedRowsLimit
	via, fewest := "", uint64(limit)
	for _, w := range words {
		q := r.d.tokenRows(tenant, w, start, end, limit)
		if q.SQL == "" {
			return "", nil
		}
		var n uint64
		if err := r.one(ctx, "count the index rows of a log search's word", q, &n); err != nil {
			return "", err
		}
		if n <= fewest {
			via, fewest = w, n
		}
	}
	return via, nil
}
