package actions

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil/analyzer"
	"github.com/vigil-dev/vigil/analyzer/canary"
	"github.com/vigil-dev/vigil/analyzer/drift"
	"github.com/vigil-dev/vigil/analyzer/rightsize"
	"github.com/vigil-dev/vigil/dispatch"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
)

// triggers is the engine as the dispatcher's subscriber of what policies
// act on: it proposes.
type triggers struct{ e *Engine }

// Triggers is the subscriber that turns findings into proposals.
func (e *Engine) Triggers() dispatch.Subscriber { return triggers{e} }

func (triggers) Name() string { return "actions" }

func (triggers) Types() []string {
	return []string{slo.AlertTransitions.Type, canary.Analyses.Type, drift.Verdicts.Type, analyzer.BudgetFindings.Type, rightsize.Advices.Type}
}

// Accepts takes what may trigger a policy, judged on the event alone: a
// burn-rate alert firing, a canary failing or marginal, drift, a budget
// finding, advice that changes something. No data (an inconclusive
// canary, a drift monitor without enough values, a no-data alert) is
// never a trigger.
func (triggers) Accepts(ev store.Event) bool {
	_, ok, err := evidenceOf(ev)
	return ok && err == nil
}

// Deliver proposes what the policies say for each event; what it did not
// propose, and why, is the delivery log's note.
func (t triggers) Deliver(ctx context.Context, tenant string, events []store.Event) (dispatch.Report, error) {
	var notes []string
	for _, ev := range events {
		evidence, ok, err := evidenceOf(ev)
		if err != nil {
			return dispatch.Report{Target: "actions"}, dispatch.Permanent(err)
		}
		if !ok {
			continue
		}
		for _, p := range t.e.opts.Policies() {
			if p.tenant() != tenant || !matches(p, evidence) {
				continue
			}
			note, err := t.e.propose(ctx, p, ev, evidence)
			if err != nil {
				return dispatch.Report{Target: "actions"}, err
			}
			notes = append(notes, p.Name+": "+note)
		}
	}
	return dispatch.Report{Target: "actions", Keys: notes, Skipped: len(notes) == 0, Note: strings.Join(notes, "; ")}, nil
}

// evidenceOf reads a trigger event; ok is false for one that triggers
// nothing.
func evidenceOf(ev store.Event) (Evidence, bool, error) {
	x := Evidence{Trigger: ev.ID, At: ev.Time, Summary: ev.Summary}
	switch ev.Type {
	case slo.AlertTransitions.Type:
		tr, err := slo.AlertTransitions.Decode(ev)
		x.Kind, x.SLO = OnSLO, &SLOEvidence{SLO: tr.SLO, Fingerprint: tr.Fingerprint, Severity: tr.Labels["severity"], StartsAt: tr.StartsAt}
		return x, err == nil && tr.State == slo.StateFiring && tr.Labels["alertname"] == slo.AlertName, err
	case canary.Analyses.Type:
		a, err := canary.Analyses.Decode(ev)
		x.Kind, x.Canary = OnCanary, &a
		return x, err == nil && (a.Verdict == canary.VerdictFail || a.Verdict == canary.VerdictMarginal), err
	case drift.Verdicts.Type:
		v, err := drift.Verdicts.Decode(ev)
		x.Kind, x.Drift = OnDrift, &v
		return x, err == nil && v.Tested() && v.Drifted, err
	case analyzer.BudgetFindings.Type:
		f, err := analyzer.BudgetFindings.Decode(ev)
		x.Kind, x.Budget = OnBudget, &f
		return x, err == nil, err
	case rightsize.Advices.Type:
		a, err := rightsize.Advices.Decode(ev)
		x.Kind, x.Recommendation = OnRecommendation, &a
		return x, err == nil && changes(a), err
	}
	return x, false, nil
}

// changes reports whether advice recommends anything but what is.
func changes(a rightsize.Advice) bool {
	if r := a.Replicas; r != nil {
		return r.Skipped == "" && r.Recommended > 0 && r.Recommended != r.Current
	}
	for _, rec := range a.Resources {
		for _, v := range rec.Values {
			if v.Skipped == "" && v.Current != v.Recommended {
				return true
			}
		}
	}
	return false
}

// matches reports whether the policy acts on the evidence.
func matches(p *Policy, x Evidence) bool {
	w := p.When
	if w.Kind != x.Kind {
		return false
	}
	switch x.Kind {
	case OnSLO:
		return w.SLO == x.SLO.SLO && (w.Alert == "" || w.Alert == x.SLO.Severity)
	case OnCanary:
		return w.Canary == x.Canary.Monitor && (x.Canary.Verdict == canary.VerdictFail || w.Verdict == canary.VerdictMarginal)
	case OnDrift:
		return w.Drift == x.Drift.Monitor
	case OnBudget:
		b := x.Budget
		return w.Budget == b.Budget && (w.Threshold == 0 || !b.Forecast && b.ThresholdPercent >= w.Threshold)
	case OnRecommendation:
		a, t := x.Recommendation, p.Do.Target
		wantReplicas := w.Recommendation == "replicas"
		return a.Namespace == t.Namespace && a.Workload == t.Name && a.Kind == t.Kind && (a.Replicas != nil) == wantReplicas
	}
	return false
}

// propose records a policy's proposal on a trigger, unless a guardrail
// says not to, and approves it when the policy is auto. It answers what
// it did, for the delivery log.
func (e *Engine) propose(ctx context.Context, p *Policy, trigger store.Event, x Evidence) (string, error) {
	if why := e.problems(p, true); len(why) > 0 {
		return "cannot be evaluated: " + strings.Join(why, "; "), nil
	}
	exec := e.opts.Executors[p.Do.Executor]
	tenant := p.tenant()
	defer e.lock(tenant, p.Do.Target)()
	actions, err := e.read(ctx, tenant, p.Do.Target)
	if err != nil {
		return "", err
	}
	id, why := e.nextProposal(p, trigger.ID, actions)
	if id == "" {
		return why, nil
	}
	if err := e.enrich(ctx, tenant, &x); err != nil {
		return "", err
	}
	plan, err := exec.Plan(ctx, Request{Tenant: tenant, Action: id, Do: p.Do, Guardrails: p.Guardrails, Evidence: x})
	if err != nil {
		return "cannot plan: " + err.Error(), nil
	}
	if len(plan.Changes) == 0 {
		return "nothing to change: " + plan.Note, nil
	}
	return e.recordProposal(ctx, p, id, x, plan, actions)
}

// nextProposal is the id of the proposal a trigger makes, or "" and why
// there is none: the guardrails that hold at proposal time.
func (e *Engine) nextProposal(p *Policy, trigger string, actions map[string]*Action) (string, string) {
	now, generation := e.now(), 0
	for _, a := range actions {
		switch {
		case a.State.inFlight():
			return "", fmt.Sprintf("action %s is %s on %s: one at a time per target", a.ID, a.State, a.Target)
		case p.Cooldown > 0 && !a.executed().IsZero() && now.Sub(a.executed()) < p.Cooldown:
			return "", fmt.Sprintf("%s is cooling down until %s after action %s", a.Target, a.executed().Add(p.Cooldown).Format("15:04:05"), a.ID)
		case a.Policy == p.Name && a.Evidence.Trigger == trigger:
			// The same trigger again (a firing alert is published every
			// evaluation): proposed once, and again only after it expired
			// or was carried out, never after a person rejected it.
			if a.State == Proposed || a.State == Rejected || a.State == Superseded {
				return "", fmt.Sprintf("already %s as action %s", a.State, a.ID)
			}
			generation++
		}
	}
	return ActionID(p.tenant(), p.Name, trigger+"#"+strconv.Itoa(generation)), ""
}

// recordProposal writes the proposal, approves it in auto mode, and
// hands an approval to the dispatcher. A policy has one open proposal on
// a target: while the trigger keeps recurring with the same change to
// make (a canary failing its analysis every interval, an alert firing
// every evaluation), the open proposal stands, so the person deciding
// is not chased by a new id every few seconds; its evidence is re-checked
// from the newest finding when it is approved. As Argo Rollouts aborts a
// rollout once however many measurements fail after. A trigger whose
// change differs (advice now says 10 replicas, not 8) supersedes it.
func (e *Engine) recordProposal(ctx context.Context, p *Policy, id string, x Evidence, plan Plan, actions map[string]*Action) (string, error) {
	tenant := p.tenant()
	for _, old := range actions {
		if old.Policy == p.Name && old.State == Proposed {
			if old.Plan.Diff() == plan.Diff() {
				return fmt.Sprintf("already proposed as action %s (%s); the evidence still holds: %s", old.ID, plan.Diff(), x.Summary), nil
			}
			if _, err := e.record(ctx, tenant, old, old.transition(Superseded, "vigil", "superseded by action "+id)); err != nil {
				return "", err
			}
		}
	}
	a := &Action{ID: id, Tenant: tenant}
	ts := []Transition{{Policy: p.Name, Target: p.Do.Target, State: Proposed, Actor: "vigil", Mode: p.Mode,
		Reason: x.Summary, Evidence: &x, Plan: &plan}}
	if p.Mode == Auto {
		ts = append(ts, Transition{Policy: p.Name, Target: p.Do.Target, State: Approved, Actor: "policy:" + p.Name, Mode: p.Mode, Reason: "auto mode"})
	}
	evs, err := e.record(ctx, tenant, a, ts...)
	if err != nil {
		return "", err
	}
	if a.State == Approved {
		e.publish(evs[len(evs)-1])
	}
	return fmt.Sprintf("%s action %s: %s", a.State, id, plan.Diff()), nil
}
