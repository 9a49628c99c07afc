package canary

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// JobStore is what the canary job reads and writes.
type JobStore interface {
	store.DurationReader
	store.EventWriter
}

// Monitor is a standing comparison: Spec without a window, judged each
// tick over the Window that ends at the tick.
type Monitor struct {
	Name   string // from the config directory; "" for monitors built in code
	Spec   Spec
	Window time.Duration
	Every  time.Duration // judged at ticks that are multiples of it; 0: every tick
}

// Job judges every monitor each tick and records each verdict as a
// finding (see Finding), so the actions that roll canaries back read them
// from the store. It implements the analyzer scheduler's Job interface.
type Job struct {
	Store    JobStore
	Monitors []Monitor
	// Current, when set, returns the monitors as the config directory
	// defines them now; it is called at every tick instead of reading
	// Monitors.
	Current func() []Monitor
	// Owns, when set, says which monitors this replica judges (the
	// analyzer's Owns, by the key "canary/<tenant>/<name or service/canary>").
	Owns func(ctx context.Context, key string) bool
	// Publisher, when set, is handed the verdicts once recorded: the
	// dispatcher, which delivers them to the actions that act on them.
	Publisher Publisher
}

// Publisher hands events that must leave the job to the dispatcher.
type Publisher interface {
	Publish(events ...store.Event)
}

// Name implements the scheduler's Job.
func (j *Job) Name() string { return "canary" }

// Run implements the scheduler's Job: the window of each monitor ends at
// the tick, so replicas evaluating the same tick record the same events.
func (j *Job) Run(ctx context.Context, tick time.Time) error {
	var events []store.Event
	var errs []error
	monitors := j.Monitors
	if j.Current != nil {
		monitors = j.Current()
	}
	for _, m := range monitors {
		if m.Every > 0 && !tick.Truncate(m.Every).Equal(tick) {
			continue
		}
		name := m.Name
		if name == "" {
			name = m.Spec.Service + "/" + m.Spec.Canary
		}
		if j.Owns != nil && !j.Owns(ctx, "canary/"+m.Spec.Tenant+"/"+name) {
			continue
		}
		spec := m.Spec
		spec.Start, spec.End = tick.Add(-m.Window), tick
		ev, err := j.judge(ctx, m.Name, spec)
		if err != nil {
			errs = append(errs, fmt.Errorf("canary %s/%s: %w", spec.Service, spec.Canary, err))
			continue
		}
		events = append(events, ev)
	}
	if len(events) > 0 {
		if err := j.Store.WriteEvents(ctx, events); err != nil {
			errs = append(errs, fmt.Errorf("cannot record canary verdicts: %w", err))
		} else if j.Publisher != nil {
			j.Publisher.Publish(events...)
		}
	}
	return errors.Join(errs...)
}

func (j *Job) judge(ctx context.Context, monitor string, spec Spec) (store.Event, error) {
	a, err := Analyze(ctx, j.Store, spec)
	if err != nil {
		return store.Event{}, err
	}
	a.Monitor = monitor
	return Finding(a)
}
