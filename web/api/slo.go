package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

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
	LongEvents    uint64   `json:"long_events"`
	Firing        bool     `json:"firing"`
	CanFire       bool     `json:"can_fire"`
}

type sloJSON struct {
	Name            string     `json:"name"`
	Service         string     `json:"service"`
	Objective       float64    `json:"objective"`
	Window          string     `json:"window"`
	State           string     `json:"state"`
	SLI             *float64   `json:"sli"` // null without data
	Good            uint64     `json:"good_events"`
	Total           uint64     `json:"total_events"`
	BudgetRemaining *float64   `json:"error_budget_remaining"`
	BudgetConsumed  *float64   `json:"error_budget_consumed"`
	BurnRates       []burnJSON `json:"burn_rates"`
	At              time.Time  `json:"evaluated_at"`
	Defined         string     `json:"defined_in"`
}

func opt(v float64, ok bool) *float64 {
	if !ok {
		return nil
	}
	return &v
}

func toJSON(st slo.Status) sloJSON {
	s := st.SLO
	j := sloJSON{Name: s.Name, Service: s.Service, Objective: s.Objective, Window: s.Window.Duration.String(), State: st.State,
		Good: st.Counts.Good, Total: st.Counts.Total, At: st.At, Defined: s.File, BurnRates: []burnJSON{}}
	data := !st.Budget.NoData
	j.SLI, j.BudgetRemaining, j.BudgetConsumed = opt(st.Budget.SLI, data), opt(st.Budget.Remaining, data), opt(st.Budget.Consumed, data)
	for _, b := range st.Burns {
		_, lok := b.Long.Ratio()
		_, sok := b.Short.Ratio()
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
	statuses, err := slo.ComputeAll(r.Context(), a.Rollups, a.slosOf(org), a.now())
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
	st, err := slo.Compute(r.Context(), a.Rollups, s, a.now())
	if err != nil {
		return nil, err
	}
	return toJSON(st), nil
}

type historyPoint struct {
	Time  time.Time `json:"time"`
	Good  uint64    `json:"good_events"`
	Total uint64    `json:"total_events"`
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
	rollups, err := a.Rollups.Rollups(r.Context(), store.RollupQuery{Tenant: org, SLO: s.Name, Start: from, End: to})
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
	State       string            `json:"state"` // pending, firing or resolved
	Labels      map[string]string `json:"labels"`
	Summary     string            `json:"summary"`
	Since       time.Time         `json:"since"` // when it entered its state
}

// alerts answers the tenant's SLO alerts over [from, to) (default: the last
// seven days) from the alert events the analyzer records: each alert's
// latest state, firing ones first.
func (a *API) alerts(r *http.Request, org string) (any, error) {
	q := r.URL.Query()
	to, from := a.now(), a.now().Add(-7*24*time.Hour)
	if q.Get("from") != "" || q.Get("to") != "" {
		var err error
		if from, to, err = timeRange(q); err != nil {
			return nil, err
		}
	}
	evs, err := a.Events.Events(r.Context(), store.EventQuery{Tenant: org, Kinds: []store.EventKind{store.KindAlert}, Start: from, End: to})
	if err != nil {
		return nil, err
	}
	latest := map[string]alertJSON{}
	var order []string
	for _, ev := range evs { // newest first
		fp, _ := ev.Attributes.Get("fingerprint")
		if _, seen := latest[fp]; seen || fp == "" {
			continue
		}
		state, _ := ev.Attributes.Get("state")
		if state == "inactive" { // pending, then stopped before it fired
			continue
		}
		labels := map[string]string{}
		for _, kv := range ev.Attributes {
			if kv.Key != "fingerprint" && kv.Key != "state" && kv.Key != "starts_at" {
				labels[kv.Key] = kv.Value
			}
		}
		latest[fp] = alertJSON{Fingerprint: fp, State: state, Labels: labels, Summary: ev.Summary, Since: ev.Time}
		order = append(order, fp)
	}
	out := []alertJSON{}
	for _, want := range []string{"firing", "pending", "resolved"} {
		for _, fp := range order {
			if latest[fp].State == want {
				out = append(out, latest[fp])
			}
		}
	}
	return out, nil
}

type deliveryJSON struct {
	At           time.Time `json:"at"`
	Receiver     string    `json:"receiver"`
	URL          string    `json:"url"`
	Try          string    `json:"try"`
	Status       string    `json:"status"`
	LatencyMS    string    `json:"latency_ms"`
	Outcome      string    `json:"outcome"` // delivered, retrying or failed
	Error        string    `json:"error,omitempty"`
	Fingerprints []string  `json:"fingerprints"`
}

// deliveries answers the delivery log over [from, to) (default: the last
// day), newest first: every attempt to deliver the tenant's alerts.
func (a *API) deliveries(r *http.Request, org string) (any, error) {
	q := r.URL.Query()
	to, from := a.now(), a.now().Add(-24*time.Hour)
	if q.Get("from") != "" || q.Get("to") != "" {
		var err error
		if from, to, err = timeRange(q); err != nil {
			return nil, err
		}
	}
	evs, err := a.Events.Events(r.Context(), store.EventQuery{Tenant: org, Kinds: []store.EventKind{store.KindDelivery}, Start: from, End: to, Limit: 1000})
	if err != nil {
		return nil, err
	}
	out := make([]deliveryJSON, 0, len(evs))
	for _, ev := range evs {
		get := func(k string) string { v, _ := ev.Attributes.Get(k); return v }
		d := deliveryJSON{At: ev.Time, Receiver: get("receiver"), URL: get("url"), Try: get("try"), Status: get("status"),
			LatencyMS: get("latency_ms"), Outcome: get("outcome"), Error: get("error"), Fingerprints: []string{}}
		if fps := get("fingerprints"); fps != "" {
			d.Fingerprints = strings.Split(fps, ",")
		}
		out = append(out, d)
	}
	return out, nil
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
	s, err := slo.SaveSilence(r.Context(), a.EventWriter, slo.Silence{Tenant: org, Matchers: in.Matchers, StartsAt: in.StartsAt, EndsAt: in.EndsAt, CreatedBy: in.CreatedBy, Comment: in.Comment})
	if err != nil {
		if strings.HasPrefix(err.Error(), "a silence") {
			return nil, badRequest("%v", err)
		}
		return nil, err
	}
	return silenceJSON{ID: s.ID, Matchers: s.Matchers, StartsAt: s.StartsAt, EndsAt: s.EndsAt, CreatedBy: s.CreatedBy, Comment: s.Comment}, nil
}

// silences lists the silences in force.
func (a *API) silences(r *http.Request, org string) (any, error) {
	ss, err := slo.Silences(r.Context(), a.Events, org, a.now())
	if err != nil {
		return nil, err
	}
	out := []silenceJSON{}
	for _, s := range ss {
		out = append(out, silenceJSON{ID: s.ID, Matchers: s.Matchers, StartsAt: s.StartsAt, EndsAt: s.EndsAt, CreatedBy: s.CreatedBy, Comment: s.Comment})
	}
	return out, nil
}
