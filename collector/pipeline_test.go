package collector

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-dev/vigil/store"
)

// fakeStore records writes and fails on demand: failure injection for the
// pipeline. The real stores are exercised end to end elsewhere.
type fakeStore struct {
	mu      sync.Mutex
	down    bool
	refuse  string        // a span whose batch the store refuses while up
	block   chan struct{} // when set, writes wait for it to close
	batches [][]store.Span
	samples []store.Sample
	series  []store.Series
	logs    []store.LogRecord
}

func (f *fakeStore) WriteSpans(ctx context.Context, spans []store.Span) error {
	f.mu.Lock()
	block := f.block
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.New("connection refused")
	}
	for _, s := range spans {
		if f.refuse != "" && s.Operation == f.refuse {
			return errors.New("bad row")
		}
	}
	f.batches = append(f.batches, append([]store.Span(nil), spans...))
	return nil
}

func (f *fakeStore) WriteMetrics(ctx context.Context, series []store.Series, samples []store.Sample) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.New("connection refused")
	}
	f.series = append(f.series, series...)
	f.samples = append(f.samples, samples...)
	return nil
}

func (f *fakeStore) WriteLogs(ctx context.Context, logs []store.LogRecord) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.New("connection refused")
	}
	f.logs = append(f.logs, logs...)
	return nil
}

// bodies returns the bodies of every stored log record, in write order.
func (f *fakeStore) bodies() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.logs {
		out = append(out, r.Body)
	}
	return out
}

func (f *fakeStore) Ping(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.New("connection refused")
	}
	return nil
}

func (f *fakeStore) setDown(v bool) { f.mu.Lock(); f.down = v; f.mu.Unlock() }

// ops returns the operations of every stored span, in write order.
func (f *fakeStore) ops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, b := range f.batches {
		for _, s := range b {
			out = append(out, s.Operation)
		}
	}
	return out
}

func span(op string) store.Span { return store.Span{Tenant: "acme", Operation: op} }

func startPipeline(t *testing.T, st Store, opts PipelineOptions) (*Pipeline, context.CancelFunc, chan struct{}) {
	t.Helper()
	p, err := NewPipeline(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return p, cancel, done
}

func TestBatchesBySizeAndAge(t *testing.T) {
	st := &fakeStore{}
	p, _, _ := startPipeline(t, st, PipelineOptions{MaxBatchItems: 10, MaxBatchAge: 50 * time.Millisecond})
	var wg sync.WaitGroup
	for i := 0; i < 25; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := p.WriteSpans(context.Background(), []store.Span{span(fmt.Sprint(i))}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if got := len(st.ops()); got != 25 {
		t.Fatalf("stored %d spans, want 25", got)
	}
	st.mu.Lock()
	batches := len(st.batches)
	st.mu.Unlock()
	if batches > 10 {
		t.Errorf("25 spans took %d writes; batching does not batch", batches)
	}
	// Metrics go through their own lane.
	sr := store.NewSeries("acme", "up", store.MetricGauge, nil)
	if err := p.WriteMetrics(context.Background(), []store.Series{sr}, []store.Sample{{Tenant: "acme", Fingerprint: sr.Fingerprint, Value: 1}}); err != nil {
		t.Fatal(err)
	}
	if len(st.samples) != 1 || len(st.series) != 1 {
		t.Errorf("metrics not written: %v %v", st.series, st.samples)
	}
	if got := testutil.ToFloat64(p.opts.Metrics.Accepted.WithLabelValues(SignalSpans, "acme")); got != 25 {
		t.Errorf("accepted spans metric = %v", got)
	}
}

func TestBusyWhenPendingIsFull(t *testing.T) {
	st := &fakeStore{block: make(chan struct{})}
	p, _, _ := startPipeline(t, st, PipelineOptions{MaxBatchItems: 5, MaxBatchAge: 10 * time.Millisecond, MaxPendingItems: 10})
	errs := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() {
			errs <- p.WriteSpans(context.Background(), []store.Span{span("a"), span("b"), span("c"), span("d"), span("e")})
		}()
	}
	// Wait until both requests are pending behind the blocked write.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		p.spans.mu.Lock()
		n := p.spans.pending
		p.spans.mu.Unlock()
		if n == 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pending = %d, want 10", n)
		}
	}
	if err := p.WriteSpans(context.Background(), []store.Span{span("x")}); !errors.Is(err, ErrBusy) {
		t.Errorf("write beyond the bound = %v, want ErrBusy", err)
	}
	close(st.block)
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Errorf("pending write: %v", err)
		}
	}
	if got := testutil.ToFloat64(p.opts.Metrics.Refused.WithLabelValues(SignalSpans, "acme", "busy")); got != 1 {
		t.Errorf("refused metric = %v", got)
	}
}

func TestSpoolWhileStoreIsDownThenReplayInOrder(t *testing.T) {
	st := &fakeStore{down: true}
	dir := t.TempDir()
	p, _, _ := startPipeline(t, st, PipelineOptions{MaxBatchAge: 5 * time.Millisecond, SpoolDir: dir, ReplayInterval: 5 * time.Millisecond})
	for i := 0; i < 5; i++ {
		// Acknowledged although the store is down: the batch is on disk.
		if err := p.WriteSpans(context.Background(), []store.Span{span(fmt.Sprint(i))}); err != nil {
			t.Fatalf("write %d while down: %v", i, err)
		}
	}
	if n, _ := p.spans.spool.Len(); n != 5 {
		t.Fatalf("spool holds %d batches, want 5", n)
	}
	st.setDown(false)
	// A write while the spool drains goes behind the spooled batches.
	if err := p.WriteSpans(context.Background(), []store.Span{span("5")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(st.ops()) == 6 })
	if got := fmt.Sprint(st.ops()); got != "[0 1 2 3 4 5]" {
		t.Errorf("replayed order = %s", got)
	}
	if got := testutil.ToFloat64(p.opts.Metrics.Replayed.WithLabelValues(SignalSpans, "acme")); got < 5 {
		t.Errorf("replayed metric = %v", got)
	}
}

func TestUnavailableWhenSpoolIsFull(t *testing.T) {
	st := &fakeStore{down: true}
	p, _, _ := startPipeline(t, st, PipelineOptions{MaxBatchAge: 5 * time.Millisecond, SpoolDir: t.TempDir(), MaxSpoolBytes: 1})
	if err := p.WriteSpans(context.Background(), []store.Span{span("a")}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("write with store down and spool full = %v, want ErrUnavailable", err)
	}
	// Without a spool, a failed write is not acknowledged either.
	p2, _, _ := startPipeline(t, st, PipelineOptions{MaxBatchAge: 5 * time.Millisecond})
	if err := p2.WriteSpans(context.Background(), []store.Span{span("a")}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("write with store down and no spool = %v, want ErrUnavailable", err)
	}
}

func TestShutdownFlushesAndRestartReplays(t *testing.T) {
	st := &fakeStore{}
	dir := t.TempDir()
	// A batch age far longer than the test: only shutdown can flush it.
	p, cancel, done := startPipeline(t, st, PipelineOptions{MaxBatchAge: time.Hour, SpoolDir: dir})
	errs := make(chan error)
	go func() { errs <- p.WriteSpans(context.Background(), []store.Span{span("pending")}) }()
	waitFor(t, func() bool { p.spans.mu.Lock(); defer p.spans.mu.Unlock(); return p.spans.items == 1 })
	cancel()
	if err := <-errs; err != nil {
		t.Fatalf("pending write at shutdown: %v", err)
	}
	<-done
	if got := fmt.Sprint(st.ops()); got != "[pending]" {
		t.Fatalf("after shutdown the store has %s", got)
	}
	if err := p.WriteSpans(context.Background(), []store.Span{span("late")}); !errors.Is(err, ErrClosed) {
		t.Errorf("write after shutdown = %v, want ErrClosed", err)
	}

	// A run that spooled (store down) and stopped; the next run replays.
	down := &fakeStore{down: true}
	p, cancel, done = startPipeline(t, down, PipelineOptions{MaxBatchAge: 5 * time.Millisecond, SpoolDir: dir})
	if err := p.WriteSpans(context.Background(), []store.Span{span("spooled")}); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	up := &fakeStore{}
	startPipeline(t, up, PipelineOptions{SpoolDir: dir, ReplayInterval: 5 * time.Millisecond})
	waitFor(t, func() bool { return fmt.Sprint(up.ops()) == "[spooled]" })
}

func TestShutdownWritesWhatWasAccepted(t *testing.T) {
	st := &fakeStore{}
	p, err := NewPipeline(st, PipelineOptions{MaxBatchAge: time.Hour, SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan error)
	go func() { ran <- p.Run(context.Background()) }()
	errs := make(chan error)
	go func() { errs <- p.WriteSpans(context.Background(), []store.Span{span("pending")}) }()
	waitFor(t, func() bool { p.spans.mu.Lock(); defer p.spans.mu.Unlock(); return p.spans.items == 1 })
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := <-errs; err != nil {
		t.Fatalf("pending write at shutdown: %v", err)
	}
	if err := <-ran; err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := fmt.Sprint(st.ops()); got != "[pending]" {
		t.Errorf("after shutdown the store has %s", got)
	}
	if err := p.WriteSpans(context.Background(), []store.Span{span("late")}); !errors.Is(err, ErrClosed) {
		t.Errorf("write after shutdown = %v, want ErrClosed", err)
	}
}

// TestShutdownDeadlineSpools: a store write still under way when the
// shutdown's deadline passes is cancelled and its batch spooled, so the
// writer's acknowledgement holds; the next run writes it.
func TestShutdownDeadlineSpools(t *testing.T) {
	st := &fakeStore{block: make(chan struct{})} // a store that never answers
	dir := t.TempDir()
	p, err := NewPipeline(st, PipelineOptions{MaxBatchAge: time.Hour, SpoolDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	go p.Run(context.Background())
	errs := make(chan error)
	go func() { errs <- p.WriteSpans(context.Background(), []store.Span{span("held")}) }()
	waitFor(t, func() bool { p.spans.mu.Lock(); defer p.spans.mu.Unlock(); return p.spans.items == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("shutdown past its deadline = %v, want context.DeadlineExceeded", err)
	}
	if err := <-errs; err != nil {
		t.Fatalf("the held write was not acknowledged: %v", err)
	}
	if n, _ := p.spans.spool.Len(); n != 1 {
		t.Fatalf("spool holds %d batches, want 1", n)
	}
	up := &fakeStore{}
	startPipeline(t, up, PipelineOptions{SpoolDir: dir, ReplayInterval: 5 * time.Millisecond})
	waitFor(t, func() bool { return fmt.Sprint(up.ops()) == "[held]" })
}

func TestPoisonBatchIsQuarantined(t *testing.T) {
	st := &fakeStore{down: true}
	dir := t.TempDir()
	p, _, _ := startPipeline(t, st, PipelineOptions{MaxBatchAge: 5 * time.Millisecond, SpoolDir: dir, ReplayInterval: time.Millisecond})
	for _, op := range []string{"poison", "fine"} {
		if err := p.WriteSpans(context.Background(), []store.Span{span(op)}); err != nil {
			t.Fatal(err)
		}
	}
	// The store comes back but refuses the first batch for good.
	st.mu.Lock()
	st.down, st.refuse = false, "poison"
	st.mu.Unlock()
	waitFor(t, func() bool { return fmt.Sprint(st.ops()) == "[fine]" })
	files, _ := filepath.Glob(filepath.Join(dir, SignalSpans, "failed", "*.batch"))
	if len(files) != 1 {
		t.Errorf("quarantined files: %v", files)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not reached in 10s")
}

// Logs go through a lane of their own, spooled while the store is down
// and replayed in order, every field kept.
func TestLogsSpoolAndReplay(t *testing.T) {
	st := &fakeStore{down: true}
	p, _, _ := startPipeline(t, st, PipelineOptions{MaxBatchAge: 5 * time.Millisecond, SpoolDir: t.TempDir(), ReplayInterval: 5 * time.Millisecond})
	rec := func(i int) store.LogRecord {
		return store.LogRecord{Tenant: "acme", ID: uint64(i), TimeUnixNano: int64(i + 1), Body: fmt.Sprint(i), Severity: store.SeverityError,
			TraceID: store.TraceID{1, 2}, Attributes: store.Attributes{{Key: "k", Value: "v"}}}
	}
	for i := range 3 {
		if err := p.WriteLogs(context.Background(), []store.LogRecord{rec(i)}); err != nil {
			t.Fatalf("write %d while down: %v", i, err)
		}
	}
	if n, _ := p.logs.spool.Len(); n != 3 {
		t.Fatalf("log spool holds %d batches, want 3", n)
	}
	if len(st.ops()) != 0 {
		t.Fatal("logs went to the spans lane")
	}
	st.setDown(false)
	if err := p.WriteLogs(context.Background(), []store.LogRecord{rec(3)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(st.bodies()) == 4 })
	if got := fmt.Sprint(st.bodies()); got != "[0 1 2 3]" {
		t.Errorf("replayed order = %s", got)
	}
	st.mu.Lock()
	got := st.logs[1]
	st.mu.Unlock()
	if want := rec(1); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("replayed record = %+v, want %+v", got, want)
	}
	if got := testutil.ToFloat64(p.opts.Metrics.Replayed.WithLabelValues(SignalLogs, "acme")); got != 3 {
		t.Errorf("replayed logs metric = %v", got)
	}
}
