package actions

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/analyzer"
	"github.com/vigil-dev/vigil/analyzer/canary"
	"github.com/vigil-dev/vigil/analyzer/drift"
	"github.com/vigil-dev/vigil/analyzer/rightsize"
	"github.com/vigil-dev/vigil/store"
)

// State is where an action is in its lifecycle:
//
//	proposed → approved | rejected | expired | superseded
//	approved → executing | rejected (its evidence no longer holds, or it was aborted) | expired
//	executing → verifying | failed
//	verifying → succeeded | failed | reverted
//	failed → approved (retried by a person: the next attempt)
type State string

const (
	Proposed   State = "proposed"
	Approved   State = "approved"
	Rejected   State = "rejected"
	Expired    State = "expired"
	Superseded State = "superseded"
	Executing  State = "executing"
	Verifying  State = "verifying"
	Succeeded  State = "succeeded"
	Failed     State = "failed"
	Reverted   State = "reverted"
)

// States are every state, in the lifecycle's order.
var States = []State{Proposed, Approved, Rejected, Expired, Superseded, Executing, Verifying, Succeeded, Failed, Reverted}

// next are the states each state may move to.
var next = map[State][]State{
	Proposed:  {Approved, Rejected, Expired, Superseded},
	Approved:  {Executing, Rejected, Expired},
	Executing: {Verifying, Failed},
	Verifying: {Succeeded, Failed, Reverted},
	Failed:    {Approved, Reverted},
}

// inFlight reports whether an action in this state may still change its
// target: it holds the target's lease (see the package doc).
func (s State) inFlight() bool { return s == Approved || s == Executing || s == Verifying }

// Final reports whether nothing follows the state but a person's retry.
func (s State) Final() bool { return len(next[s]) == 0 || s == Failed }

// Transition is an action entering a state: the record of
// actions.transition events, which are the audit trail. The first of an
// action (proposed) carries the evidence and the plan as they were at
// proposal; executing carries the plan as it is applied.
type Transition struct {
	Action  string `json:"action"` // the action's id
	Policy  string `json:"policy"`
	Target  Target `json:"target"`
	State   State  `json:"state"`
	Attempt int    `json:"attempt"` // 1, and one more per retry
	// Version is the action's version after this transition: the
	// number of transitions so far. A decision names the version it was
	// made on; another is a conflict.
	Version int    `json:"version"`
	Actor   string `json:"actor"` // a person, or "vigil" (a guardrail, a verification), or "policy:<name>" (auto mode)
	Reason  string `json:"reason,omitempty"`
	Mode    Mode   `json:"mode"`
	// IdempotencyKey is the decision's key, so that a decision sent
	// twice is made once.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// Decision is the verb of the person's decision that made this
	// transition (an abort records rejected or failed); empty for the
	// engine's own.
	Decision Verb      `json:"decision,omitempty"`
	Evidence *Evidence `json:"evidence,omitempty"`
	Plan     *Plan     `json:"plan,omitempty"`
	// Result is what applying, verifying or reverting found.
	Result string `json:"result,omitempty"`
	// Revert, on a failed verification: the executor is to restore what
	// the action changed.
	Revert bool `json:"revert,omitempty"`
}

// Transitions is the codec of action events.
var Transitions = store.Codec[Transition]{Kind: store.KindAction, Type: "actions.transition", Version: 1}

// event records the transition of tenant's action at a time. The id is
// the action's, the state's and the attempt's: whoever records a
// transition (a second replica, a retry after a restart) records the
// same event, so it happens once.
func (t Transition) event(tenant string, at time.Time) (store.Event, error) {
	severity := "info"
	switch t.State {
	case Failed:
		severity = "critical"
	case Reverted, Rejected, Expired:
		severity = "warning"
	}
	summary := fmt.Sprintf("%s: %s %s %s (policy %s, by %s)", t.State, t.Target.Executor, planOp(t), t.Target, t.Policy, t.Actor)
	if t.Reason != "" {
		summary += ": " + t.Reason
	}
	return Transitions.Event(store.Event{
		Tenant: tenant, ID: transitionID(tenant, t.Action, t.State, t.Attempt),
		Subject: t.Target.Key(), Severity: severity, Time: at, Summary: summary,
	}, t)
}

func transitionID(tenant, action string, s State, attempt int) string {
	return store.EventID(store.KindAction, tenant, action, string(s), strconv.Itoa(attempt))
}

func planOp(t Transition) string {
	if t.Plan != nil {
		return t.Plan.Operation
	}
	return ""
}

// ActionID is the identity of the action a policy proposes on a trigger:
// the same on every replica that sees the trigger.
func ActionID(tenant, policy, trigger string) string {
	return store.EventID(store.KindAction, tenant, "action", policy, trigger)
}

// Action is an action as its transitions tell it.
type Action struct {
	ID       string    `json:"id"`
	Tenant   string    `json:"tenant"`
	Policy   string    `json:"policy"`
	Target   Target    `json:"target"`
	Mode     Mode      `json:"mode"`
	State    State     `json:"state"`
	Attempt  int       `json:"attempt"`
	Version  int       `json:"version"`
	Evidence Evidence  `json:"evidence"`
	Plan     Plan      `json:"plan"` // as proposed, or as last applied
	Proposed time.Time `json:"proposed_at"`
	Updated  time.Time `json:"updated_at"`
	// Timeline is every transition, oldest first.
	Timeline []Step `json:"timeline"`
}

// Summary is an action as a list shows it: where it stands, without its
// evidence, the plan's spec and the timeline.
type Summary struct {
	ID        string      `json:"id"`
	Policy    string      `json:"policy"`
	Target    Target      `json:"target"`
	TargetKey string      `json:"target_key"`
	Mode      Mode        `json:"mode"`
	State     State       `json:"state"`
	Attempt   int         `json:"attempt"`
	Version   int         `json:"version"`
	Trigger   TriggerKind `json:"trigger"`
	Evidence  string      `json:"evidence"` // the evidence's summary
	Change    string      `json:"change"`   // the plan's Diff
	// Actor and Reason are the latest transition's.
	Actor    string    `json:"actor"`
	Reason   string    `json:"reason,omitempty"`
	Proposed time.Time `json:"proposed_at"`
	Updated  time.Time `json:"updated_at"`
}

// Summary is the action as a list shows it.
func (a *Action) Summary() Summary {
	last := a.last()
	return Summary{ID: a.ID, Policy: a.Policy, Target: a.Target, TargetKey: a.Target.Key(), Mode: a.Mode, State: a.State,
		Attempt: a.Attempt, Version: a.Version, Trigger: a.Evidence.Kind, Evidence: a.Evidence.Summary, Change: a.Plan.Diff(),
		Actor: last.Actor, Reason: last.Reason, Proposed: a.Proposed, Updated: a.Updated}
}

// Step is one transition of an action's timeline.
type Step struct {
	At time.Time `json:"at"`
	Transition
	ev store.Event // as stored: published again to take the action up
}

// last is the action's latest transition.
func (a *Action) last() Step { return a.Timeline[len(a.Timeline)-1] }

// since is when the action entered its current state.
func (a *Action) since() time.Time { return a.last().At }

// executed is when the current attempt began executing (zero before).
func (a *Action) executed() time.Time {
	for i := len(a.Timeline) - 1; i >= 0; i-- {
		if s := a.Timeline[i]; s.State == Executing && s.Attempt == a.Attempt {
			return s.At
		}
	}
	return time.Time{}
}

// fold builds the actions of a tenant from their transitions, in any
// order: each transition is placed by its version, so the timeline reads
// the same whatever the clocks of the replicas that wrote it.
func fold(tenant string, recs []store.Decoded[Transition]) map[string]*Action {
	out := map[string]*Action{}
	for _, r := range recs {
		t := r.Value
		a := out[t.Action]
		if a == nil {
			a = &Action{ID: t.Action, Tenant: tenant}
			out[t.Action] = a
		}
		a.Timeline = append(a.Timeline, Step{At: r.Event.Time, Transition: t, ev: r.Event})
	}
	for _, a := range out {
		sort.SliceStable(a.Timeline, func(i, j int) bool { return a.Timeline[i].Version < a.Timeline[j].Version })
		for _, s := range a.Timeline {
			a.apply(s)
		}
	}
	return out
}

func (a *Action) apply(s Step) {
	t := s.Transition
	a.Policy, a.Target, a.Mode, a.State, a.Attempt, a.Version, a.Updated = t.Policy, t.Target, t.Mode, t.State, t.Attempt, t.Version, s.At
	if t.State == Proposed {
		a.Proposed = s.At
	}
	if t.Evidence != nil {
		a.Evidence = *t.Evidence
	}
	if t.Plan != nil {
		a.Plan = *t.Plan
	}
}

// Evidence is why an action was proposed, frozen at proposal: the
// trigger event and what it said.
type Evidence struct {
	Kind    TriggerKind `json:"kind"`
	Trigger string      `json:"trigger"` // the id of the event that triggered the proposal
	At      time.Time   `json:"at"`
	Summary string      `json:"summary"`
	// One of these, by Kind.
	SLO            *SLOEvidence            `json:"slo,omitempty"`
	Canary         *canary.Analysis        `json:"canary,omitempty"`
	Drift          *drift.Verdict          `json:"drift,omitempty"`
	Budget         *analyzer.BudgetFinding `json:"budget,omitempty"`
	Recommendation *rightsize.Advice       `json:"recommendation,omitempty"`
}

// SLOEvidence is an SLO's burn-rate alert and the SLO's standing when it
// fired.
type SLOEvidence struct {
	SLO         string    `json:"slo"`
	Fingerprint string    `json:"fingerprint"`
	Severity    string    `json:"severity"`
	StartsAt    time.Time `json:"starts_at"`
	Objective   float64   `json:"objective"`
	SLI         float64   `json:"sli"`
	// BudgetRemaining is the share of the window's error budget left.
	BudgetRemaining float64 `json:"budget_remaining"`
	Burns           []Burn  `json:"burns"`
	NoData          bool    `json:"no_data,omitempty"`
}

// Burn is one burn-rate rule of the SLO at the alert.
type Burn struct {
	Severity    string  `json:"severity"`
	LongWindow  string  `json:"long_window"`
	ShortWindow string  `json:"short_window"`
	LongRate    float64 `json:"long_rate"`
	ShortRate   float64 `json:"short_rate"`
	Factor      float64 `json:"factor"`
	Firing      bool    `json:"firing"`
}

// Plan is what an executor will change, exactly: the dry-run's answer
// and what execution applies. Spec holds what the executor needs to apply
// it again identically (the template to restore, the values expected
// before), so that applying the frozen plan twice changes the target once.
type Plan struct {
	Executor  string   `json:"executor"`
	Operation string   `json:"operation"`
	Target    Target   `json:"target"`
	Changes   []Change `json:"changes"`
	// Note says what else the executor found, e.g. that an autoscaler
	// owns the replicas and its bounds are changed instead.
	Note       string          `json:"note,omitempty"`
	Revertible bool            `json:"revertible"`
	Spec       json.RawMessage `json:"spec,omitempty"`
}

// Change is one field's change.
type Change struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// Diff is the plan as a person reads it: "replicas 4 → 8".
func (p Plan) Diff() string {
	parts := make([]string, len(p.Changes))
	for i, c := range p.Changes {
		parts[i] = fmt.Sprintf("%s %s → %s", c.Field, c.From, c.To)
	}
	if len(parts) == 0 {
		return "no change"
	}
	return strings.Join(parts, ", ")
}

func tenantOr(t string) string {
	if t == "" {
		return store.DefaultTenant
	}
	return t
}
