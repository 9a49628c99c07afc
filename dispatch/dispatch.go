package dispatch

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-dev/vigil/store"
)

// Store is what the dispatcher reads and writes: the events it takes up
// after a restart, and the delivery log.
type Store interface {
	store.EventReader
	store.EventWriter
}

// Options configure a Dispatcher.
type Options struct {
	Store       Store
	Subscribers []Subscriber
	// QueueSize bounds the events waiting for one subscriber; past it the
	// oldest of the tenant's queue is dropped (and counted). Default 10,000;
	// a Bounded subscriber sets its own.
	QueueSize int
	// BatchSize bounds the events one attempt carries. Default 500.
	BatchSize int
	// Backoff is the delay before the first retry, doubled each time up to
	// MaxBackoff, with up to as much again of jitter. Defaults 1s and 5m.
	Backoff, MaxBackoff time.Duration
	// MaxAge is how long an event may wait for delivery before it is given
	// up, and how far back a restart looks for undelivered events.
	// Default 24h.
	MaxAge time.Duration
	// Timeout bounds one attempt. Default 30s.
	Timeout time.Duration
	// RecoverWhenAsked leaves taking up undelivered events to the caller
	// (Recover), for replicas that share a store and must not each take
	// up the same events; otherwise Serve takes them up as it starts.
	RecoverWhenAsked bool
	Logger           *slog.Logger
	Registerer       prometheus.Registerer
}

// Dispatcher queues published events for their subscribers and delivers
// them, one worker per subscriber, so a receiver that hangs holds up only
// its own queue.
type Dispatcher struct {
	opts Options

	mu      sync.RWMutex
	workers []*worker       // guarded by mu
	running context.Context // guarded by mu: Serve's context once workers run, else nil
	wg      sync.WaitGroup  // the workers running

	stop     sync.Once
	stopping chan struct{}      // closed by Shutdown: take no more work
	hard     context.Context    // cancelled when the shutdown deadline passes
	cutOff   context.CancelFunc // cancels hard
	done     chan struct{}      // closed when Serve has returned

	attempts *prometheus.CounterVec
	dropped  *prometheus.CounterVec
	queued   *prometheus.GaugeVec
	limits   *prometheus.GaugeVec
}

// New returns a dispatcher; Run starts it.
func New(opts Options) (*Dispatcher, error) {
	if opts.QueueSize <= 0 {
		opts.QueueSize = 10000
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if opts.Backoff <= 0 {
		opts.Backoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 24 * time.Hour
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	hard, cutOff := context.WithCancel(context.Background())
	d := &Dispatcher{
		opts:     opts,
		stopping: make(chan struct{}),
		hard:     hard,
		cutOff:   cutOff,
		done:     make(chan struct{}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_dispatch_attempts_total", Help: "Delivery attempts, by subscriber and outcome (delivered, retrying, failed, skipped).",
		}, []string{"subscriber", "outcome"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_dispatch_dropped_total", Help: "Events dropped undelivered because a subscriber's queue was full.",
		}, []string{"subscriber"}),
	}
	d.queued = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "vigil_dispatch_queued", Help: "Events waiting for delivery, by subscriber.",
	}, []string{"subscriber"})
	d.limits = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "vigil_dispatch_queue_limit", Help: "The most events that may wait for a subscriber; past it the oldest are dropped.",
	}, []string{"subscriber"})
	queued, limits := d.queued, d.limits
	seen := map[string]bool{}
	for _, s := range opts.Subscribers {
		if seen[s.Name()] {
			return nil, fmt.Errorf("two subscribers are named %q", s.Name())
		}
		seen[s.Name()] = true
		d.workers = append(d.workers, d.newWorker(s))
	}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(d.attempts); err != nil {
			return nil, err
		}
		if err := opts.Registerer.Register(d.dropped); err != nil {
			return nil, err
		}
		if err := opts.Registerer.Register(queued); err != nil {
			return nil, err
		}
		if err := opts.Registerer.Register(limits); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (d *Dispatcher) newWorker(s Subscriber) *worker {
	w := &worker{d: d, name: s.Name(), queues: map[string]*queue{}, wake: make(chan struct{}, 1), queued: d.queued.WithLabelValues(s.Name())}
	w.set(s)
	return w
}

// Publish queues events (already written to the store) for every
// subscriber that accepts them. It never blocks on delivery.
func (d *Dispatcher) Publish(events ...store.Event) {
	now := time.Now()
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, w := range d.workers {
		for _, ev := range events {
			if w.wants(ev) {
				w.add(ev, now)
			}
		}
	}
}

// Replace makes subs the subscribers whose names start with prefix (a
// config section's, such as "stream:"), running or not: a subscriber
// whose name is served already takes over its worker and queue from the
// next attempt on; a new name gets a worker of its own, with what is
// published from now on; a name no longer among subs has its worker
// stopped after the attempt under way, and its queue dropped. It returns
// the subscribers taken over (unless by themselves) or removed, for the
// caller to close: an attempt under way keeps using its own, so a close
// may fail it, and the retry goes to the new subscriber.
func (d *Dispatcher) Replace(prefix string, subs []Subscriber) (retired []Subscriber, err error) {
	seen := map[string]bool{}
	for _, s := range subs {
		if !strings.HasPrefix(s.Name(), prefix) {
			return nil, fmt.Errorf("subscriber %q is not named %s...", s.Name(), prefix)
		}
		if seen[s.Name()] {
			return nil, fmt.Errorf("two subscribers are named %q", s.Name())
		}
		seen[s.Name()] = true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	byName := map[string]*worker{}
	kept := d.workers[:0:0]
	for _, w := range d.workers {
		if !strings.HasPrefix(w.name, prefix) {
			kept = append(kept, w)
			continue
		}
		if !seen[w.name] {
			retired = append(retired, w.stop())
			d.queued.DeleteLabelValues(w.name)
			d.limits.DeleteLabelValues(w.name)
			continue
		}
		byName[w.name] = w
		kept = append(kept, w)
	}
	for _, s := range subs {
		if w := byName[s.Name()]; w != nil {
			if old := w.set(s); !same(old, s) {
				retired = append(retired, old)
			}
			continue
		}
		w := d.newWorker(s)
		kept = append(kept, w)
		if d.running != nil {
			d.start(w)
		}
	}
	d.workers = kept
	return retired, nil
}

// same reports whether a and b are one subscriber (Replace given the
// one it has): not to be closed.
func same(a, b Subscriber) bool {
	return reflect.TypeOf(a) == reflect.TypeOf(b) && reflect.TypeOf(a).Comparable() && a == b
}

// start runs w under Serve's context; the caller holds d.mu.
func (d *Dispatcher) start(w *worker) {
	ctx, cancel := context.WithCancel(d.running)
	w.cancel = cancel
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		w.run(ctx)
	}()
}

// Serve takes up undelivered events from the store, then delivers until
// Shutdown.
func (d *Dispatcher) Serve() error {
	defer close(d.done)
	ctx, cancel := context.WithCancel(d.hard)
	defer cancel()
	go func() {
		select {
		case <-d.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	if !d.opts.RecoverWhenAsked {
		if err := d.Recover(ctx); err != nil {
			// Not fatal: what is published from now on is still delivered.
			d.opts.Logger.Error("cannot take up undelivered events", "err", err)
		}
	}
	d.mu.Lock()
	d.running = ctx
	for _, w := range d.workers {
		d.start(w)
	}
	d.mu.Unlock()
	<-ctx.Done() // with no subscribers, too, Serve lasts until Shutdown
	d.mu.Lock()
	d.running = nil // a Replace from now on starts no worker
	d.mu.Unlock()
	d.wg.Wait()
	return nil
}

// Recover queues again the events of the last MaxAge that no attempt
// settled (see recoverUndelivered). It may run beside the workers: an
// event being delivered is still queued until its attempt is logged, and
// queued once whatever recovery adds.
func (d *Dispatcher) Recover(ctx context.Context) error {
	return d.recoverUndelivered(ctx, time.Now())
}

// Shutdown stops taking work and waits for the attempts under way to
// finish, cutting them off when ctx ends; what is still queued is taken up
// by the next start, from the store.
func (d *Dispatcher) Shutdown(ctx context.Context) error {
	d.stop.Do(func() { close(d.stopping) })
	select {
	case <-d.done:
		return nil
	case <-ctx.Done():
		d.cutOff()
		<-d.done
		return fmt.Errorf("delivery attempts cut off: %w", ctx.Err())
	}
}

// worker delivers one subscriber's queues.
type worker struct {
	d      *Dispatcher
	name   string        // the subscriber's, which a replacement keeps
	wake   chan struct{} // a token when something was queued
	queued prometheus.Gauge
	cancel context.CancelFunc // stops run; set when it starts

	mu     sync.Mutex
	sub    Subscriber        // guarded by mu; Replace may swap it
	types  []string          // guarded by mu: sub's
	limit  int               // guarded by mu: the most entries over every queue
	queues map[string]*queue // guarded by mu: by tenant
	size   int               // guarded by mu: entries over every queue
}

// set makes s the worker's subscriber, answering the one it replaced.
func (w *worker) set(s Subscriber) (old Subscriber) {
	limit := w.d.opts.QueueSize
	if b, ok := s.(Bounded); ok && b.QueueLimit() > 0 {
		limit = b.QueueLimit()
	}
	w.d.limits.WithLabelValues(w.name).Set(float64(limit))
	w.mu.Lock()
	defer w.mu.Unlock()
	old, w.sub, w.types, w.limit = w.sub, s, s.Types(), limit
	return old
}

// wants reports whether ev is work for the worker's subscriber.
func (w *worker) wants(ev store.Event) bool {
	w.mu.Lock()
	sub, types := w.sub, w.types
	w.mu.Unlock()
	return slices.Contains(types, ev.Type) && sub.Accepts(ev)
}

// subscriber is the worker's subscriber at this moment.
func (w *worker) subscriber() Subscriber {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sub
}

// stop ends the worker's loop after its attempt under way, if it runs,
// and answers its subscriber.
func (w *worker) stop() Subscriber {
	if w.cancel != nil {
		w.cancel()
	}
	return w.subscriber()
}

func (w *worker) add(ev store.Event, now time.Time) {
	w.mu.Lock()
	q := w.queues[ev.Tenant]
	if q == nil {
		q = &queue{}
		w.queues[ev.Tenant] = q
	}
	if q.add(ev, now) {
		w.size++
		if w.size > w.limit {
			q.dropOldest()
			w.size--
			w.d.dropped.WithLabelValues(w.name).Inc()
		}
	}
	w.queued.Set(float64(w.size))
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// due picks the tenant whose queue is ready for an attempt, the one that
// has waited longest first; or says how long until one is.
func (w *worker) due(now time.Time) (tenant string, batch []entry, tries int, wait time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	wait = time.Hour
	tenants := make([]string, 0, len(w.queues))
	for t, q := range w.queues {
		if len(q.entries) == 0 {
			delete(w.queues, t)
			continue
		}
		tenants = append(tenants, t)
	}
	sort.Slice(tenants, func(i, j int) bool { return w.queues[tenants[i]].next.Before(w.queues[tenants[j]].next) })
	for _, t := range tenants {
		q := w.queues[t]
		if q.next.After(now) {
			wait = min(wait, q.next.Sub(now))
			continue
		}
		return t, q.take(w.d.opts.BatchSize), q.tries, 0
	}
	return "", nil, 0, wait
}

func (w *worker) run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		tenant, batch, tries, wait := w.due(time.Now())
		if batch != nil {
			w.attempt(ctx, tenant, batch, tries+1)
			if ctx.Err() != nil {
				return
			}
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-timer.C:
		}
	}
}

// attempt delivers one batch and settles it: done, retried later, or
// given up; and logs the attempt.
func (w *worker) attempt(ctx context.Context, tenant string, batch []entry, try int) {
	opts := &w.d.opts
	events := make([]store.Event, len(batch))
	for i, e := range batch {
		events[i] = e.ev
	}
	// An attempt under way when Vigil stops is let finish, up to the
	// shutdown deadline: cut off, it would be half sent and logged as failed.
	actx, cancel := context.WithTimeout(w.d.hard, opts.Timeout)
	start := time.Now()
	report, err := w.subscriber().Deliver(actx, tenant, events)
	cancel()
	now := time.Now()

	outcome := Delivered
	switch {
	case err == nil && report.Skipped:
		outcome = Skipped
	case err == nil:
	case IsPermanent(err):
		outcome = Failed
	case now.Sub(batch[0].queued) >= opts.MaxAge:
		outcome = Failed // waited as long as it may
	default:
		outcome = Retrying
	}
	w.d.attempts.WithLabelValues(w.name, string(outcome)).Inc()

	d := Delivery{Subscriber: w.name, Target: report.Target, Try: try, Status: report.Status,
		LatencyMS: float64(now.Sub(start).Microseconds()) / 1000, Outcome: outcome, Keys: report.Keys, Note: report.Note}
	if d.Keys == nil {
		d.Keys = []string{}
	}
	for _, e := range events {
		d.Events = append(d.Events, e.ID)
	}
	if err != nil {
		d.Error = err.Error()
		w.d.opts.Logger.Warn("delivery failed", "subscriber", d.Subscriber, "tenant", tenant, "try", try, "outcome", outcome, "err", err)
	}
	// Logged before the batch leaves the queue: a Recover running beside
	// this worker finds each event queued or settled in the log, never
	// neither.
	w.log(tenant, start, d)

	w.mu.Lock()
	q := w.queues[tenant]
	if outcome.final() {
		w.size -= q.remove(batch)
		q.tries, q.next = 0, time.Time{}
	} else {
		q.tries++
		q.next = now.Add(w.backoff(q.tries))
	}
	w.queued.Set(float64(w.size))
	w.mu.Unlock()
}

// backoff is the delay before retry number tries: Backoff doubled per
// earlier retry, at most MaxBackoff, plus up to as much again of jitter so
// receivers that failed together are not retried in step.
func (w *worker) backoff(tries int) time.Duration {
	opts := &w.d.opts
	d := opts.MaxBackoff
	if tries < 30 {
		d = min(opts.Backoff<<(tries-1), opts.MaxBackoff)
	}
	return d + time.Duration(rand.Int64N(int64(d)+1))
}

// log writes one attempt to the delivery log. The log must not hold up
// delivery: a failed write loses the record, never the notification.
func (w *worker) log(tenant string, at time.Time, d Delivery) {
	ev, err := deliveryEvent(tenant, at, d)
	if err == nil {
		wctx, cancel := context.WithTimeout(w.d.hard, 10*time.Second)
		err = w.d.opts.Store.WriteEvents(wctx, []store.Event{ev})
		cancel()
	}
	if err != nil {
		w.d.opts.Logger.Warn("cannot write the delivery log", "subscriber", d.Subscriber, "err", err)
	}
}
