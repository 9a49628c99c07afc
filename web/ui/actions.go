package ui

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/analyzer/canary"
	"github.com/vigil-dev/vigil/analyzer/drift"
	"github.com/vigil-dev/vigil/analyzer/rightsize"
	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
)

// actionsLookback is how far back the pages read actions: the engine's
// default lookback, beyond which actions are final.
const actionsLookback = 7 * 24 * time.Hour

// actionRow is one action of the inbox or the history.
type actionRow struct {
	*actions.Action
	Title string
	// Exhausts is when the SLO the evidence names runs out of error
	// budget at the burn rate that fired; nil when the evidence is not an
	// SLO's, or it does not burn.
	Exhausts *time.Duration
}

type actionsData struct {
	Open, Closed []actionRow
	State        string // open (default), all, or one state
	Policy       string
	NoEngine     bool
	Problem      string
}

// openStates are the inbox's: what waits for a person, or is under way.
var openStates = []actions.State{actions.Proposed, actions.Approved, actions.Executing, actions.Verifying}

// actionsPage is the inbox: the actions that wait for a decision or are
// under way, the most urgent first (the least time until an SLO's error
// budget runs out, then the longest waiting), each titled by what it
// does; below, the actions that ended in the range.
func (u *UI) actionsPage(w http.ResponseWriter, r *http.Request) {
	v := u.newView(w, r, "Actions", "actions")
	tr := v.timeRangeFrom("now-7d", actionsLookback)
	d := &actionsData{State: cmp.Or(v.query.Get("state"), "open"), Policy: v.query.Get("policy"), NoEngine: u.opts.Actions == nil}
	v.Data = d
	if d.State != "open" && d.State != "all" && !slices.Contains(actions.States, actions.State(d.State)) {
		v.problem(&fieldError{"state", fmt.Sprintf("state %q is none of open, all, %s", d.State, joinStates(actions.States))}, http.StatusBadRequest)
	}
	if !v.OK() || d.NoEngine {
		u.render(w, r, "actions", v)
		return
	}
	var list []*actions.Action
	rs := u.reads(r)
	rs.do(&d.Problem, "The actions", func(ctx context.Context) (err error) {
		list, err = u.opts.Actions.List(ctx, actions.Filter{Tenant: v.Tenant, Policy: d.Policy, Start: v.Now.Add(-actionsLookback)})
		return err
	})
	rs.wait()
	windows := u.sloWindows(v.Tenant)
	for _, a := range list {
		row := actionRow{Action: a, Title: actionTitle(a), Exhausts: exhaustion(a, windows)}
		open := slices.Contains(openStates, a.State)
		switch {
		case d.State == "open" && open:
			d.Open = append(d.Open, row)
		case d.State == "open" || d.State == "all":
			if !a.Updated.Before(tr.Start) && a.Updated.Before(tr.End) {
				d.Closed = append(d.Closed, row)
			}
		case string(a.State) == d.State:
			d.Closed = append(d.Closed, row)
		}
	}
	if d.State == "all" {
		d.Open, d.Closed = nil, append(d.Closed[:0:0], d.Closed...)
	}
	slices.SortStableFunc(d.Open, byUrgency)
	u.render(w, r, "actions", v)
}

// byUrgency: what waits for a decision before what is under way; then
// the least time to an SLO's budget exhaustion (none last); then the
// longest waiting.
func byUrgency(a, b actionRow) int {
	rank := func(r actionRow) int { return boolRank(r.State != actions.Proposed) }
	left := func(r actionRow) time.Duration {
		if r.Exhausts == nil {
			return math.MaxInt64
		}
		return *r.Exhausts
	}
	return cmp.Or(rank(a)-rank(b), cmp.Compare(left(a), left(b)), a.Proposed.Compare(b.Proposed), strings.Compare(a.ID, b.ID))
}

// sloWindows are the tenant's SLOs' windows by name.
func (u *UI) sloWindows(t string) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, s := range u.tenantSLOs(t) {
		out[s.Name] = s.Window.Duration
	}
	return out
}

// exhaustion is how long the SLO's budget left at the proposal lasts at
// the fastest firing burn rate: the budget left times the window, over
// the rate (a rate of 1 spends the whole budget in one window).
func exhaustion(a *actions.Action, windows map[string]time.Duration) *time.Duration {
	x := a.Evidence.SLO
	if x == nil || x.NoData {
		return nil
	}
	window, ok := windows[x.SLO]
	if !ok {
		return nil
	}
	var rate float64
	for _, b := range x.Burns {
		if b.Firing {
			rate = max(rate, b.LongRate)
		}
	}
	if rate <= 0 {
		return nil
	}
	// The evidence is frozen at proposal, and so is this: the inbox ranks
	// by what the proposal said, the action's page shows what holds now.
	left := time.Duration(max(x.BudgetRemaining, 0) * float64(window) / rate)
	return &left
}

// actionTitle says what the action does, verb first: "Roll back
// Deployment llm/chat-gateway to revision 7".
func actionTitle(a *actions.Action) string {
	p, t := a.Plan, a.Target
	change := func(field string) (actions.Change, bool) {
		for _, c := range p.Changes {
			if c.Field == field {
				return c, true
			}
		}
		return actions.Change{}, false
	}
	name := t.Name
	if t.Namespace != "" {
		name = t.Namespace + "/" + t.Name
	}
	switch p.Operation {
	case actions.OpRollback:
		if c, ok := change("revision"); ok {
			return fmt.Sprintf("Roll back %s to revision %s", name, c.To)
		}
		return "Roll back " + name + " to its previous revision"
	case actions.OpScale:
		if c, ok := change("replicas"); ok {
			return fmt.Sprintf("Scale %s from %s to %s replicas", name, c.From, c.To)
		}
		return "Scale " + name + "'s autoscaler bounds"
	case actions.OpResize:
		return fmt.Sprintf("Resize %s's containers (%d changes)", name, len(p.Changes))
	case actions.OpAbort:
		return "Abort rollout " + name
	case actions.OpRetry:
		return "Retry rollout " + name
	case actions.OpPromote:
		return "Promote rollout " + name
	case actions.OpUndo:
		if c, ok := change("revision"); ok {
			return fmt.Sprintf("Undo rollout %s to revision %s", name, c.To)
		}
		return "Undo rollout " + name
	case actions.OpPost:
		host := t.URL
		if u, err := url.Parse(t.URL); err == nil && u.Host != "" {
			host = u.Host
		}
		return "Call the webhook at " + host
	}
	return cmp.Or(p.Operation, "Act on") + " " + t.String()
}

func joinStates(states []actions.State) string {
	out := make([]string, len(states))
	for i, s := range states {
		out[i] = string(s)
	}
	return strings.Join(out, ", ")
}

// actionData is one action's page.
type actionData struct {
	actionRow
	Window     time.Duration // the SLO's window, for the evidence
	CanDecide  bool          // the identity holds operator
	Decidable  bool          // proposed, and not dry-run
	Rejectable bool          // proposed or approved
	Key        string        // the decision's idempotency key
	Holds      string        // what the evidence says now
	HoldsState string        // holds, no longer, unknown
	Decided    string        // the verb just made (?decided=)
	Form       decisionForm
	Problem    string
	NoEngine   bool
}

// decisionForm is a decision posted with a problem, shown again.
type decisionForm struct {
	Verb, Reason string
	Problems     map[string]string
}

// actionPage is one action: its title, the evidence frozen at proposal,
// whether it still holds, the plan, approve and reject for an operator,
// and the timeline, which reloads itself while the action is under way.
func (u *UI) actionPage(w http.ResponseWriter, r *http.Request) {
	v, _ := u.actionView(w, r, decisionForm{})
	u.render(w, r, "action", v)
}

func (u *UI) actionView(w http.ResponseWriter, r *http.Request, form decisionForm) (*view, *actionData) {
	v := u.newView(w, r, "Action", "actions")
	d := &actionData{Form: form, Decided: v.query.Get("decided"), NoEngine: u.opts.Actions == nil}
	v.Data = d
	if d.NoEngine {
		return v, d
	}
	id := r.PathValue("id")
	a, err := u.opts.Actions.Get(r.Context(), v.Tenant, id)
	switch {
	case errors.Is(err, actions.ErrNotFound):
		v.problem(&fieldError{"id", fmt.Sprintf("no action %s in tenant %s over the last week", id, v.Tenant)}, http.StatusNotFound)
		return v, d
	case err != nil:
		d.Problem = "The action could not load: " + err.Error()
		return v, d
	}
	windows := u.sloWindows(v.Tenant)
	d.actionRow = actionRow{Action: a, Title: actionTitle(a), Exhausts: exhaustion(a, windows)}
	if x := a.Evidence.SLO; x != nil {
		d.Window = windows[x.SLO]
	}
	v.Title = d.Title
	ident := auth.FromContext(r.Context())
	d.CanDecide = ident == nil || ident.Grants.Allows(v.Tenant, auth.Operator)
	d.Decidable = a.State == actions.Proposed && a.Mode != actions.DryRun
	d.Rejectable = a.State == actions.Proposed || a.State == actions.Approved
	d.Key = decisionKey(v.CSRF, a.ID, a.Version)
	if v.Panel == "" && slices.Contains(openStates, a.State) {
		u.stillHolds(r, v, d)
	}
	return v, d
}

// stillHolds reads what the evidence's source says now: the alert's
// newest state and the SLO's budget, or the newest canary, drift or
// right-sizing finding, as the engine checks again before it executes.
func (u *UI) stillHolds(r *http.Request, v *view, d *actionData) {
	x := d.Evidence
	d.HoldsState = "unknown"
	rs := u.reads(r)
	var problem string
	rs.do(&problem, "What the evidence says now", func(ctx context.Context) error {
		q := store.EventQuery{Tenant: v.Tenant, Start: x.At.Add(-time.Minute), End: v.Now.Add(time.Minute), Limit: 1}
		if x.SLO == nil && x.Canary == nil && x.Drift == nil && x.Recommendation == nil && x.Budget == nil {
			d.Holds = "The evidence names no finding to check again."
			return nil
		}
		switch {
		case x.SLO != nil:
			rows, err := u.latestAlerts(ctx, v.Tenant, x.SLO.StartsAt.Add(-time.Minute), v.Now.Add(time.Minute), []string{x.SLO.SLO})
			if err != nil {
				return err
			}
			d.Holds, d.HoldsState = "The alert has no newer state.", "unknown"
			for _, a := range rows {
				if a.Fingerprint == x.SLO.Fingerprint {
					d.Holds = fmt.Sprintf("The %s alert of SLO %s is %s since %s UTC.", a.Severity, a.SLO, a.State, a.Since.Format("2006-01-02 15:04:05"))
					d.HoldsState = map[bool]string{true: "holds", false: "no-longer"}[a.State == slo.StateFiring]
				}
			}
		case x.Canary != nil:
			q.Subjects = []string{x.Canary.Spec.Service + "/" + x.Canary.Spec.Canary}
			return newestFinding(ctx, u, q, d, canary.Analyses, canaryNow)
		case x.Drift != nil:
			q.Subjects = []string{x.Drift.Monitor}
			return newestFinding(ctx, u, q, d, drift.Verdicts, driftNow)
		case x.Recommendation != nil:
			q.Subjects = []string{x.Recommendation.Subject()}
			return newestFinding(ctx, u, q, d, rightsize.Advices, adviceNow)
		case x.Budget != nil:
			d.Holds, d.HoldsState = "A budget finding stands until its period ends; the cost page shows the budget now.", "holds"
		}
		return nil
	})
	rs.wait()
	if problem != "" {
		d.Holds, d.HoldsState = problem, "unknown"
	}
}

// decisionKey is a decision's idempotency key: the same for a form of
// one browser (its CSRF token) on one version of the action, so a form
// posted twice (a double click, a retried request) decides once, while
// another person's decision, or one on a newer version, is its own.
func decisionKey(csrf, id string, version int) string {
	sum := sha256.Sum256([]byte(csrf + "\x00" + id + "\x00" + strconv.Itoa(version)))
	return hex.EncodeToString(sum[:12])
}

// newestFinding reads the newest event of a finding's codec that q
// selects and says, through judge, whether the evidence still holds.
func newestFinding[T any](ctx context.Context, u *UI, q store.EventQuery, d *actionData, c store.Codec[T], judge func(T) (bool, string)) error {
	recs, err := c.Read(ctx, u.opts.Store, q)
	if err != nil && len(recs) == 0 {
		return err
	}
	if len(recs) == 0 {
		d.Holds, d.HoldsState = "Nothing newer was found since the proposal.", "unknown"
		return nil
	}
	ok, why := judge(recs[0].Value)
	d.Holds = fmt.Sprintf("%s (finding of %s UTC).", why, recs[0].Event.Time.Format("2006-01-02 15:04:05"))
	d.HoldsState = map[bool]string{true: "holds", false: "no-longer"}[ok]
	return nil
}

func canaryNow(a canary.Analysis) (bool, string) {
	return a.Verdict == canary.VerdictFail || a.Verdict == canary.VerdictMarginal, "The canary's newest verdict is " + string(a.Verdict)
}

func driftNow(v drift.Verdict) (bool, string) {
	switch {
	case !v.Tested():
		return false, "The monitor's newest window had no verdict: " + v.Reason
	case v.Drifted:
		return true, "The monitor still finds drift"
	}
	return false, "The monitor no longer finds drift"
}

func adviceNow(a rightsize.Advice) (bool, string) {
	if a.Replicas != nil {
		return true, fmt.Sprintf("The newest advice is %d replicas", a.Replicas.Recommended)
	}
	return true, fmt.Sprintf("The newest advice resizes %d containers", len(a.Resources))
}

// decide takes an approve or reject form: a reason, the confirmation, the
// action's version as the page showed it, the idempotency key and the
// CSRF token. It decides through the engine and sends the browser back to
// the action.
func (u *UI) decide(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxSilenceForm)
	formErr := r.ParseForm()
	verb := actions.Verb(r.PathValue("verb"))
	form := decisionForm{Verb: string(verb), Reason: strings.TrimSpace(r.PostFormValue("reason")), Problems: map[string]string{}}
	if !csrfSent(w, r, formErr) {
		form.Problems["csrf"] = "The form expired: reload the page and try again."
		u.decisionProblem(w, r, form, http.StatusForbidden)
		return
	}
	if verb != actions.VerbApprove && verb != actions.VerbReject {
		form.Problems["verb"] = fmt.Sprintf("%q is not a decision this page makes: approve or reject", verb)
		u.decisionProblem(w, r, form, http.StatusBadRequest)
		return
	}
	if u.opts.Actions == nil {
		form.Problems["save"] = "This process runs no actions engine."
		u.decisionProblem(w, r, form, http.StatusServiceUnavailable)
		return
	}
	if form.Reason == "" {
		form.Problems["reason"] = "Say why: the reason is what the audit trail and the next person read."
	}
	if r.PostFormValue("confirm") != "yes" {
		form.Problems["confirm"] = "Tick the box to confirm you read the plan."
	}
	var version int
	if _, err := fmt.Sscan(r.PostFormValue("version"), &version); err != nil || version <= 0 {
		form.Problems["save"] = "The form has no version of the action: reload the page."
	}
	if len(form.Problems) > 0 {
		u.decisionProblem(w, r, form, http.StatusBadRequest)
		return
	}
	ident := auth.FromContext(r.Context())
	actor := "anonymous"
	if ident != nil {
		actor = ident.Subject()
	}
	id := r.PathValue("id")
	t := tenantOf(r)
	dec := actions.Decision{Actor: actor, Reason: form.Reason, Version: version, IdempotencyKey: r.PostFormValue("key")}
	var err error
	if verb == actions.VerbApprove {
		_, err = u.opts.Actions.Approve(r.Context(), t, id, dec)
	} else {
		_, err = u.opts.Actions.Reject(r.Context(), t, id, dec)
	}
	switch {
	case err == nil:
	case errors.Is(err, actions.ErrConflict):
		form.Problems["save"] = "The action changed since this page showed it (someone decided, or it expired): read it again below, then decide."
		u.decisionProblem(w, r, form, http.StatusConflict)
		return
	case errors.Is(err, actions.ErrState):
		form.Problems["save"] = "Vigil cannot " + string(verb) + " this action: " + err.Error()
		u.decisionProblem(w, r, form, http.StatusConflict)
		return
	case errors.Is(err, actions.ErrNotFound):
		form.Problems["save"] = "There is no such action."
		u.decisionProblem(w, r, form, http.StatusNotFound)
		return
	default:
		u.log.Warn("a decision on an action failed", "action", id, "verb", verb, "err", err)
		form.Problems["save"] = "Vigil could not record the decision: " + err.Error()
		u.decisionProblem(w, r, form, http.StatusInternalServerError)
		return
	}
	q := url.Values{"decided": {string(verb)}}
	if tq := r.URL.Query().Get("tenant"); tq != "" {
		q.Set("tenant", tq)
	}
	http.Redirect(w, r, "/actions/"+url.PathEscape(id)+"?"+q.Encode(), http.StatusSeeOther)
}

// decisionProblem shows the action's page again with the form's problem.
func (u *UI) decisionProblem(w http.ResponseWriter, r *http.Request, form decisionForm, status int) {
	get := r.Clone(r.Context())
	get.Method = http.MethodGet
	v, _ := u.actionView(w, get, form)
	if v.Status == http.StatusOK {
		v.Status = status
	}
	u.render(w, get, "action", v)
}
