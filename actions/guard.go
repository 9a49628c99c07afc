package actions

import (
	"context"
	"fmt"
	"time"
)

// holdsLease reports whether an action holds its target's lease: it
// executes, or its execution is being verified.
func holdsLease(a *Action) bool { return a.State == Executing || a.State == Verifying }

// busy says why another action keeps a from executing now: it holds the
// target's lease. a waits (the dispatcher tries again), and expires if
// the other outlasts its approval.
func busy(a *Action, others map[string]*Action) string {
	for _, o := range others {
		if o.ID != a.ID && holdsLease(o) {
			return fmt.Sprintf("action %s is %s on %s: one at a time per target", o.ID, o.State, a.Target)
		}
	}
	return ""
}

// cooling says why the target is still cooling down after another
// action executed on it.
func cooling(a *Action, p *Policy, others map[string]*Action, now time.Time) string {
	for _, o := range others {
		if at := o.executed(); o.ID != a.ID && p.Cooldown > 0 && !at.IsZero() && now.Sub(at) < p.Cooldown {
			return fmt.Sprintf("%s is cooling down until %s after action %s", a.Target, at.Add(p.Cooldown).Format(time.RFC3339), o.ID)
		}
	}
	return ""
}

// rateLimited says why the policy has executed as often as its rate
// allows.
func (e *Engine) rateLimited(a *Action, p *Policy, others map[string]*Action) string {
	n, since := 0, e.now().Add(-p.Guardrails.RatePer)
	for _, o := range others {
		for _, s := range o.Timeline {
			if o.Policy == p.Name && s.State == Executing && s.At.After(since) {
				n++
			}
		}
	}
	if n >= p.Guardrails.RateCount {
		return fmt.Sprintf("policy %s executed %d times in the last %s, its rate limit", p.Name, n, p.Guardrails.RatePer)
	}
	return ""
}

// rival is another action that holds the target's lease too, read back
// after this one recorded that it executes: the loser of a race between
// replicas that both believed they drive the target. See the package doc
// for why at most one of two such actions goes on.
func (e *Engine) rival(ctx context.Context, a *Action) string {
	actions, err := e.read(ctx, a.Tenant, a.Target)
	if err != nil {
		// Unreadable: assume the worst, apply nothing.
		return "(unknown: " + err.Error() + ")"
	}
	for _, o := range actions {
		if o.ID != a.ID && holdsLease(o) {
			return o.ID
		}
	}
	return ""
}
