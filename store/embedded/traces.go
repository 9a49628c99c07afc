package embedded

import (
	"context"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/sqlq"
)

// Finding a trace by id. DuckDB has no index it will use for an equality
// on a random id (it scans), and spans are stored in arrival order, so a
// look-up would read every span's trace_id: about 10 ms a million spans.
// Instead each write also records, per trace in the batch, the trace's key
// (the id's first 8 bytes), tenant and first and last span start, in
// trace_pending. When that table holds runRows rows they move to
// trace_runs sorted by key, as one run: DuckDB's min/max statistics of
// each row group then rule out every row group of a run but the one or
// two whose key range holds the key. A look-up reads those, scans
// trace_pending (at most runRows rows of integers), and reads spans only
// between the first and last start it found, which the statistics of
// start_ns prune to a row group or two, as spans arrive in about time
// order.

// runRows is how many trace_pending rows make a run (Store.runRows, which
// tests lower): a run of about a million rows is a few row groups, and
// trace_pending's scan stays a couple of milliseconds.
const runRows = 1 << 20

// traceKey is the integer a trace is filed under: the first 8 bytes of its
// id, as the migration that built trace_runs computed it from trace_id.
// Traces that share a key only widen each other's start range.
func traceKey(id store.TraceID) uint64 { return binary.BigEndian.Uint64(id[:8]) }

// traceSpan is one trace's rows in a batch, as trace_pending keeps it.
type traceSpan struct {
	key         uint64
	tenant      string
	first, last int64
}

// traceSpans summarises a batch by tenant and trace key.
func traceSpans(spans []store.Span) []traceSpan {
	type k struct {
		tenant string
		key    uint64
	}
	at := make(map[k]int, len(spans)/2)
	var out []traceSpan
	for i := range spans {
		sp := &spans[i]
		key := traceKey(sp.TraceID)
		j, ok := at[k{sp.Tenant, key}]
		if !ok {
			at[k{sp.Tenant, key}] = len(out)
			out = append(out, traceSpan{key: key, tenant: sp.Tenant, first: sp.StartUnixNano, last: sp.StartUnixNano})
			continue
		}
		t := &out[j]
		t.first, t.last = min(t.first, sp.StartUnixNano), max(t.last, sp.StartUnixNano)
	}
	return out
}

// writeTraceIndex records a batch's traces in trace_pending, in the
// transaction on dc, first moving trace_pending into a run when it is
// full. It returns trace_pending's row count once the transaction commits.
// The caller holds writeMu.
func (s *Store) writeTraceIndexLocked(ctx context.Context, dc driver.Conn, traces []traceSpan) (pending int, err error) {
	pending = s.pendingTraces
	if pending >= s.runRows {
		// ORDER BY with DuckDB's default preserve_insertion_order writes
		// the rows in key order.
		if err := execOn(ctx, dc, `INSERT INTO trace_runs SELECT trace_key, tenant, first_ns, last_ns FROM trace_pending ORDER BY trace_key`); err != nil {
			return 0, fmt.Errorf("cannot write a run of the trace index: %w", err)
		}
		if err := execOn(ctx, dc, `DELETE FROM trace_pending`); err != nil {
			return 0, fmt.Errorf("cannot write a run of the trace index: %w", err)
		}
		pending = 0
	}
	err = appendTo(dc, "trace_pending", "", len(traces), func(i int) []driver.Value {
		t := &traces[i]
		return []driver.Value{t.key, t.tenant, t.first, t.last}
	})
	return pending + len(traces), err
}

// Trace returns a trace's spans, found through the trace index (see
// above).
func (s *Store) Trace(ctx context.Context, tenant string, id store.TraceID) ([]store.Span, error) {
	// Integers are written into the SQL rather than bound: DuckDB prunes
	// row groups by a constant filter, and a bound parameter would only
	// be known after planning.
	key := strconv.FormatUint(traceKey(id), 10)
	var first, last *int64
	err := s.db.QueryRowContext(ctx, `SELECT min(first_ns), max(last_ns) FROM (
	SELECT first_ns, last_ns FROM trace_runs WHERE trace_key = `+key+` AND tenant = ?
	UNION ALL
	SELECT first_ns, last_ns FROM trace_pending WHERE trace_key = `+key+` AND tenant = ?)`, tenant, tenant).Scan(&first, &last)
	if err != nil {
		return nil, fmt.Errorf("cannot look up trace %s: %w", id, err)
	}
	if first == nil {
		return nil, fmt.Errorf("trace %s: %w", id, store.ErrNotFound)
	}
	out, err := s.Spans(ctx, "read trace "+id.String(), sqlq.Query{SQL: `SELECT ` + sqlq.SpanColumns + ` FROM spans
WHERE start_ns BETWEEN ` + strconv.FormatInt(*first, 10) + ` AND ` + strconv.FormatInt(*last, 10) + `
	AND tenant = ? AND trace_id = ? ORDER BY start_ns, span_id`, Args: []any{tenant, id[:]}})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		// Only a key shared with another trace, or index rows that
		// outlived their spans (retention deletes both, not atomically).
		return nil, fmt.Errorf("trace %s: %w", id, store.ErrNotFound)
	}
	return out, nil
}

// Traces reads each trace through the trace index, a few milliseconds a
// look-up: DuckDB finds several ids at once no cheaper than by one scan of
// every span's trace_id.
func (s *Store) Traces(ctx context.Context, tenant string, ids []store.TraceID) ([][]store.Span, error) {
	return sqlq.EachTrace(ctx, tenant, ids, s.Trace)
}
