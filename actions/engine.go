package actions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
)

// Store is what the engine reads and writes: its own events and the
// triggers' (to re-check evidence), and SLO rollups (to verify).
type Store interface {
	store.EventReader
	store.EventWriter
	store.RollupReader
}

// Publisher hands events to the dispatcher.
type Publisher interface {
	Publish(events ...store.Event)
}

// Options configure an Engine.
type Options struct {
	Store Store
	// Policies and SLOs are the config in force, read at every use so a
	// reload reaches the engine at once.
	Policies func() []*Policy
	SLOs     func() []*slo.SLO
	// Executors by name (Kubernetes, Argo, Webhook); a policy whose
	// executor is not configured proposes nothing.
	Executors map[string]Executor
	// Owns says whether this replica drives the actions of a target, by
	// the key "actions/<tenant>/<target key>" (the analyzer scheduler's
	// Owns); nil drives them all.
	Owns func(key string) bool
	// Paused is the --actions.paused flag: nothing executes, whatever
	// the stored kill switch says.
	Paused bool
	// Lookback bounds how far back actions are read (default 7 days):
	// older ones are final, their approvals long expired.
	Lookback time.Duration
	Now      func() time.Time // nil is time.Now
	Logger   *slog.Logger
	// Registerer takes the engine's metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
}

// Engine proposes actions on triggers, decides on them with people or
// on its own, and executes and verifies them. See the package doc.
type Engine struct {
	opts      Options
	publisher Publisher
	metrics   *metrics
	locks     sync.Map // tenant/target key → *sync.Mutex: one decision at a time per target
	watch     watchers // the live timelines
}

// New returns an engine; SetPublisher connects it to the dispatcher that
// delivers its work, which needs its subscribers first.
func New(opts Options) *Engine {
	if opts.Lookback <= 0 {
		opts.Lookback = 7 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Policies == nil {
		opts.Policies = func() []*Policy { return nil }
	}
	if opts.SLOs == nil {
		opts.SLOs = func() []*slo.SLO { return nil }
	}
	return &Engine{opts: opts, metrics: newMetrics(opts.Registerer)}
}

// SetPublisher sets the dispatcher approved actions are handed to.
func (e *Engine) SetPublisher(p Publisher) { e.publisher = p }

func (e *Engine) publish(evs ...store.Event) {
	if e.publisher != nil && len(evs) > 0 {
		e.publisher.Publish(evs...)
	}
}

func (e *Engine) now() time.Time { return e.opts.Now().UTC() }

// lock serializes the decisions about one target in this process.
func (e *Engine) lock(tenant string, t Target) func() {
	m, _ := e.locks.LoadOrStore(tenant+"\x00"+t.Key(), &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

func (e *Engine) owns(tenant string, t Target) bool {
	return e.opts.Owns == nil || e.opts.Owns("actions/"+tenant+"/"+t.Key())
}

// policy is the tenant's policy of that name in the config in force.
func (e *Engine) policy(tenant, name string) *Policy {
	for _, p := range e.opts.Policies() {
		if p.tenant() == tenant && p.Name == name {
			return p
		}
	}
	return nil
}

func (e *Engine) slo(tenant, name string) *slo.SLO {
	for _, s := range e.opts.SLOs() {
		if tenantOr(s.Tenant) == tenant && s.Name == name {
			return s
		}
	}
	return nil
}

// read folds the tenant's actions on the targets (every target when
// none is named) over the lookback.
func (e *Engine) read(ctx context.Context, tenant string, targets ...Target) (map[string]*Action, error) {
	q := store.EventQuery{Tenant: tenant, Start: e.now().Add(-e.opts.Lookback), End: e.now().Add(time.Hour)}
	for _, t := range targets {
		q.Subjects = append(q.Subjects, t.Key())
	}
	recs, err := Transitions.Read(ctx, e.opts.Store, q)
	var bad *store.PayloadError
	if err != nil && !errors.As(err, &bad) {
		return nil, fmt.Errorf("cannot read actions: %w", err)
	}
	if err != nil {
		// A transition that does not decode is named and passed over: the
		// rest of the audit trail stands.
		e.opts.Logger.Warn("passing over action events that do not decode", "err", err)
	}
	return fold(tenant, recs), nil
}

// record writes transitions of a tenant's action, each the next version.
func (e *Engine) record(ctx context.Context, tenant string, a *Action, ts ...Transition) ([]store.Event, error) {
	evs := make([]store.Event, 0, len(ts))
	prev := make([]State, len(ts))
	at := e.now()
	for i, t := range ts {
		prev[i] = a.State
		a.Version++
		t.Action, t.Version = a.ID, a.Version
		if t.Attempt == 0 {
			t.Attempt = max(a.Attempt, 1)
		}
		ev, err := t.event(tenant, at)
		if err != nil {
			return nil, err
		}
		evs = append(evs, ev)
		a.Timeline = append(a.Timeline, Step{At: at, Transition: t, ev: ev})
		a.apply(a.Timeline[len(a.Timeline)-1])
	}
	if err := e.opts.Store.WriteEvents(ctx, evs); err != nil {
		return nil, fmt.Errorf("cannot record the action's %s: %w", ts[len(ts)-1].State, err)
	}
	for i, s := range a.Timeline[len(a.Timeline)-len(ts):] {
		e.metrics.observe(a, prev[i], s.Transition, at)
	}
	e.watch.notify(tenant, a.ID)
	return evs, nil
}

// transition is the next transition of an action, from its latest.
func (a *Action) transition(s State, actor, reason string) Transition {
	return Transition{Policy: a.Policy, Target: a.Target, State: s, Attempt: a.Attempt, Actor: actor, Reason: reason, Mode: a.Mode}
}
