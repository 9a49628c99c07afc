package actions

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vigil-dev/vigil/dispatch"
	"github.com/vigil-dev/vigil/store"
)

// executions is the engine as the dispatcher's subscriber of its own
// approvals (and of failed verifications to revert): what executes goes
// through the dispatcher, so a restart takes up what was approved and
// not done, and the delivery log records every attempt.
type executions struct{ e *Engine }

// Executions is the subscriber that executes approved actions and
// reverts failed ones.
func (e *Engine) Executions() dispatch.Subscriber { return executions{e} }

func (executions) Name() string    { return "actions-executor" }
func (executions) Types() []string { return []string{Transitions.Type} }

// Accepts takes approvals, and failed verifications that ask for a
// revert.
func (executions) Accepts(ev store.Event) bool {
	t, err := Transitions.Decode(ev)
	return err == nil && (t.State == Approved || t.State == Failed && t.Revert)
}

// errHold is work that must wait (the kill switch, another action's
// lease): the dispatcher tries the batch again with backoff.
var errHold = errors.New("held")

// Deliver executes (or reverts) each action of the batch that is still
// where the event left it: a delivery repeated after a restart finds the
// action moved on and does nothing again.
func (x executions) Deliver(ctx context.Context, tenant string, events []store.Event) (dispatch.Report, error) {
	report := dispatch.Report{Target: "actions"}
	var notes, held []string
	for _, ev := range events {
		t, err := Transitions.Decode(ev)
		if err != nil {
			return report, dispatch.Permanent(err)
		}
		note, err := x.e.drive(ctx, tenant, t)
		switch {
		case errors.Is(err, errHold):
			held = append(held, err.Error())
		case err != nil:
			return report, err
		}
		report.Keys = append(report.Keys, t.Action)
		notes = append(notes, note)
	}
	report.Note = strings.Join(notes, "; ")
	if len(held) > 0 {
		return report, fmt.Errorf("%s", strings.Join(held, "; "))
	}
	return report, nil
}

// drive moves an action on from where the event found it.
func (e *Engine) drive(ctx context.Context, tenant string, t Transition) (string, error) {
	if !e.owns(tenant, t.Target) {
		return fmt.Sprintf("%s: %s is another replica's to drive", t.Action, t.Target), nil
	}
	defer e.lock(tenant, t.Target)()
	actions, err := e.read(ctx, tenant, t.Target)
	if err != nil {
		return "", err
	}
	a := actions[t.Action]
	switch {
	case a == nil:
		return "", fmt.Errorf("action %s is not in the store yet", t.Action)
	case a.Attempt != t.Attempt:
		return fmt.Sprintf("%s: attempt %d is over", a.ID, t.Attempt), nil
	case a.State == Approved || a.State == Executing:
		return e.execute(ctx, a, actions)
	case a.State == Failed && a.last().Revert:
		return e.revert(ctx, a)
	}
	return fmt.Sprintf("%s: already %s", a.ID, a.State), nil
}

// execute runs an approved action through the guardrails, records that
// it executes, applies its plan and records what happened. An action
// found executing (the process stopped while applying) applies the plan
// it froze again, which changes nothing when it was applied.
func (e *Engine) execute(ctx context.Context, a *Action, others map[string]*Action) (string, error) {
	if paused, p, err := e.Paused(ctx); paused {
		return "", fmt.Errorf("%w: %s: actions are paused (by %s: %s) %v", errHold, a.ID, p.Actor, p.Reason, err)
	}
	p := e.policy(a.Tenant, a.Policy)
	exec := e.executor(a)
	if a.State == Approved {
		if refusal, err := e.refuse(ctx, a, p, others); refusal != nil || err != nil {
			return e.conclude(ctx, a, refusal, err)
		}
		plan, refusal, err := e.freeze(ctx, a, p, exec)
		if refusal != nil || err != nil {
			return e.conclude(ctx, a, refusal, err)
		}
		t := a.transition(Executing, "vigil", plan.Diff())
		t.Plan = &plan
		if _, err := e.record(ctx, a.Tenant, a, t); err != nil {
			return "", err
		}
		if rival := e.rival(ctx, a); rival != "" {
			return e.conclude(ctx, a, &Transition{State: Failed, Reason: "lost the target's lease to action " + rival + "; nothing was applied"}, nil)
		}
	}
	result, err := exec.Apply(ctx, a.Plan)
	if err != nil {
		return e.conclude(ctx, a, &Transition{State: Failed, Reason: "apply: " + err.Error()}, nil)
	}
	t := a.transition(Verifying, "vigil", result)
	t.Result = result
	if _, err := e.record(ctx, a.Tenant, a, t); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s: applied %s", a.ID, a.Plan.Diff()), nil
}

// conclude records a refusal or a failure (or passes an error on).
func (e *Engine) conclude(ctx context.Context, a *Action, t *Transition, err error) (string, error) {
	if err != nil {
		return "", err
	}
	next := a.transition(t.State, "vigil", t.Reason)
	next.Revert = t.Revert
	evs, err := e.record(ctx, a.Tenant, a, next)
	if err != nil {
		return "", err
	}
	e.publish(evs...) // a failure escalates
	return fmt.Sprintf("%s: %s: %s", a.ID, t.State, t.Reason), nil
}

func (e *Engine) executor(a *Action) Executor {
	if x := e.opts.Executors[a.Target.Executor]; x != nil {
		return x
	}
	return missingExecutor{a.Target.Executor}
}

// refuse is the guardrails an approved action meets before it executes;
// nil lets it go on.
func (e *Engine) refuse(ctx context.Context, a *Action, p *Policy, others map[string]*Action) (*Transition, error) {
	if p == nil {
		return &Transition{State: Rejected, Reason: "its policy is no longer defined"}, nil
	}
	if why := e.problems(p, true); len(why) > 0 {
		return &Transition{State: Rejected, Reason: "its policy cannot be evaluated: " + strings.Join(why, "; ")}, nil
	}
	now := e.now()
	if now.Sub(a.since()) > p.Guardrails.ApprovalTimeout {
		return &Transition{State: Expired, Reason: fmt.Sprintf("approved %s ago and not executed within %s", now.Sub(a.since()).Round(1e9), p.Guardrails.ApprovalTimeout)}, nil
	}
	if why := busy(a, others); why != "" {
		return nil, fmt.Errorf("%w: %s: %s", errHold, a.ID, why)
	}
	if why := cooling(a, p, others, now); why != "" {
		return &Transition{State: Rejected, Reason: why}, nil
	}
	if why := e.rateLimited(a, p, others); why != "" {
		return &Transition{State: Rejected, Reason: why}, nil
	}
	h, why, err := e.recheck(ctx, a)
	switch {
	case err != nil:
		return nil, err
	case h == noLonger:
		return &Transition{State: Rejected, Reason: "the evidence no longer holds: " + why}, nil
	case h == noDataLeft:
		return &Transition{State: Rejected, Reason: "no data to act on: " + why}, nil
	}
	return nil, nil
}

// freeze plans the action again, now, and refuses it when the change is
// no longer the one approved (the target moved since).
func (e *Engine) freeze(ctx context.Context, a *Action, p *Policy, exec Executor) (Plan, *Transition, error) {
	plan, err := exec.Plan(ctx, Request{Tenant: a.Tenant, Action: a.ID, Do: p.Do, Guardrails: p.Guardrails, Evidence: a.Evidence})
	if err != nil {
		return Plan{}, &Transition{State: Failed, Reason: "plan: " + err.Error()}, nil
	}
	if plan.Diff() != a.Plan.Diff() {
		return Plan{}, &Transition{State: Rejected, Reason: fmt.Sprintf("the target changed since the proposal: approved %q, it would now be %q", a.Plan.Diff(), plan.Diff())}, nil
	}
	return plan, nil, nil
}

// revert restores what a failed action changed.
func (e *Engine) revert(ctx context.Context, a *Action) (string, error) {
	if paused, p, err := e.Paused(ctx); paused {
		return "", fmt.Errorf("%w: %s: actions are paused (by %s: %s) %v", errHold, a.ID, p.Actor, p.Reason, err)
	}
	r, ok := e.executor(a).(Reverter)
	if !ok {
		return fmt.Sprintf("%s: %s cannot revert", a.ID, a.Target.Executor), nil
	}
	result, err := r.Revert(ctx, a.Plan)
	if err != nil {
		return "", fmt.Errorf("revert %s: %w", a.ID, err)
	}
	t := a.transition(Reverted, "vigil", result)
	t.Result = result
	if _, err := e.record(ctx, a.Tenant, a, t); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s: reverted: %s", a.ID, result), nil
}

// missingExecutor stands for an executor this process was not given.
type missingExecutor struct{ name string }

func (m missingExecutor) err() error { return fmt.Errorf("no %s executor is configured", m.name) }
func (m missingExecutor) Plan(context.Context, Request) (Plan, error) {
	return Plan{}, m.err()
}
func (m missingExecutor) Apply(context.Context, Plan) (string, error) { return "", m.err() }
func (m missingExecutor) Verify(context.Context, Plan) (bool, string, error) {
	return false, "", m.err()
}
