package prom

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
)

// rules and alerts answer Vigil's SLOs in Prometheus's shapes: the
// recording and alerting rules `vigil slo export --format prometheus`
// writes for the tenant's metric SLOs (slo.PrometheusRules), and the
// alerts of every SLO from the analyzer's alert events
// (slo.AlertTransitions). Vigil evaluates its SLOs from its own rollups,
// not these rules' expressions: a recording rule's health is "unknown",
// an alerting rule's state is that of the SLO's alerts.

// alertLookback is how far back alert events are read, as Vigil's own
// GET /api/v1/alerts reads them.
const alertLookback = 7 * 24 * time.Hour

// ruleInterval is the analyzer's default evaluation interval, which
// evaluates the SLOs the rules come from.
const ruleInterval = time.Minute

type ruleGroupJSON struct {
	Name           string    `json:"name"`
	File           string    `json:"file"`
	Rules          []any     `json:"rules"`
	Interval       float64   `json:"interval"`
	Limit          int       `json:"limit"`
	EvaluationTime float64   `json:"evaluationTime"`
	LastEvaluation time.Time `json:"lastEvaluation"`
}

type recordingRuleJSON struct {
	Name           string            `json:"name"`
	Query          string            `json:"query"`
	Labels         map[string]string `json:"labels"`
	Health         string            `json:"health"`
	EvaluationTime float64           `json:"evaluationTime"`
	LastEvaluation time.Time         `json:"lastEvaluation"`
	Type           string            `json:"type"`
}

type alertingRuleJSON struct {
	State          string            `json:"state"`
	Name           string            `json:"name"`
	Query          string            `json:"query"`
	Duration       float64           `json:"duration"`
	KeepFiringFor  float64           `json:"keepFiringFor"`
	Labels         map[string]string `json:"labels"`
	Annotations    map[string]string `json:"annotations"`
	Alerts         []alertJSON       `json:"alerts"`
	Health         string            `json:"health"`
	EvaluationTime float64           `json:"evaluationTime"`
	LastEvaluation time.Time         `json:"lastEvaluation"`
	Type           string            `json:"type"`
}

type alertJSON struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    *time.Time        `json:"activeAt,omitempty"`
	Value       string            `json:"value"`
}

func (a *API) rules(r *http.Request, org string) result {
	typ := r.FormValue("type")
	if typ != "" && typ != "alert" && typ != "record" {
		return result{err: invalidParam("type", errBadRuleType)}
	}
	alerts, err := a.activeAlerts(r, org)
	if err != nil {
		return result{err: &apiError{errorInternal, err}}
	}
	groups := []ruleGroupJSON{}
	for _, s := range a.tenantSLOs(org) {
		file, _ := slo.PrometheusRules([]*slo.SLO{s}) // an SLO over spans has none
		for _, g := range file.Groups {
			if out := ruleGroup(g, sloFile(s), typ, alerts); len(out.Rules) > 0 {
				groups = append(groups, out)
			}
		}
	}
	return result{data: struct {
		Groups []ruleGroupJSON `json:"groups"`
	}{groups}}
}

// errBadRuleType is Prometheus's message for a type it does not know.
var errBadRuleType = errors.New(`not supported value, valid values are "alert" and "record"`)

// ruleGroup is a group's rules of the type asked for ("" for both).
func ruleGroup(g slo.RuleGroup, file, typ string, alerts []alertJSON) ruleGroupJSON {
	out := ruleGroupJSON{Name: g.Name, File: file, Rules: []any{}, Interval: ruleInterval.Seconds()}
	for _, rule := range g.Rules {
		if rule.Record != "" && typ != "alert" {
			out.Rules = append(out.Rules, recordingRuleJSON{Name: rule.Record, Query: rule.Expr, Labels: rule.Labels, Health: "unknown", Type: "recording"})
		}
		if rule.Alert != "" && typ != "record" {
			out.Rules = append(out.Rules, alertingRule(rule, alerts))
		}
	}
	return out
}

// alertingRule is a rule with the alerts whose labels it sets.
func alertingRule(rule slo.Rule, alerts []alertJSON) alertingRuleJSON {
	out := alertingRuleJSON{State: "inactive", Name: rule.Alert, Query: rule.Expr, Labels: rule.Labels, Annotations: rule.Annotations,
		Alerts: []alertJSON{}, Health: "ok", Type: "alerting"}
	if d, err := parseDuration(rule.For); err == nil {
		out.Duration = d.Seconds()
	}
	for _, al := range alerts {
		if al.Labels["alertname"] != rule.Alert || !subset(rule.Labels, al.Labels) {
			continue
		}
		out.Alerts = append(out.Alerts, al)
		if al.State == "firing" || out.State == "inactive" {
			out.State = al.State
		}
	}
	return out
}

func subset(want, have map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func (a *API) alerts(r *http.Request, org string) result {
	alerts, err := a.activeAlerts(r, org)
	if err != nil {
		return result{err: &apiError{errorInternal, err}}
	}
	return result{data: struct {
		Alerts []alertJSON `json:"alerts"`
	}{alerts}}
}

// activeAlerts are the tenant's pending and firing SLO alerts: each
// alert's latest transition within the lookback.
func (a *API) activeAlerts(r *http.Request, org string) ([]alertJSON, error) {
	out := []alertJSON{}
	if a.Events == nil {
		return out, nil
	}
	now := a.now()
	evs, err := slo.AlertTransitions.Read(r.Context(), a.Events, store.EventQuery{Tenant: org, Start: now.Add(-alertLookback), End: now.Add(time.Minute)})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, ev := range evs { // newest first: an alert's first event is its state
		tr := ev.Value
		if seen[tr.Fingerprint] {
			continue
		}
		seen[tr.Fingerprint] = true
		if tr.State == slo.StateFiring || tr.State == slo.StatePending {
			at := tr.StartsAt
			out = append(out, alertJSON{Labels: tr.Labels, Annotations: orEmpty(tr.Annotations), State: string(tr.State), ActiveAt: &at})
		}
	}
	return out, nil
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// tenantSLOs are the configured SLOs of a tenant.
func (a *API) tenantSLOs(org string) []*slo.SLO {
	if a.SLOs == nil {
		return nil
	}
	var out []*slo.SLO
	for _, s := range a.SLOs() {
		if s.Tenant == org || s.Tenant == "" && org == store.DefaultTenant {
			out = append(out, s)
		}
	}
	return out
}

// sloFile is where an SLO is defined, without the line.
func sloFile(s *slo.SLO) string {
	if i := strings.LastIndexByte(s.File, ':'); i > 0 {
		return s.File[:i]
	}
	return s.File
}
