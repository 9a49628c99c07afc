package ui

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/actions"
)

// auditRow is one transition of one action: who moved it where, and why.
type auditRow struct {
	At       time.Time     `json:"at"`
	Action   string        `json:"action"`
	Title    string        `json:"title"`
	Policy   string        `json:"policy"`
	Target   string        `json:"target"`
	State    actions.State `json:"state"`
	Attempt  int           `json:"attempt"`
	Version  int           `json:"version"`
	Actor    string        `json:"actor"`
	Decision actions.Verb  `json:"decision,omitempty"`
	Reason   string        `json:"reason,omitempty"`
	Result   string        `json:"result,omitempty"`
}

type auditData struct {
	Rows                 []auditRow
	Policy, State, Actor string
	Format               string
	NoEngine             bool
	Problem              string
}

// auditPage is the actions' audit trail over the range: every transition,
// newest first, filtered by policy, state and actor, and downloadable as
// CSV or JSON (?format=csv|json) with the same filters.
func (u *UI) auditPage(w http.ResponseWriter, r *http.Request) {
	v := u.newView(w, r, "Actions audit", "actions")
	tr := v.timeRangeFrom("now-7d", actionsLookback)
	d := &auditData{Policy: v.query.Get("policy"), State: v.query.Get("state"), Actor: v.query.Get("actor"), Format: v.query.Get("format"), NoEngine: u.opts.Actions == nil}
	v.Data = d
	if d.State != "" && !slices.Contains(actions.States, actions.State(d.State)) {
		v.problem(&fieldError{"state", fmt.Sprintf("state %q is none of %s", d.State, joinStates(actions.States))}, http.StatusBadRequest)
	}
	if d.Format != "" && d.Format != "csv" && d.Format != "json" {
		v.problem(&fieldError{"format", fmt.Sprintf("format %q: download as csv or json", d.Format)}, http.StatusBadRequest)
	}
	if !v.OK() || d.NoEngine {
		u.render(w, r, "audit", v)
		return
	}
	var list []*actions.Action
	rs := u.reads(r)
	rs.do(&d.Problem, "The audit trail", func(ctx context.Context) (err error) {
		list, err = u.opts.Actions.List(ctx, actions.Filter{Tenant: v.Tenant, Policy: d.Policy, Start: v.Now.Add(-actionsLookback)})
		return err
	})
	rs.wait()
	for _, a := range list {
		title := actionTitle(a)
		for _, s := range a.Timeline {
			switch {
			case s.At.Before(tr.Start) || !s.At.Before(tr.End),
				d.State != "" && string(s.State) != d.State,
				d.Actor != "" && !strings.Contains(s.Actor, d.Actor):
				continue
			}
			d.Rows = append(d.Rows, auditRow{At: s.At, Action: a.ID, Title: title, Policy: a.Policy, Target: a.Target.String(), State: s.State,
				Attempt: s.Attempt, Version: s.Version, Actor: s.Actor, Decision: s.Decision, Reason: s.Reason, Result: s.Result})
		}
	}
	slices.SortStableFunc(d.Rows, func(a, b auditRow) int { return b.At.Compare(a.At) })
	if d.Problem == "" && d.Format != "" {
		writeAudit(w, d)
		return
	}
	u.render(w, r, "audit", v)
}

// writeAudit downloads the rows as CSV or JSON.
func writeAudit(w http.ResponseWriter, d *auditData) {
	name := "vigil-actions-audit." + d.Format
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	if d.Format == "json" {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(append([]auditRow{}, d.Rows...))
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	cw := csv.NewWriter(w)
	cw.Write([]string{"at", "action", "title", "policy", "target", "state", "attempt", "version", "actor", "decision", "reason", "result"})
	for _, r := range d.Rows {
		cw.Write([]string{r.At.UTC().Format(time.RFC3339Nano), r.Action, r.Title, r.Policy, r.Target, string(r.State), strconv.Itoa(r.Attempt),
			strconv.Itoa(r.Version), r.Actor, string(r.Decision), csvSafe(r.Reason), csvSafe(r.Result)})
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula: a reason
// typed by a person may start with =, +, - or @ (CSV injection).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
