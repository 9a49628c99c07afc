package api

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/store"
)

// auditRecord is one line of /api/v1/audit.
type auditRecord struct {
	Time   time.Time   `json:"time"`
	Action auth.Action `json:"action"`
	Actor  string      `json:"actor"`
	Addr   string      `json:"addr"`
	Target string      `json:"target"`
	Detail string      `json:"detail"`
}

// maxAudit bounds one answer of /api/v1/audit.
const maxAudit = 1000

// The audit log's names for what people do to actions. The actions'
// event log is their audit trail: the records are read from it rather
// than written twice, so a decision made through any door (this API, the
// UI, the CLI) is in the audit log.
var (
	decisionAudit = map[actions.Verb]auth.Action{actions.VerbApprove: "action_approved", actions.VerbReject: "action_rejected",
		actions.VerbAbort: "action_aborted", actions.VerbRetry: "action_retried"}
	pauseAudit = map[bool]auth.Action{true: "actions_paused", false: "actions_resumed"}
)

// audit answers the tenant's audit log over [from, to) (default: the last
// day), newest first, at most limit records (default and most: 1000):
// auth's records, the tenant's people's decisions on actions, and every
// turn of the kill switch, which stops every tenant's actions. Records
// that concern no tenant (logins, password changes) are the default
// tenant's.
func (a *API) audit(r *http.Request, org string) (any, error) {
	from, to, err := a.window(r, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	limit := maxAudit
	if s := r.URL.Query().Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > maxAudit {
			return nil, badRequest("limit %q: want a whole number from 1 to %d", s, maxAudit)
		}
	}
	q := store.EventQuery{Tenant: org, Start: from, End: to, Limit: limit}
	out, err := a.authAudit(r.Context(), q)
	if err != nil {
		return nil, err
	}
	decisions, err := a.decisionAudit(r.Context(), q)
	if err != nil {
		return nil, err
	}
	q.Tenant = store.DefaultTenant // where the kill switch is recorded
	pauses, err := a.pauseAudit(r.Context(), q)
	if err != nil {
		return nil, err
	}
	out = append(append(out, decisions...), pauses...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out[:min(len(out), limit)], nil
}

// authAudit is auth's records.
func (a *API) authAudit(ctx context.Context, q store.EventQuery) ([]auditRecord, error) {
	recs, err := auth.Audits.Read(ctx, a.Store, q)
	if err != nil {
		return nil, err
	}
	out := make([]auditRecord, 0, len(recs))
	for _, d := range recs {
		v := d.Value
		out = append(out, auditRecord{Time: d.Event.Time, Action: v.Action, Actor: v.Actor, Addr: v.Addr, Target: v.Target, Detail: v.Detail})
	}
	return out, nil
}

// decisionAudit is the people's decisions on actions: the transitions
// that carry a decision's verb.
func (a *API) decisionAudit(ctx context.Context, q store.EventQuery) ([]auditRecord, error) {
	q.Limit = 0 // the engine's own transitions are most of them
	recs, err := actions.Transitions.Read(ctx, a.Store, q)
	if err != nil {
		return nil, fmt.Errorf("cannot read the actions' decisions: %w", err)
	}
	var out []auditRecord
	for _, d := range recs {
		t := d.Value
		if t.Decision == "" {
			continue
		}
		detail := fmt.Sprintf("%s %s (policy %s): %s, version %d", t.Target.Executor, t.Target, t.Policy, t.State, t.Version)
		if t.Reason != "" {
			detail += ": " + t.Reason
		}
		out = append(out, auditRecord{Time: d.Event.Time, Action: decisionAudit[t.Decision], Actor: t.Actor, Target: t.Action, Detail: detail})
	}
	return out, nil
}

// pauseAudit is the turns of the kill switch.
func (a *API) pauseAudit(ctx context.Context, q store.EventQuery) ([]auditRecord, error) {
	recs, err := actions.Pauses.Read(ctx, a.Store, q)
	if err != nil {
		return nil, fmt.Errorf("cannot read the kill switch: %w", err)
	}
	out := make([]auditRecord, 0, len(recs))
	for _, d := range recs {
		p := d.Value
		out = append(out, auditRecord{Time: d.Event.Time, Action: pauseAudit[p.Paused], Actor: p.Actor, Target: "actions", Detail: p.Reason})
	}
	return out, nil
}
