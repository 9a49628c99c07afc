package actions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
)

// Name implements the analyzer scheduler's Job.
func (e *Engine) Name() string { return "actions" }

// Run implements the analyzer scheduler's Job: at each tick the engine
// drives the actions of the targets this replica owns: it expires
// proposals nobody decided on, hands approved actions (and reverts) to
// the dispatcher again when another replica published them or a restart
// left them, and judges the actions being verified.
func (e *Engine) Run(ctx context.Context, tick time.Time) error {
	recs, err := Transitions.Read(ctx, e.opts.Store, store.EventQuery{AllTenants: true, Start: e.now().Add(-e.opts.Lookback), End: e.now().Add(time.Hour)})
	var bad *store.PayloadError
	if err != nil && !errors.As(err, &bad) {
		return fmt.Errorf("cannot read actions: %w", err)
	}
	byTenant := map[string][]store.Decoded[Transition]{}
	for _, r := range recs {
		byTenant[r.Event.Tenant] = append(byTenant[r.Event.Tenant], r)
	}
	var errs []error
	for tenant, rs := range byTenant {
		for _, a := range fold(tenant, rs) {
			if a.State.Final() && !(a.State == Failed && a.last().Revert) || !e.owns(tenant, a.Target) {
				continue
			}
			if err := e.tend(ctx, a); err != nil {
				errs = append(errs, fmt.Errorf("action %s: %w", a.ID, err))
			}
		}
	}
	return errors.Join(errs...)
}

// tend does what a tick owes one open action.
func (e *Engine) tend(ctx context.Context, a *Action) error {
	switch a.State {
	case Proposed:
		return e.expire(ctx, a)
	case Approved, Executing, Failed:
		// The dispatcher's queue keeps one copy per event: handing it the
		// same approval every tick costs nothing, and delivering it twice
		// does nothing twice (see drive).
		e.publish(e.approval(a))
	case Verifying:
		return e.verify(ctx, a)
	}
	return nil
}

// approval is the event that sets the action's current attempt going:
// its approval, or the failure to revert.
func (e *Engine) approval(a *Action) store.Event {
	for i := len(a.Timeline) - 1; i >= 0; i-- {
		s := a.Timeline[i]
		if s.Attempt == a.Attempt && (s.State == Approved || s.State == Failed && s.Revert) {
			return s.ev
		}
	}
	return a.last().ev
}

// expire ends a proposal nobody decided on within its policy's approval
// timeout.
func (e *Engine) expire(ctx context.Context, a *Action) error {
	timeout := DefaultGuardrails.ApprovalTimeout
	if p := e.policy(a.Tenant, a.Policy); p != nil {
		timeout = p.Guardrails.ApprovalTimeout
	}
	if e.now().Sub(a.since()) <= timeout {
		return nil
	}
	defer e.lock(a.Tenant, a.Target)()
	_, err := e.record(ctx, a.Tenant, a, a.transition(Expired, "vigil", fmt.Sprintf("not decided on within %s", timeout)))
	return err
}

// verify judges an executed action: the change must hold and, with an
// SLO to verify, the SLO's burn rate since the execution must fall below
// the expectation within the window. Past the window it fails: reverting
// a scale or a resize the data says did not help, but not on no data,
// which counts as a failure and is left for a person to judge
// (Flagger counts missing metrics as failed checks; Argo Rollouts pauses
// an inconclusive analysis for a human).
func (e *Engine) verify(ctx context.Context, a *Action) error {
	p := e.policy(a.Tenant, a.Policy)
	v := Verify{Within: DefaultVerifyWithin}
	if p != nil {
		v = p.Verify
	}
	holds, detail, err := e.executor(a).Verify(ctx, a.Plan)
	if err != nil {
		return fmt.Errorf("cannot verify: %w", err)
	}
	late := e.now().Sub(a.executed()) > v.Within
	if !holds {
		return e.settle(ctx, a, Failed, "the change did not hold: "+detail, false)
	}
	if v.SLO == "" {
		return e.settle(ctx, a, Succeeded, detail, false)
	}
	burn, ok, err := e.burnSince(ctx, a.Tenant, v.SLO, a.executed())
	switch {
	case err != nil:
		return err
	case ok && burn < v.Expect.BurnBelow:
		return e.settle(ctx, a, Succeeded, fmt.Sprintf("%s; SLO %s burns at %.2f since the execution, below %g", detail, v.SLO, burn, v.Expect.BurnBelow), false)
	case !late:
		return nil
	case !ok:
		return e.settle(ctx, a, Failed, fmt.Sprintf("no data for SLO %s within %s of the execution: no data counts as a failure", v.SLO, v.Within), false)
	}
	return e.settle(ctx, a, Failed, fmt.Sprintf("SLO %s still burns at %.2f after %s (expected below %g)", v.SLO, burn, v.Within, v.Expect.BurnBelow), a.Plan.Revertible)
}

// settle records the end of a verification; a failure is handed to the
// dispatcher, to escalate and, when revert is set, to revert.
func (e *Engine) settle(ctx context.Context, a *Action, s State, reason string, revert bool) error {
	defer e.lock(a.Tenant, a.Target)()
	t := a.transition(s, "vigil", reason)
	t.Result, t.Revert = reason, revert
	evs, err := e.record(ctx, a.Tenant, a, t)
	if err == nil && s == Failed {
		e.publish(evs...)
	}
	return err
}

// burnSince is the SLO's burn rate over the whole minutes after from; ok
// is false without events.
func (e *Engine) burnSince(ctx context.Context, tenant, name string, from time.Time) (float64, bool, error) {
	s := e.slo(tenant, name)
	if s == nil {
		return 0, false, nil
	}
	start := from.Truncate(time.Minute).Add(time.Minute)
	good, total, err := e.opts.Store.SumRollups(ctx, store.RollupQuery{Tenant: tenant, SLO: name, Start: start, End: e.now().Add(time.Minute)})
	if err != nil || total == 0 {
		return 0, false, err
	}
	ratio, _ := slo.Counts{Good: good, Total: total}.ErrorRatio()
	return slo.BurnRate(ratio, s.Objective), true, nil
}
