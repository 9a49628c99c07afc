package rightsize

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// JobStore is what the right-sizing job reads and writes.
type JobStore interface {
	MetricReader
	ThroughputReader
	store.EventWriter
}

// Publisher hands events that must leave the job to the dispatcher.
type Publisher interface {
	Publish(events ...store.Event)
}

// Job advises on the configured workloads, each at the ticks that are
// multiples of its Every, over the history that ends at the tick:
// recorded as rightsize.advice events (Advices), then handed to the
// dispatcher, which delivers them to the actions. It implements the
// analyzer scheduler's Job interface.
type Job struct {
	Store JobStore
	// Current returns the workloads as the config directory defines them
	// now; it is called at every tick.
	Current func() []Workload
	// Owns, when set, says which workloads this replica advises on (the
	// analyzer's Owns, by the key
	// "rightsize/<tenant>/<namespace>/<kind>/<workload>").
	Owns      func(ctx context.Context, key string) bool
	Publisher Publisher
}

// Name implements the scheduler's Job.
func (j *Job) Name() string { return "rightsize" }

// Run implements the scheduler's Job: the history ends at the tick, so
// replicas advising on the same tick record the same events.
func (j *Job) Run(ctx context.Context, tick time.Time) error {
	var events []store.Event
	var errs []error
	for _, w := range j.Current() {
		key := "rightsize/" + w.Tenant + "/" + w.Namespace + "/" + w.Kind + "/" + w.Workload
		if !tick.Truncate(w.Every).Equal(tick) || j.Owns != nil && !j.Owns(ctx, key) {
			continue
		}
		advices, err := j.advise(ctx, w, tick)
		if err != nil {
			errs = append(errs, fmt.Errorf("rightsize %s/%s: %w", w.Namespace, w.Workload, err))
		}
		for _, a := range advices {
			ev, err := AdviceEvent(a, tick)
			if err != nil {
				return err
			}
			events = append(events, ev)
		}
	}
	if len(events) > 0 {
		if err := j.Store.WriteEvents(ctx, events); err != nil {
			return errors.Join(append(errs, fmt.Errorf("cannot record right-sizing advice: %w", err))...)
		}
		if j.Publisher != nil {
			j.Publisher.Publish(events...)
		}
	}
	return errors.Join(errs...)
}

// advise is the workload's advice at the tick: one on its resources and
// one on its replicas, as configured; none where the store has nothing to
// go on (no container metrics, no replica count).
func (j *Job) advise(ctx context.Context, w Workload, tick time.Time) ([]Advice, error) {
	var out []Advice
	base := Advice{Tenant: w.Tenant, Namespace: w.Namespace, Kind: w.Kind, Workload: w.Workload}
	if w.Resources != nil {
		recs, err := (&Recommender{Metrics: j.Store}).Recommend(ctx, Query{Tenant: w.Tenant, Start: tick.Add(-w.ResourceHistory), End: tick,
			Namespace: w.Namespace, Kind: w.Kind, Workload: w.Workload, Strategy: w.Resources})
		if err != nil {
			return nil, err
		}
		if len(recs) > 0 {
			a := base
			a.Resources = recs
			out = append(out, a)
		}
	}
	if w.Replicas != nil {
		q := *w.Replicas
		q.Tenant, q.Namespace, q.Deployment, q.Start, q.End = w.Tenant, w.Namespace, w.Workload, tick.Add(-w.ReplicaHistory), tick
		advice, err := (&ReplicaRecommender{Spans: j.Store, Metrics: j.Store}).Recommend(ctx, q)
		switch {
		case errors.Is(err, ErrNoReplicaCount):
		case err != nil:
			return out, err
		default:
			a := base
			a.Replicas = &advice
			out = append(out, a)
		}
	}
	return out, nil
}
