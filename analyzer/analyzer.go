// Package analyzer owns the scheduler that runs Vigil's evaluators on
// aligned ticks, and the evaluators that are not SLOs. Evaluators read the
// store and write what they find back to it.
package analyzer

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
	Interval   time.Duration // ticks are multiples of Interval since the Unix epoch
	Timeout    time.Duration // per job per tick; 0 means Interval
	Clock      Clock         // nil means the real clock
	Logger     *slog.Logger
	Registerer prometheus.Registerer
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
}

// NewScheduler returns a scheduler for the jobs.
func NewScheduler(opts Options, jobs ...Job) *Scheduler {
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Timeout == 0 {
		opts.Timeout = opts.Interval
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
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(s.runs, s.failures, s.duration, s.missed)
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

// RunTick runs every job once for the tick.
func (s *Scheduler) RunTick(ctx context.Context, tick time.Time) {
	var wg sync.WaitGroup
	for _, j := range s.jobs {
		wg.Add(1)
		go func(j Job) {
			defer wg.Done()
			s.runJob(ctx, j, tick)
		}(j)
	}
	wg.Wait()
}

func (s *Scheduler) runJob(ctx context.Context, j Job, tick time.Time) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
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
