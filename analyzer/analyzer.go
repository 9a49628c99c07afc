// Package analyzer owns the scheduler that runs Vigil's evaluators on
// aligned ticks, and the evaluators that are not SLOs. Evaluators read the
// store and write what they find back to it.
package analyzer

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-dev/vigil/store"
)

// Job is one evaluator. Run is given the tick it evaluates, not the wall
// clock, so a run is reproducible and two replicas evaluating the same tick
// produce the same events.
type Job interface {
	Name() string
	Run(ctx context.Context, tick time.Time) error
}

// Clock is the scheduler's view of time; tests inject a fake one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Options configure a Scheduler.
type Options struct {
	Interval time.Duration // ticks are multiples of Interval since the Unix epoch
	// Timeout bounds a job's run per tick; 0 means Interval. A job with a
	// Timeout() method of its own gets that instead.
	Timeout       time.Duration
	MaxConcurrent int   // jobs running at once; 0 means 4
	Clock         Clock // nil means the real clock
	Logger        *slog.Logger
	Registerer    prometheus.Registerer
	// Members, when set, shares the work between analyzer replicas: every
	// tick this replica announces itself as Replica, and a job evaluates
	// only the monitors it owns (see Owns).
	Members store.Members
	Replica string
}

// membersGroup is the name analyzer replicas announce themselves under.
const membersGroup = "analyzer"

// ownerKey carries a tick's ownership through the jobs' context.
type ownerKey struct{}

// Owns reports whether this replica evaluates the monitor named key (an
// SLO, a budget, a drift or canary monitor) at this tick. Among the
// replicas that announced themselves at this tick or the one before (see
// liveTicks), the one with the highest hash of key and its name owns it
// (rendezvous hashing): each monitor has one owner, and a replica joining
// or leaving moves only its share. Outside a scheduler, or without
// Members, everything is owned.
//
// It is not a lock: for the moment replicas disagree on who is alive, a
// monitor may be evaluated twice. That is harmless — findings, alerts and
// rollups have deterministic identities — and is why Vigil shares work
// through heartbeats in the store rather than a lease the store cannot
// grant atomically (ClickHouse has no compare-and-set), or a Kubernetes
// Lease (which would make Kubernetes a requirement).
func Owns(ctx context.Context, key string) bool {
	members, _ := ctx.Value(ownerKey{}).(ownership)
	return members.owns(key)
}

type ownership struct {
	self    string
	members []string // sorted
	// settled: the members are those this replica saw at the tick before
	// too (see Scheduler.Owns).
	settled bool
	// shared: replicas share the work (Options.Members is set).
	shared bool
}

// acts reports whether this replica may act on key (see Scheduler.Owns).
func (o ownership) acts(key string) bool {
	if !o.shared {
		return true
	}
	// A replica that read the members is among them: none means unread.
	return o.settled && len(o.members) > 0 && o.owns(key)
}

func (o ownership) owns(key string) bool {
	if len(o.members) == 0 {
		return true
	}
	best, bestScore := "", uint64(0)
	for _, m := range o.members {
		if score := xxhash.Sum64String(key + "\x00" + m); best == "" || score > bestScore {
			best, bestScore = m, score
		}
	}
	return best == o.self
}

// Owns is Owns outside a tick, and for acting rather than evaluating:
// whether this replica owned key at the last tick, with the replicas it
// saw then the same as at the tick before. The actions engine asks it
// before it executes, from its tick or from the dispatcher.
//
// Replicas that start together disagree at their first tick: each may
// read the members before the other has announced itself, count itself
// alone and own everything. Evaluating twice is harmless; executing an
// action twice is not (TestClusterAnalyzerFaults restarts two analyzers
// with an approved action waiting, and both executed it). So a replica
// acts only on a view it has held for two ticks: a replica that joins is
// seen by the others at its first tick's announcement, and acts from its
// second, after they have moved their share of the keys away. Before the
// first tick (an approval may reach the engine from the dispatcher then)
// and after any change of members it owns nothing for one tick; the
// owner's next tick hands its approvals to the dispatcher again. A tick
// whose members could not be read evaluates everything but acts on
// nothing: every replica that cannot read them would act. Alone (without
// Members) it owns everything.
func (s *Scheduler) Owns(key string) bool {
	o := s.last.Load()
	if o == nil {
		return s.opts.Members == nil
	}
	return o.acts(key)
}

// TimeoutJob is a job with a timeout of its own.
type TimeoutJob interface {
	Job
	Timeout() time.Duration
}

// Scheduler runs jobs together on aligned ticks: every replica ticks at the
// same instants, which keeps their results comparable and their event ids
// equal.
type Scheduler struct {
	opts Options
	jobs []Job

	runs     *prometheus.CounterVec
	failures *prometheus.CounterVec
	duration *prometheus.HistogramVec
	missed   prometheus.Counter
	replicas prometheus.Gauge

	last atomic.Pointer[ownership] // the ownership of the last tick
}

// NewScheduler returns a scheduler for the jobs.
func NewScheduler(opts Options, jobs ...Job) *Scheduler {
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Timeout == 0 {
		opts.Timeout = opts.Interval
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = 4
	}
	s := &Scheduler{
		opts: opts,
		jobs: jobs,
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_analyzer_job_runs_total", Help: "Evaluator runs, by job.",
		}, []string{"job"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_analyzer_job_failures_total", Help: "Evaluator runs that returned an error or timed out, by job.",
		}, []string{"job"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "vigil_analyzer_job_duration_seconds", Help: "Time an evaluator run took, by job.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, []string{"job"}),
		missed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_analyzer_missed_ticks_total", Help: "Ticks skipped because the previous tick's jobs were still running.",
		}),
		replicas: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigil_analyzer_replicas", Help: "Analyzer replicas alive at the last tick, sharing the monitors.",
		}),
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(s.runs, s.failures, s.duration, s.missed, s.replicas)
	}
	return s
}

// NextTick returns the first multiple of interval after now.
func NextTick(now time.Time, interval time.Duration) time.Time {
	return now.Truncate(interval).Add(interval)
}

// Run ticks until ctx ends. A tick runs every job concurrently and waits for
// all of them; ticks that pass meanwhile are counted as missed, not queued.
func (s *Scheduler) Run(ctx context.Context) error {
	tick := NextTick(s.opts.Clock.Now(), s.opts.Interval)
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
			return nil
		case <-s.opts.Clock.After(tick.Sub(s.opts.Clock.Now())):
		}
		s.RunTick(ctx, tick)
		next := NextTick(s.opts.Clock.Now(), s.opts.Interval)
		if skipped := int(next.Sub(tick)/s.opts.Interval) - 1; skipped > 0 {
			s.missed.Add(float64(skipped))
		}
		tick = next
	}
	return nil
}

// RunTick runs every job once for the tick, at most MaxConcurrent at a
// time.
func (s *Scheduler) RunTick(ctx context.Context, tick time.Time) {
	o := s.ownership(ctx, tick)
	if prev := s.last.Load(); prev != nil && slices.Equal(prev.members, o.members) {
		o.settled = true
	}
	s.last.Store(&o)
	ctx = context.WithValue(ctx, ownerKey{}, o)
	sem := make(chan struct{}, s.opts.MaxConcurrent)
	var wg sync.WaitGroup
	for _, j := range s.jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func(j Job) {
			defer func() { <-sem; wg.Done() }()
			s.runJob(ctx, j, tick)
		}(j)
	}
	wg.Wait()
}

// liveTicks is how many ticks after its last announcement a replica still
// counts as alive. One: a replica that announced itself at tick T and died
// is counted at T+1 (whose announcement may not be written yet when
// another replica reads) and not at T+2, so its monitors are taken over
// at most two ticks after it died, as issue 17 asks. The price: a replica
// whose tick overran a whole interval skips the next tick's announcement,
// and for one tick the others count it gone and evaluate its monitors
// too, which deterministic event ids make harmless.
const liveTicks = 1

// ownership announces this replica and learns who else is alive. When the
// store cannot say, the replica owns everything: work done twice is
// correct, work left undone is not.
func (s *Scheduler) ownership(ctx context.Context, tick time.Time) ownership {
	if s.opts.Members == nil {
		return ownership{}
	}
	// Bounded: a store that hangs must not hold every job of the tick.
	ctx, cancel := context.WithTimeout(ctx, max(s.opts.Interval/2, time.Second))
	defer cancel()
	if err := s.opts.Members.Heartbeat(ctx, membersGroup, s.opts.Replica, tick); err != nil {
		s.opts.Logger.Warn("cannot announce this analyzer; evaluating everything this tick", "err", err)
		return ownership{shared: true}
	}
	members, err := s.opts.Members.LiveMembers(ctx, membersGroup, tick.Add(-liveTicks*s.opts.Interval))
	if err != nil {
		s.opts.Logger.Warn("cannot list analyzers; evaluating everything this tick", "err", err)
		return ownership{shared: true}
	}
	s.replicas.Set(float64(len(members)))
	return ownership{self: s.opts.Replica, members: slices.Sorted(slices.Values(members)), shared: true}
}

func (s *Scheduler) runJob(ctx context.Context, j Job, tick time.Time) {
	timeout := s.opts.Timeout
	if tj, ok := j.(TimeoutJob); ok && tj.Timeout() > 0 {
		timeout = tj.Timeout()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	err := j.Run(ctx, tick)
	s.duration.WithLabelValues(j.Name()).Observe(time.Since(start).Seconds())
	s.runs.WithLabelValues(j.Name()).Inc()
	if err != nil {
		s.failures.WithLabelValues(j.Name()).Inc()
		s.opts.Logger.Error("evaluator failed", "job", j.Name(), "tick", tick, "err", err)
	}
}
