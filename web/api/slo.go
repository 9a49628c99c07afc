package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/alert"
	"github.com/vigil-dev/vigil/dispatch"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
)

type burnJSON struct {
	Severity      string   `json:"severity"`
	LongWindow    string   `json:"long_window"`
	ShortWindow   string   `json:"short_window"`
	Factor        float64  `json:"factor"`
	LongBurnRate  *float64 `json:"long_burn_rate"` // null without data
	ShortBurnRate *float64 `json:"short_burn_rate"`
	LongEvents    float64  `json:"long_events"`
	Firing        bool     `json:"firing"`
	CanFire       bool     `json:"can_fire"`
}

type sloJSON struct {
	Name             string            `json:"name"`
	Service          string            `json:"service"`
	TelemetryService string            `json:"telemetry_service,omitempty"`
	Objective        float64           `json:"objective"`
	Window           string            `json:"window"`
	State            string            `json:"state"`
	SLI              *float64          `json:"sli"` // null without data
	Good             float64           `json:"good_events"`
	Total            float64           `json:"total_events"`
	BudgetRemaining  *float64          `json:"error_budget_remaining"`
	BudgetConsumed   *float64          `json:"error_budget_consumed"`
	BurnRates        []burnJSON        `json:"burn_rates"`
	At               time.Time         `json:"evaluated_at"`
	Defined          string            `json:"defined_in"`
	Labels           map[string]string `json:"labels,omitempty"`
}

func opt(v float64, ok bool) *float64 {
	if !ok {
		return nil
	}
	return &v
}

func toJSON(st slo.Status) sloJSON {
	s := st.SLO
	j := sloJSON{Name: s.Name, Service: s.Service, TelemetryService: s.TelemetryService(), Objective: s.Objective, Window: s.Window.Duration.String(), State: st.State,
		Good: st.Counts.Good, Total: st.Counts.Total, At: st.At, Defined: s.File, BurnRates: []burnJSON{}, Labels: s.Labels}
	data := !st.Budget.NoData
	j.SLI, j.BudgetRemaining, j.BudgetConsumed = opt(st.Budget.SLI, data), opt(st.Budget.Remaining, data), opt(st.Budget.Consumed, data)
	for _, b := range st.Burns {
		lok, sok := b.Long.HasEvents(), b.Short.HasEvents()
		j.BurnRates = append(j.BurnRates, burnJSON{Severity: b.Rule.Severity, LongWindow: b.Rule.Long.String(), ShortWindow: b.Rule.Short.String(),
			Factor: b.Rule.Factor, LongBurnRate: opt(b.LongRate, lok), ShortBurnRate: opt(b.ShortRate, sok), LongEvents: b.Long.Total,
			Firing: b.Firing, CanFire: b.Rule.CanFire(s.Objective)})
	}
	return j
}

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *API) slosOf(org string) []*slo.SLO {
	var out []*slo.SLO
	for _, s := range a.config().SLOs {
		if s.Tenant == org || s.Tenant == "" && org == store.DefaultTenant {
			out = append(out, s)
		}
	}
	return out
}

// slos answers every SLO of the tenant with its current standing.
func (a *API) slos(r *http.Request, org string) (any, error) {
	statuses, err := slo.ComputeAll(r.Context(), a.Store, a.slosOf(org), a.now())
	if err != nil {
		return nil, err
	}
	out := make([]sloJSON, 0, len(statuses))
	for _, st := range statuses {
		out = append(out, toJSON(st))
	}
	return out, nil
}

func (a *API) findSLO(r *http.Request, org string) (*slo.SLO, error) {
	name := r.PathValue("name")
	for _, s := range a.slosOf(org) {
		if s.Name == name {
			return s, nil
		}
	}
	return nil, &statusError{http.StatusNotFound, errorf("no SLO named %q", name)}
}

// sloOne answers one SLO's standing.
func (a *API) sloOne(r *http.Request, org string) (any, error) {
	s, err := a.findSLO(r, org)
	if err != nil {
		return nil, err
	}
	st, err := slo.Compute(r.Context(), a.Store, s, a.now())
	if err != nil {
		return nil, err
	}
	return toJSON(st), nil
}

type historyPoint struct {
	Time  time.Time `json:"time"`
	Good  float64   `json:"good_events"`
	Total float64   `json:"total_events"`
	SLI   *float64  `json:"sli"`
}

// sloHistory answers the SLI per step over [from, to), from the rollups.
func (a *API) sloHistory(r *http.Request, org string) (any, error) {
	s, err := a.findSLO(r, org)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	from, to, err := timeRange(q)
	if err != nil {
		return nil, err
	}
	step, err := apiStep(q.Get("step"))
	if err != nil {
		return nil, err
	}
	if step == 0 {
		step = time.Hour
	}
	if to.Sub(from)/step > 11000 {
		return nil, badRequest("too many points: widen the step")
	}
	rollups, err := a.Store.Rollups(r.Context(), store.RollupQuery{Tenant: org, SLO: s.Name, Start: from, End: to})
	if err != nil {
		return nil, err
	}
	var points []historyPoint
	i := 0
	for t := from; t.Before(to); t = t.Add(step) {
		p := historyPoint{Time: t}
		for ; i < len(rollups) && rollups[i].Minute.Before(t.Add(step)); i++ {
			p.Good += rollups[i].Good
			p.Total += rollups[i].Total
		}
		c := slo.Counts{Good: p.Good, Total: p.Total}
		p.SLI = opt(c.Ratio())
		points = append(points, p)
	}
	return map[string]any{"name": s.Name, "objective": s.Objective, "step": step.String(), "points": points}, nil
}

type alertJSON struct {
	Fingerprint string            `json:"fingerprint"`
	State       slo.AlertState    `json:"state"` // pending, firing or resolved
	Labels      map[string]string `json:"labels"`
	Summary     string            `json:"summary"`
	Since       time.Time         `json:"since"` // when it entered its state
}

// alerts answers the tenant's SLO alerts over [from, to) (default: the last
// seven days) from the alert events the analyzer records: each alert's
// latest state, firing ones first.
func (a *API) alerts(r *http.Request, org string) (any, error) {
	from, to, err := a.window(r, 7*24*time.Hour)
	if err != nil {
		return nil, err
	}
	evs, err := slo.AlertTransitions.Read(r.Context(), a.Store, store.EventQuery{Tenant: org, Start: from, End: to})
	if err != nil {
		return nil, err
	}
	latest := map[string]alertJSON{}
	var order []string
	for _, ev := range evs { // newest first
		tr := ev.Value
		if _, seen := latest[tr.Fingerprint]; seen {
			continue
		}
		latest[tr.Fingerprint] = alertJSON{Fingerprint: tr.Fingerprint, State: tr.State, Labels: tr.Labels, Summary: ev.Event.Summary, Since: ev.Event.Time}
		if tr.State != slo.StateInactive { // pending, then stopped before it fired
			order = append(order, tr.Fingerprint)
		}
	}
	out := []alertJSON{}
	for _, want := range []slo.AlertState{slo.StateFiring, slo.StatePending, slo.StateResolved} {
		for _, fp := range order {
			if latest[fp].State == want {
				out = append(out, latest[fp])
			}
		}
	}
	return out, nil
}

// window reads the optional from and to of a request, by default the span
// before now.
func (a *API) window(r *http.Request, span time.Duration) (from, to time.Time, err error) {
	q := r.URL.Query()
	if q.Get("from") != "" || q.Get("to") != "" {
		return timeRange(q)
	}
	to = a.now()
	return to.Add(-span), to, nil
}

type deliveryJSON struct {
	At           time.Time `json:"at"`
	Receiver     string    `json:"receiver"`
	URL          string    `json:"url"`
	Try          string    `json:"try"`
	Status       string    `json:"status"`
	LatencyMS    string    `json:"latency_ms"`
	Outcome      string    `json:"outcome"` // delivered, retrying, failed or skipped
	Error        string    `json:"error,omitempty"`
	Note         string    `json:"note,omitempty"`
	Fingerprints []string  `json:"fingerprints"`
}

// deliveries answers the delivery log over [from, to) (default: the last
// day), newest first: every attempt to deliver the tenant's alerts, or,
// with receiver=NAME (repeated or comma-separated), every attempt of the
// dispatcher's subscribers of those names.
func (a *API) deliveries(r *http.Request, org string) (any, error) {
	from, to, err := a.window(r, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	receivers := alertReceivers()
	if names := r.URL.Query()["receiver"]; len(names) > 0 {
		receivers = splitList(strings.Join(names, ","))
	}
	recs, err := dispatch.Deliveries.Read(r.Context(), a.Store, store.EventQuery{Tenant: org, Subjects: receivers, Start: from, End: to, Limit: 1000})
	if err != nil {
		return nil, err
	}
	out := make([]deliveryJSON, 0, len(recs))
	for _, rec := range recs {
		d := rec.Value
		// Numbers stay decimal strings, as the log has always answered them.
		out = append(out, deliveryJSON{At: rec.Event.Time, Receiver: d.Subscriber, URL: d.Target, Try: strconv.Itoa(d.Try), Status: strconv.Itoa(d.Status),
			LatencyMS: strconv.FormatFloat(d.LatencyMS, 'f', 3, 64), Outcome: string(d.Outcome), Error: d.Error, Note: d.Note, Fingerprints: append([]string{}, d.Keys...)})
	}
	return out, nil
}

// alertReceivers are the subscribers whose deliveries are alerts to
// people: the alert receivers, and the actions' escalations through them.
// The actions engine's own subscribers are left out: a firing alert
// reaches them at every evaluation, and their deliveries would crowd the
// receivers' out of the log.
func alertReceivers() []string {
	var out []string
	for _, n := range []alert.Notifier{&alert.Alertmanager{}, &alert.Webhook{}, &alert.Slack{}} {
		out = append(out, n.Name(), (&actions.Escalation{Notifier: n}).Name())
	}
	return out
}

type silenceJSON struct {
	ID        string            `json:"id,omitempty"`
	Matchers  map[string]string `json:"matchers"`
	StartsAt  time.Time         `json:"starts_at"`
	EndsAt    time.Time         `json:"ends_at"`
	Duration  string            `json:"duration,omitempty"` // instead of ends_at, e.g. 2h
	CreatedBy string            `json:"created_by"`
	Comment   string            `json:"comment"`
}

// createSilence takes {matchers: {label: value}, ends_at or duration,
// created_by, comment} and mutes matching SLO alerts until it ends.
func (a *API) createSilence(r *http.Request, org string) (any, error) {
	var in silenceJSON
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, badRequest("cannot read the silence: %v", err)
	}
	now := a.now()
	if in.StartsAt.IsZero() {
		in.StartsAt = now
	}
	if in.Duration != "" {
		d, err := time.ParseDuration(in.Duration)
		if err != nil {
			return nil, badRequest("duration %q: %v", in.Duration, err)
		}
		in.EndsAt = in.StartsAt.Add(d)
	}
	s, err := slo.SaveSilence(r.Context(), a.Store, slo.Silence{Tenant: org, Matchers: in.Matchers, StartsAt: in.StartsAt, EndsAt: in.EndsAt, CreatedBy: in.CreatedBy, Comment: in.Comment})
	if invalid := (*slo.InvalidSilenceError)(nil); errors.As(err, &invalid) {
		return nil, badRequest("%v", err)
	}
	if err != nil {
		return nil, err
	}
	return silenceJSON{ID: s.ID, Matchers: s.Matchers, StartsAt: s.StartsAt, EndsAt: s.EndsAt, CreatedBy: s.CreatedBy, Comment: s.Comment}, nil
}

// silences lists the silences in force.
func (a *API) silences(r *http.Request, org string) (any, error) {
	ss, err := slo.ActiveSilences(r.Context(), a.Store, org, a.now())
	if err != nil {
		return nil, err
	}
	out := []silenceJSON{}
	for _, s := range ss {
		out = append(out, silenceJSON{ID: s.ID, Matchers: s.Matchers, StartsAt: s.StartsAt, EndsAt: s.EndsAt, CreatedBy: s.CreatedBy, Comment: s.Comment})
	}
	return out, nil
}
