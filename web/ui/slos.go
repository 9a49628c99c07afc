package ui

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
)

// sloRow is one SLO of the list.
type sloRow struct {
	Name, Service, Window, State string
	Objective                    float64
	SLI, Remaining               float64
	NoData                       bool
	Firing                       int
}

type slosData struct {
	Rows          []sloRow
	Sort, Filter  string
	Problem       string
	AlertsProblem string
}

var sloSorts = map[string]func(a, b sloRow) int{
	"name":      func(a, b sloRow) int { return strings.Compare(a.Name, b.Name) },
	"objective": func(a, b sloRow) int { return cmpFloat(a.Objective, b.Objective) },
	"sli":       func(a, b sloRow) int { return cmpFloat(a.sortable(a.SLI), b.sortable(b.SLI)) },
	// budget sorts SLOs without data after every other, as Pyrra does.
	"budget": func(a, b sloRow) int { return cmpFloat(a.sortable(a.Remaining), b.sortable(b.Remaining)) },
	"firing": func(a, b sloRow) int { return a.Firing - b.Firing },
}

// sortable puts SLOs without data after those with, ascending.
func (r sloRow) sortable(v float64) float64 {
	if r.NoData {
		return 1e300
	}
	return v
}

// alertLookback is how far back alert events are read for the alerts the
// SLO pages show as firing: the API's alerts read the same week.
const alertLookback = 7 * 24 * time.Hour

// slos is the SLO list, sorted by error budget left, least first (as
// Pyrra sorts it): objective, SLI now, budget remaining, firing alerts.
func (u *UI) slos(w http.ResponseWriter, r *http.Request) {
	v := u.newView(w, r, "SLOs", "slos")
	d := &slosData{Sort: v.query.Get("sort"), Filter: v.query.Get("q")}
	if d.Sort == "" {
		d.Sort = "budget"
	}
	if _, ok := sloSorts[strings.TrimPrefix(d.Sort, "-")]; !ok {
		v.problem(&fieldError{"sort", "cannot sort by " + d.Sort + ": pick a column"}, http.StatusBadRequest)
	}
	v.Data = d
	if v.OK() {
		u.loadSLOs(r, v, d)
	}
	u.render(w, r, "slos", v)
}

func (u *UI) loadSLOs(r *http.Request, v *view, d *slosData) {
	var statuses []slo.Status
	var alerts []alertRow
	rs := u.reads(r)
	rs.do(&d.Problem, "The SLOs' standings", func(ctx context.Context) (err error) {
		statuses, err = slo.ComputeAll(ctx, u.opts.Store, u.tenantSLOs(v.Tenant), v.Now)
		return err
	})
	rs.do(&d.AlertsProblem, "The firing alerts", func(ctx context.Context) (err error) {
		alerts, err = u.latestAlerts(ctx, v.Tenant, v.Now.Add(-alertLookback), v.Now, nil)
		return err
	})
	rs.wait()
	for _, st := range statuses {
		row := sloRow{Name: st.SLO.Name, Service: st.SLO.Service, Window: st.SLO.Window.String(), State: st.State, Objective: st.SLO.Objective,
			SLI: st.Budget.SLI, Remaining: st.Budget.Remaining, NoData: st.Budget.NoData}
		for _, a := range alerts {
			if a.SLO == row.Name && a.State == slo.StateFiring {
				row.Firing++
			}
		}
		if d.Filter == "" || strings.Contains(row.Name, d.Filter) || strings.Contains(row.Service, d.Filter) {
			d.Rows = append(d.Rows, row)
		}
	}
	sortRows(d.Rows, d.Sort, sloSorts)
}

// tenantSLOs are the SLOs of the tenant ("" in an SLO is the default).
func (u *UI) tenantSLOs(t string) []*slo.SLO {
	var out []*slo.SLO
	for _, s := range u.slosDefined() {
		if s.Tenant == t || s.Tenant == "" && t == store.DefaultTenant {
			out = append(out, s)
		}
	}
	return out
}

// alertRow is an alert's latest state.
type alertRow struct {
	Fingerprint string
	SLO         string
	State       slo.AlertState
	Severity    string
	Labels      map[string]string
	Summary     string
	Since       time.Time // when it entered the state
	StartsAt    time.Time
}

// latestAlerts reads the alert events of [from, to) (of the SLOs named,
// or all) and answers each alert's latest state, firing ones first, then
// pending, then resolved; alerts that stopped before firing are left out.
func (u *UI) latestAlerts(ctx context.Context, t string, from, to time.Time, slos []string) ([]alertRow, error) {
	evs, err := slo.AlertTransitions.Read(ctx, u.opts.Store, store.EventQuery{Tenant: t, Subjects: slos, Start: from, End: to})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var rows []alertRow
	for _, ev := range evs { // newest first
		tr := ev.Value
		if seen[tr.Fingerprint] {
			continue
		}
		seen[tr.Fingerprint] = true
		if tr.State != slo.StateInactive {
			rows = append(rows, alertRow{Fingerprint: tr.Fingerprint, SLO: tr.SLO, State: tr.State, Severity: tr.Labels["severity"], Labels: tr.Labels,
				Summary: ev.Event.Summary, Since: ev.Event.Time, StartsAt: tr.StartsAt})
		}
	}
	// Firing first, pages before tickets, then by SLO and window.
	order := []slo.AlertState{slo.StateFiring, slo.StatePending, slo.StateResolved}
	slices.SortStableFunc(rows, func(a, b alertRow) int {
		return cmp.Or(slices.Index(order, a.State)-slices.Index(order, b.State), boolRank(a.Severity != "page")-boolRank(b.Severity != "page"),
			strings.Compare(a.SLO, b.SLO), strings.Compare(a.Labels["long_window"], b.Labels["long_window"]))
	})
	return rows, nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
