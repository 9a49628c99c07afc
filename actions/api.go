package actions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// What the Go API answers besides an action; the HTTP API maps them to
// 404, 409 and 422.
var (
	ErrNotFound = fmt.Errorf("action %w", store.ErrNotFound)
	// ErrConflict: the action changed since the version the decision was
	// made on.
	ErrConflict = errors.New("the action changed since it was read")
	// ErrState: the action's state does not allow the decision.
	ErrState = errors.New("the action's state does not allow it")
)

// Decision is a person's decision on an action.
type Decision struct {
	Actor  string
	Reason string // required to reject
	// Version is the action's version the decision was made on; 0 takes
	// whatever it is now.
	Version int
	// IdempotencyKey makes a decision sent again (a retried request) a
	// no-op that answers the action as the first made it.
	IdempotencyKey string
}

// Verb names a person's decision, as the audit trail records it.
type Verb string

const (
	VerbApprove Verb = "approve"
	VerbReject  Verb = "reject"
	VerbAbort   Verb = "abort"
	VerbRetry   Verb = "retry"
)

// Filter selects actions to list.
type Filter struct {
	Tenant     string
	States     []State
	Policy     string
	Target     string // a target's Key
	Start, End time.Time
}

// List returns the actions that f selects, newest proposal first.
func (e *Engine) List(ctx context.Context, f Filter) ([]*Action, error) {
	all, err := e.read(ctx, tenantOr(f.Tenant))
	if err != nil {
		return nil, err
	}
	var out []*Action
	for _, a := range all {
		switch {
		case len(f.States) > 0 && !slices.Contains(f.States, a.State),
			f.Policy != "" && a.Policy != f.Policy,
			f.Target != "" && a.Target.Key() != f.Target,
			!f.Start.IsZero() && a.Proposed.Before(f.Start),
			!f.End.IsZero() && !a.Proposed.Before(f.End):
			continue
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Proposed.Equal(out[j].Proposed) {
			return out[i].Proposed.After(out[j].Proposed)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Get returns one action with its timeline.
func (e *Engine) Get(ctx context.Context, tenant, id string) (*Action, error) {
	all, err := e.read(ctx, tenantOr(tenant))
	if err != nil {
		return nil, err
	}
	a, ok := all[id]
	if !ok {
		return nil, fmt.Errorf("%s: %w", id, ErrNotFound)
	}
	return a, nil
}

// Approve approves a proposed action, which then executes through the
// dispatcher once every guardrail allows.
func (e *Engine) Approve(ctx context.Context, tenant, id string, d Decision) (*Action, error) {
	return e.decide(ctx, tenant, id, d, VerbApprove, func(a *Action) (Transition, error) {
		if a.State != Proposed {
			return Transition{}, fmt.Errorf("%w: it is %s, not proposed", ErrState, a.State)
		}
		if a.Mode == DryRun {
			return Transition{}, fmt.Errorf("%w: its policy %s is dry-run, which never executes", ErrState, a.Policy)
		}
		return a.transition(Approved, d.Actor, d.Reason), nil
	})
}

// Reject rejects a proposed or approved action; the reason is required.
func (e *Engine) Reject(ctx context.Context, tenant, id string, d Decision) (*Action, error) {
	return e.decide(ctx, tenant, id, d, VerbReject, func(a *Action) (Transition, error) {
		if d.Reason == "" {
			return Transition{}, fmt.Errorf("%w: a rejection needs a reason", ErrState)
		}
		if a.State != Proposed && a.State != Approved {
			return Transition{}, fmt.Errorf("%w: it is %s", ErrState, a.State)
		}
		return a.transition(Rejected, d.Actor, d.Reason), nil
	})
}

// Abort stops an action: one not executed yet is rejected; one being
// verified fails at once, without a revert (a person decides what next).
func (e *Engine) Abort(ctx context.Context, tenant, id string, d Decision) (*Action, error) {
	return e.decide(ctx, tenant, id, d, VerbAbort, func(a *Action) (Transition, error) {
		reason := "aborted"
		if d.Reason != "" {
			reason += ": " + d.Reason
		}
		switch a.State {
		case Proposed, Approved:
			return a.transition(Rejected, d.Actor, reason), nil
		case Verifying:
			return a.transition(Failed, d.Actor, reason), nil
		}
		return Transition{}, fmt.Errorf("%w: it is %s", ErrState, a.State)
	})
}

// Retry approves a failed action again: its next attempt plans and
// executes afresh, under every guardrail.
func (e *Engine) Retry(ctx context.Context, tenant, id string, d Decision) (*Action, error) {
	return e.decide(ctx, tenant, id, d, VerbRetry, func(a *Action) (Transition, error) {
		if a.State != Failed {
			return Transition{}, fmt.Errorf("%w: it is %s, not failed", ErrState, a.State)
		}
		t := a.transition(Approved, d.Actor, d.Reason)
		t.Attempt = a.Attempt + 1
		return t, nil
	})
}

// decide applies a person's decision: idempotent on its key (the same
// verb sent again with it is made once), refused on a stale version,
// recorded with its verb, and an approval handed to the dispatcher.
func (e *Engine) decide(ctx context.Context, tenant, id string, d Decision, verb Verb, build func(*Action) (Transition, error)) (*Action, error) {
	tenant = tenantOr(tenant)
	a, err := e.Get(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	defer e.lock(tenant, a.Target)()
	// Read again under the lock: only the target's actions, which the
	// store selects by subject, not the tenant's whole week again.
	onTarget, err := e.read(ctx, tenant, a.Target)
	if err != nil {
		return nil, err
	}
	if a = onTarget[id]; a == nil {
		return nil, fmt.Errorf("%s: %w", id, ErrNotFound)
	}
	if d.IdempotencyKey != "" && slices.ContainsFunc(a.Timeline, func(s Step) bool {
		return s.IdempotencyKey == d.IdempotencyKey && s.Decision == verb
	}) {
		return a, nil
	}
	if d.Version != 0 && d.Version != a.Version {
		return nil, fmt.Errorf("%w: version %d, now %d (%s)", ErrConflict, d.Version, a.Version, a.State)
	}
	t, err := build(a)
	if err != nil {
		return nil, err
	}
	t.IdempotencyKey, t.Decision = d.IdempotencyKey, verb
	evs, err := e.record(ctx, tenant, a, t)
	if err != nil {
		return nil, err
	}
	if t.State == Approved {
		e.publish(evs...)
	}
	return a, nil
}
