package embedded

import (
	"context"
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
