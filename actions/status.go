package actions

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Status is the engine's standing for a tenant, what a status page
// shows: the kill switch, and the tenant's policies with what keeps any
// of them from being evaluated.
type Status struct {
	KillSwitch KillSwitch     `json:"kill_switch"`
	Policies   []PolicyStatus `json:"policies"`
}

// KillSwitch is the state of the kill switch.
type KillSwitch struct {
	Paused bool `json:"paused"`
	// Flag: --actions.paused holds it on, whatever the stored switch says.
	Flag bool `json:"flag"`
	// Actor, Reason and Since are the stored switch's last turn; empty
	// when it was never turned.
	Actor  string     `json:"actor,omitempty"`
	Reason string     `json:"reason,omitempty"`
	Since  *time.Time `json:"since,omitempty"`
}

// PolicyStatus is one policy in force and whether it can be evaluated.
type PolicyStatus struct {
	Name      string      `json:"name"`
	File      string      `json:"file"` // file:line
	Mode      Mode        `json:"mode"`
	Trigger   TriggerKind `json:"trigger"`
	Operation string      `json:"operation"`
	Target    Target      `json:"target"`
	// Evaluable is false when something the policy names is missing
	// (Problems say what): such a policy proposes and executes nothing.
	Evaluable bool     `json:"evaluable"`
	Problems  []string `json:"problems"`
}

// Status reports the kill switch and the tenant's policies, by name.
func (e *Engine) Status(ctx context.Context, tenant string) (Status, error) {
	tenant = tenantOr(tenant)
	ks, err := e.KillSwitch(ctx)
	if err != nil {
		return Status{}, err
	}
	st := Status{KillSwitch: ks, Policies: []PolicyStatus{}}
	for _, p := range e.opts.Policies() {
		if p.tenant() != tenant {
			continue
		}
		// A process that executes nothing (a web role) cannot tell which
		// executors the analyzer has.
		problems := e.problems(p, e.opts.Executors != nil)
		st.Policies = append(st.Policies, PolicyStatus{Name: p.Name, File: p.File, Mode: p.Mode, Trigger: p.When.Kind,
			Operation: p.Do.Operation, Target: p.Do.Target, Evaluable: len(problems) == 0, Problems: problems})
	}
	sort.Slice(st.Policies, func(i, j int) bool { return st.Policies[i].Name < st.Policies[j].Name })
	return st, nil
}

// problems says what a policy names that the config in force, or this
// process, lacks: an SLO deleted since the policy was written (a reading
// that deletes it is refused, but the SLOs and policies the engine is
// given may come from elsewhere), an executor this process was not
// configured with (judged only with executors).
func (e *Engine) problems(p *Policy, executors bool) []string {
	out := []string{}
	if p.When.Kind == OnSLO && e.slo(p.tenant(), p.When.SLO) == nil {
		out = append(out, fmt.Sprintf("SLO %q, its trigger, is not defined", p.When.SLO))
	}
	if s := p.Verify.SLO; s != "" && e.slo(p.tenant(), s) == nil {
		out = append(out, fmt.Sprintf("SLO %q, its verification, is not defined", s))
	}
	if executors && e.opts.Executors[p.Do.Executor] == nil {
		out = append(out, fmt.Sprintf("no %s executor is configured", p.Do.Executor))
	}
	return out
}
