package embedded

import (
	"context"
	"database/sql/driver"
	"errors"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/storetest"
)

// TestTraceRuns writes batches with runs of a few rows, so that the trace
// index moves trace_pending into sorted runs several times, and checks
// that every trace is found from runs and pending rows alike, that each
// run is in key order, and that retention empties both tables.
func TestTraceRuns(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.runRows = 30
	g := storetest.NewSpanBatches(40) // 10 traces a batch
	var written []store.Span
	for range 7 {
		b := g.Next()
		if err := s.WriteSpans(ctx, b); err != nil {
			t.Fatal(err)
		}
		written = append(written, b...)
	}
	var runs, pending int
	if err := s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM trace_runs), (SELECT count(*) FROM trace_pending)`).Scan(&runs, &pending); err != nil {
		t.Fatal(err)
	}
	// Batches 4 and 7 found 30 rows pending: runs of 30 and 30, and 10 left.
	if runs != 60 || pending != 10 || s.pendingTraces != 10 {
		t.Errorf("trace_runs has %d rows, trace_pending %d (counted %d); want 60, 10, 10", runs, pending, s.pendingTraces)
	}
	var unsorted int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM (
	SELECT trace_key < lag(trace_key) OVER (ORDER BY rowid) AS down, rowid FROM trace_runs) WHERE down AND rowid <> 30`).Scan(&unsorted); err != nil {
		t.Fatal(err)
	}
	if unsorted != 0 {
		t.Errorf("%d rows of trace_runs are out of key order within their run", unsorted)
	}
	for _, sp := range written {
		got, err := s.Trace(ctx, sp.Tenant, sp.TraceID)
		if err != nil || len(got) != 4 {
			t.Fatalf("Trace(%s) = %d spans, %v; want 4", sp.TraceID, len(got), err)
		}
	}

	last := time.Unix(0, written[len(written)-1].StartUnixNano)
	if err := s.DropBefore(ctx, store.SignalSpans, last.AddDate(0, 0, 2)); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM trace_runs), (SELECT count(*) FROM trace_pending)`).Scan(&runs, &pending); err != nil {
		t.Fatal(err)
	}
	if runs != 0 || pending != 0 || s.pendingTraces != 0 {
		t.Errorf("after retention trace_runs has %d rows, trace_pending %d (counted %d); want none", runs, pending, s.pendingTraces)
	}
	if _, err := s.Trace(ctx, written[0].Tenant, written[0].TraceID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Trace after retention: %v, want ErrNotFound", err)
	}
}

// TestInTxRollsBack checks that rows appended in a transaction that fails
// are not kept: WriteSpans relies on it to keep spans and their trace
// index together.
func TestInTxRollsBack(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	failed := errors.New("the write failed")
	s.writeMu.Lock()
	err = s.inTxLocked(ctx, func(dc driver.Conn) error {
		if err := appendTo(dc, "trace_pending", "", 1, func(int) []driver.Value {
			return []driver.Value{uint64(1), "acme", int64(1), int64(2)}
		}); err != nil {
			return err
		}
		return failed
	})
	s.writeMu.Unlock()
	if !errors.Is(err, failed) {
		t.Fatalf("inTxLocked = %v, want %v", err, failed)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM trace_pending`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d rows appended in a failed transaction were kept", n)
	}
}
