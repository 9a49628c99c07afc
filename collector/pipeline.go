// Package collector owns ingest: the receivers (OTLP, Jaeger, Prometheus
// remote-write and scrape), and the pipeline every receiver writes through —
// batching per table, bounded memory with backpressure, and a disk spool
// that keeps acknowledged data while the store is down.
package collector

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-dev/vigil/collector/spanmetrics"
	"github.com/vigil-dev/vigil/collector/spool"
	"github.com/vigil-dev/vigil/store"
)

// ErrBusy is returned when accepting a request would exceed the pipeline's
// memory bound; the client should retry later (HTTP 429, gRPC
// RESOURCE_EXHAUSTED).
var ErrBusy = errors.New("collector is busy: too much data waiting to be written, retry later")

// ErrUnavailable is returned when data could be neither written nor
// spooled (HTTP 503, gRPC UNAVAILABLE).
var ErrUnavailable = errors.New("store unavailable and spool full or failing")

// ErrClosed is returned after shutdown began.
var ErrClosed = errors.New("collector is shutting down")

// Store is what the pipeline writes to.
type Store interface {
	store.SpanWriter
	store.MetricWriter
	store.LogWriter
	// Ping tells a store that is down from a batch the store refuses.
	Ping(ctx context.Context) error
}

// PipelineOptions configure a Pipeline.
type PipelineOptions struct {
	MaxBatchItems   int           // a batch is written when it holds this many items
	MaxBatchAge     time.Duration // ... or when its first item is this old
	MaxPendingItems int           // items accepted and not yet durable, per signal; more is refused with ErrBusy
	WriteTimeout    time.Duration // one batch write to the store
	SpoolDir        string        // "" disables spooling
	MaxSpoolBytes   int64         // per signal; 0 means no limit
	ReplayInterval  time.Duration // how often to try the store while the spool is not empty
	Logger          *slog.Logger
	Metrics         *Metrics
	// SpanMetrics, when set, counts every durable span; its series are
	// written through the metrics lane every SpanMetricsInterval, and its
	// overflow events to Events.
	SpanMetrics         *spanmetrics.Generator
	SpanMetricsInterval time.Duration
	Events              store.EventWriter
}

func (o *PipelineOptions) setDefaults() {
	if o.MaxBatchItems == 0 {
		o.MaxBatchItems = 10000
	}
	if o.MaxBatchAge == 0 {
		o.MaxBatchAge = time.Second
	}
	if o.MaxPendingItems == 0 {
		o.MaxPendingItems = 20 * o.MaxBatchItems
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 30 * time.Second
	}
	if o.ReplayInterval == 0 {
		o.ReplayInterval = time.Second
	}
	if o.SpanMetricsInterval == 0 {
		o.SpanMetricsInterval = 15 * time.Second
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Pipeline batches writes per table and makes them durable. It implements
// store.SpanWriter, store.MetricWriter and store.LogWriter with the
// store's contract: a nil
// error means the data is in the store or in the spool, and will be in the
// store once it is back.
type Pipeline struct {
	opts    PipelineOptions
	store   Store
	spans   *lane
	metrics *lane
	logs    *lane

	stop    chan struct{} // closed by Shutdown
	done    chan struct{} // closed when a started Run has returned
	mu      sync.Mutex
	running bool // Run has started; guarded by mu
	stopped bool // Shutdown has started; guarded by mu

	// writes is the context of every store write and ping; Shutdown
	// cancels it when its own context ends.
	writes       context.Context
	cancelWrites context.CancelFunc
}

// NewPipeline creates the pipeline; Run starts it.
func NewPipeline(st Store, opts PipelineOptions) (*Pipeline, error) {
	opts.setDefaults()
	p := &Pipeline{opts: opts, store: st, stop: make(chan struct{}), done: make(chan struct{})}
	p.writes, p.cancelWrites = context.WithCancel(context.Background())
	var err error
	p.spans, err = newLane(SignalSpans, &p.opts, p.writes, st.Ping, func(ctx context.Context, b *payload) error { return st.WriteSpans(ctx, b.Spans) })
	if err != nil {
		return nil, err
	}
	if g := opts.SpanMetrics; g != nil {
		p.spans.durable = func(b *payload) { g.Add(b.Spans) }
	}
	p.metrics, err = newLane(SignalSamples, &p.opts, p.writes, st.Ping, func(ctx context.Context, b *payload) error {
		return st.WriteMetrics(ctx, b.Series, b.Samples)
	})
	if err != nil {
		return nil, err
	}
	p.logs, err = newLane(SignalLogs, &p.opts, p.writes, st.Ping, func(ctx context.Context, b *payload) error { return st.WriteLogs(ctx, b.Logs) })
	if err != nil {
		return nil, err
	}
	return p, nil
}

// WriteSpans adds spans to the current batch and waits until that batch is
// durable.
func (p *Pipeline) WriteSpans(ctx context.Context, spans []store.Span) error {
	return p.spans.submit(ctx, payload{Spans: spans}, len(spans))
}

// WriteMetrics adds series and samples to the current batch and waits until
// it is durable.
func (p *Pipeline) WriteMetrics(ctx context.Context, series []store.Series, samples []store.Sample) error {
	return p.metrics.submit(ctx, payload{Series: series, Samples: samples}, len(samples))
}

// WriteLogs adds log records to the current batch and waits until it is
// durable.
func (p *Pipeline) WriteLogs(ctx context.Context, logs []store.LogRecord) error {
	return p.logs.submit(ctx, payload{Logs: logs}, len(logs))
}

// Run flushes batches and replays the spool until ctx ends or Shutdown is
// called, then stops accepting (writes get ErrClosed), writes or spools
// what was accepted, and returns. Call it once.
func (p *Pipeline) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.stopped || p.running {
		p.mu.Unlock()
		return nil
	}
	p.running = true
	p.mu.Unlock()
	defer close(p.done)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-p.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	// The metrics lane stops after the spans lane, so that the span
	// metrics of the last spans are written too.
	mctx, stopMetrics := context.WithCancel(context.Background())
	var spans, metrics sync.WaitGroup
	spans.Add(5)
	go func() { defer spans.Done(); p.spans.flushLoop(ctx) }()
	go func() { defer spans.Done(); p.spans.replayLoop(ctx) }()
	go func() { defer spans.Done(); p.logs.flushLoop(ctx) }()
	go func() { defer spans.Done(); p.logs.replayLoop(ctx) }()
	go func() { defer spans.Done(); p.spanMetricsLoop(ctx) }()
	metrics.Add(2)
	go func() { defer metrics.Done(); p.metrics.flushLoop(mctx) }()
	go func() { defer metrics.Done(); p.metrics.replayLoop(mctx) }()
	spans.Wait()
	if p.opts.SpanMetrics != nil {
		p.emitSpanMetrics()
	}
	stopMetrics()
	metrics.Wait()
	return nil
}

// spanMetricsLoop writes the span metrics every interval until ctx ends.
func (p *Pipeline) spanMetricsLoop(ctx context.Context) {
	if p.opts.SpanMetrics == nil {
		return
	}
	tick := time.NewTicker(p.opts.SpanMetricsInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			p.emitSpanMetrics()
		}
	}
}

// emitSpanMetrics writes the span metrics' current values through the
// metrics lane, batched and spooled like any sample. A tick that fails
// loses nothing: the next one writes the same cumulative counts.
func (p *Pipeline) emitSpanMetrics() {
	g := p.opts.SpanMetrics
	e := g.Flush()
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.WriteTimeout)
	defer cancel()
	err := p.metrics.submit(ctx, payload{Series: e.Series, Samples: e.Samples}, len(e.Samples))
	if err == nil && len(e.Events) > 0 && p.opts.Events != nil {
		err = p.opts.Events.WriteEvents(ctx, e.Events)
	}
	if err != nil {
		p.opts.Logger.Warn("cannot write span metrics; the next interval writes them", "err", err)
	}
	g.Done(e, err)
}

// Shutdown stops the pipeline as Run does when its context ends, and
// returns once Run has returned. Call it after the receivers have stopped
// and handed over what they accepted: from now on writes get ErrClosed.
// When ctx ends first, store writes still under way are cancelled and
// their batches spooled to disk (replayed at the next start); without a
// spool their writers get ErrUnavailable. It returns ctx's error when ctx
// cut writes off.
func (p *Pipeline) Shutdown(ctx context.Context) error {
	stopWrites := context.AfterFunc(ctx, p.cancelWrites)
	defer stopWrites()
	p.mu.Lock()
	first, running := !p.stopped, p.running
	p.stopped = true
	p.mu.Unlock()
	if first {
		close(p.stop)
	}
	if running {
		<-p.done // at ctx's end the writes are cancelled: what is left goes to the spool
	} else { // never run: nothing to wait for but what was accepted
		p.spans.closeAndFlush()
		p.logs.closeAndFlush()
		p.metrics.closeAndFlush()
	}
	if n := p.spans.cutOff.Load() + p.metrics.cutOff.Load() + p.logs.cutOff.Load(); n > 0 {
		return fmt.Errorf("%w: %d batch writes cut off (spooled when there is a spool)", ctx.Err(), n)
	}
	return nil
}

// payload is a batch's rows, and the form a batch takes in the spool.
type payload struct {
	Spans   []store.Span
	Series  []store.Series
	Samples []store.Sample
	Logs    []store.LogRecord
}

func (b *payload) append(o payload) {
	b.Spans = append(b.Spans, o.Spans...)
	b.Series = append(b.Series, o.Series...)
	b.Samples = append(b.Samples, o.Samples...)
	b.Logs = append(b.Logs, o.Logs...)
}

// tenants counts a payload's items per tenant, for metrics.
func (b *payload) tenants() map[string]int {
	m := map[string]int{}
	for i := range b.Spans {
		m[b.Spans[i].Tenant]++
	}
	for i := range b.Samples {
		m[b.Samples[i].Tenant]++
	}
	for i := range b.Logs {
		m[b.Logs[i].Tenant]++
	}
	return m
}

// lane is the batching, writing and spooling of one table family.
type lane struct {
	signal string
	opts   *PipelineOptions
	writes context.Context // every store write and ping derives from it
	write  func(context.Context, *payload) error
	ping   func(context.Context) error
	// durable, when set, is called with each batch once it is written
	// or spooled.
	durable func(*payload)
	spool   *spool.Spool // nil when spooling is off
	kick    chan struct{}

	mu      sync.Mutex
	closed  bool         // guarded by mu
	cur     payload      // guarded by mu
	items   int          // items in cur; guarded by mu
	first   time.Time    // when cur got its first item; guarded by mu
	waiters []chan error // submitters of cur; guarded by mu
	pending int          // items accepted and not yet durable; guarded by mu

	writeMu sync.Mutex // one write or replay at a time keeps batches in order

	cutOff atomic.Int64 // batch writes cancelled by Shutdown's deadline
}

func newLane(signal string, opts *PipelineOptions, writes context.Context, ping func(context.Context) error, write func(context.Context, *payload) error) (*lane, error) {
	l := &lane{signal: signal, opts: opts, writes: writes, ping: ping, write: write, kick: make(chan struct{}, 1)}
	if opts.SpoolDir != "" {
		sp, err := spool.Open(filepath.Join(opts.SpoolDir, signal), opts.MaxSpoolBytes)
		if err != nil {
			return nil, err
		}
		l.spool = sp
		_, b := sp.Len()
		opts.Metrics.SpoolBytes.WithLabelValues(signal).Set(float64(b))
	}
	return l, nil
}

func (l *lane) submit(ctx context.Context, p payload, n int) error {
	if n == 0 && len(p.Series) == 0 {
		return nil
	}
	done := make(chan error, 1)
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		l.refuse(&p, "closed")
		return ErrClosed
	}
	if l.pending+n > l.opts.MaxPendingItems && l.pending > 0 {
		l.mu.Unlock()
		l.refuse(&p, "busy")
		return ErrBusy
	}
	if l.items == 0 {
		l.first = time.Now()
	}
	l.cur.append(p)
	l.items += n
	l.pending += n
	l.waiters = append(l.waiters, done)
	full := l.items >= l.opts.MaxBatchItems
	l.opts.Metrics.Queue.WithLabelValues(l.signal).Set(float64(l.pending))
	l.mu.Unlock()
	if full {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		// The batch is still written; the client gave up waiting for it.
		return ctx.Err()
	}
}

func (l *lane) refuse(p *payload, reason string) {
	for tenant, n := range p.tenants() {
		l.opts.Metrics.Refused.WithLabelValues(l.signal, tenant, reason).Add(float64(n))
	}
}

func (l *lane) flushLoop(ctx context.Context) {
	tick := time.NewTicker(l.opts.MaxBatchAge / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			l.closeAndFlush()
			return
		case <-l.kick:
		case <-tick.C:
		}
		l.mu.Lock()
		due := l.items >= l.opts.MaxBatchItems || (l.items > 0 || len(l.cur.Series) > 0) && time.Since(l.first) >= l.opts.MaxBatchAge
		l.mu.Unlock()
		if due {
			l.flush()
		}
	}
}

// closeAndFlush refuses further writes and makes durable whatever was
// accepted before.
func (l *lane) closeAndFlush() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.flush()
}

// flush takes the current batch and makes it durable, then answers its
// submitters.
func (l *lane) flush() {
	l.mu.Lock()
	b, n, waiters := l.cur, l.items, l.waiters
	l.cur, l.items, l.waiters = payload{}, 0, nil
	l.mu.Unlock()
	if len(waiters) == 0 {
		return
	}
	err := l.persist(&b)
	if err == nil && l.durable != nil {
		l.durable(&b)
	}
	if err == nil {
		for tenant, c := range b.tenants() {
			l.opts.Metrics.Accepted.WithLabelValues(l.signal, tenant).Add(float64(c))
		}
	} else {
		l.refuse(&b, "unavailable")
	}
	l.mu.Lock()
	l.pending -= n
	l.opts.Metrics.Queue.WithLabelValues(l.signal).Set(float64(l.pending))
	l.mu.Unlock()
	for _, w := range waiters {
		w <- err
	}
}

// persist writes a batch to the store, or spools it when the store fails
// or older spooled batches are still waiting (so replay keeps the order).
func (l *lane) persist(b *payload) error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if l.spool == nil || l.spoolEmpty() {
		err := l.writeStore(b)
		if err != nil && l.writes.Err() != nil {
			l.cutOff.Add(1)
		}
		if err == nil || l.spool == nil {
			if err != nil {
				l.opts.Logger.Error("batch write failed", "signal", l.signal, "err", err)
				return fmt.Errorf("%w: %v", ErrUnavailable, err)
			}
			return nil
		}
		l.opts.Logger.Warn("store write failed, spooling", "signal", l.signal, "err", err)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(b); err != nil {
		return fmt.Errorf("cannot encode batch for the spool: %w", err)
	}
	if err := l.spool.Append(buf.Bytes()); err != nil {
		l.opts.Logger.Error("cannot spool batch", "signal", l.signal, "err", err)
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	for tenant, c := range b.tenants() {
		l.opts.Metrics.Spooled.WithLabelValues(l.signal, tenant).Add(float64(c))
	}
	l.updateSpoolGauge()
	return nil
}

func (l *lane) writeStore(b *payload) error {
	ctx, cancel := context.WithTimeout(l.writes, l.opts.WriteTimeout)
	defer cancel()
	start := time.Now()
	err := l.write(ctx, b)
	l.opts.Metrics.WriteTime.WithLabelValues(l.signal).Observe(time.Since(start).Seconds())
	return err
}

func (l *lane) storeAnswers() bool {
	ctx, cancel := context.WithTimeout(l.writes, 5*time.Second)
	defer cancel()
	return l.ping(ctx) == nil
}

func (l *lane) spoolEmpty() bool {
	n, _ := l.spool.Len()
	return n == 0
}

func (l *lane) updateSpoolGauge() {
	_, bytes := l.spool.Len()
	l.opts.Metrics.SpoolBytes.WithLabelValues(l.signal).Set(float64(bytes))
}

// maxReplayFailures is how often one spooled batch may fail to write before
// it is quarantined, so one poisoned batch cannot block the rest forever.
const maxReplayFailures = 10

func (l *lane) replayLoop(ctx context.Context) {
	if l.spool == nil {
		return
	}
	failures := map[uint64]int{}
	tick := time.NewTicker(l.opts.ReplayInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for ctx.Err() == nil && l.replayOne(failures) {
		}
	}
}

// replayOne writes the oldest spooled batch to the store; it reports
// whether to go on at once with the next.
func (l *lane) replayOne(failures map[uint64]int) bool {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	e, ok, err := l.spool.Oldest()
	if !ok {
		return false
	}
	var b payload
	if err == nil {
		err = gob.NewDecoder(bytes.NewReader(e.Payload)).Decode(&b)
	}
	if err != nil {
		l.opts.Logger.Error("quarantining unreadable spool file", "signal", l.signal, "seq", e.Seq, "err", err)
		l.spool.Quarantine(e.Seq)
		l.updateSpoolGauge()
		return true
	}
	if err := l.writeStore(&b); err != nil {
		if !l.storeAnswers() {
			return false // the store is down: wait for it
		}
		failures[e.Seq]++
		if failures[e.Seq] >= maxReplayFailures {
			l.opts.Logger.Error("quarantining spooled batch the store keeps refusing", "signal", l.signal, "seq", e.Seq, "err", err)
			l.spool.Quarantine(e.Seq)
			delete(failures, e.Seq)
			l.updateSpoolGauge()
		}
		return false
	}
	delete(failures, e.Seq)
	if err := l.spool.Remove(e.Seq); err != nil {
		l.opts.Logger.Error("cannot remove replayed spool file", "signal", l.signal, "seq", e.Seq, "err", err)
		return false
	}
	for tenant, c := range b.tenants() {
		l.opts.Metrics.Replayed.WithLabelValues(l.signal, tenant).Add(float64(c))
	}
	l.updateSpoolGauge()
	return true
}

// timeNow is time.Now, replaceable in tests.
var timeNow = time.Now
