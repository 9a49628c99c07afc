package slo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"sync"
	"time"

	"github.com/vigil-dev/vigil/alert"
	"github.com/vigil-dev/vigil/store"
)

// Alert names: burn-rate alerts, and (for SLOs whose policy asks for it)
// windows without events.
const (
	AlertName       = "SLOBurnRateHigh"
	NoDataAlertName = "SLONoData"
)

// AlertState is where an alert is in its lifecycle.
type AlertState string

const (
	StatePending  AlertState = "pending"  // its rule fires, for less than its For so far
	StateFiring   AlertState = "firing"   // notified
	StateResolved AlertState = "resolved" // its rule stopped firing after it fired
	StateInactive AlertState = "inactive" // its rule stopped firing before it fired
)

// AlertTransition is an alert entering a state: the record of slo.alert
// events, and what receivers are notified of.
type AlertTransition struct {
	SLO         string            `json:"slo"`
	Fingerprint string            `json:"fingerprint"` // alert.Fingerprint of Labels
	State       AlertState        `json:"state"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// StartsAt is when the alert started firing; for a pending or an
	// inactive alert, when it started pending.
	StartsAt time.Time `json:"starts_at"`
	// SendResolved: the SLO's policy sends resolutions to receivers.
	SendResolved bool `json:"send_resolved"`
}

// AlertTransitions is the codec of alert events.
var AlertTransitions = store.Codec[AlertTransition]{Kind: store.KindAlert, Type: "slo.alert", Version: 1}

// Publisher hands events that must leave the process to the dispatcher.
type Publisher interface {
	Publish(events ...store.Event)
}

// Alerter turns firing burn-rate rules into alerts with a lifecycle:
//
//   - A rule that starts firing is pending while it has fired for less than
//     its For (OpenSLO's alertAfter), and firing after; a rule without For
//     fires at once. A pending alert that stops is inactive, unsent.
//   - A firing alert is published every evaluation, with its current
//     annotations, so receivers (Alertmanager) keep it alive.
//   - When its rule stops firing it is resolved, and the resolution is
//     published once; delivering it, retries included, is the dispatcher's.
//
// Every state change is an alert event, written before anything is
// published: when the write fails, nothing changes and the evaluation is
// tried again at the next tick. A restart restores firing alerts from their
// events (see Restore). An alert is identified by its labels (SLO,
// severity, windows, tenant), so repeats deduplicate in Alertmanager.
type Alerter struct {
	Events    store.EventWriter // nil records nothing (tests)
	Publisher Publisher         // nil publishes nothing
	Interval  time.Duration     // the evaluation interval

	mu     sync.Mutex
	active map[string]*tracked // guarded by mu: pending and firing alerts by fingerprint
}

// tracked is an alert the Alerter holds.
type tracked struct {
	AlertTransition             // its current state
	since           time.Time   // when its rule started firing (pending from)
	firing          store.Event // its firing event, re-published every evaluation
}

// ActiveAlert is an alert the Alerter holds, with its state.
type ActiveAlert struct {
	alert.Alert
	State AlertState // pending or firing
}

// Active lists the alerts held: pending and firing.
func (a *Alerter) Active() []ActiveAlert {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]ActiveAlert, 0, len(a.active))
	for _, t := range a.active {
		out = append(out, ActiveAlert{Alert: alert.Alert{Labels: t.Labels, Annotations: t.Annotations, StartsAt: t.StartsAt}, State: t.State})
	}
	sort.Slice(out, func(i, j int) bool { return alert.Fingerprint(out[i].Labels) < alert.Fingerprint(out[j].Labels) })
	return out
}

// Evaluation is what one tick of the SLO evaluator hands the Alerter.
type Evaluation struct {
	// Statuses are the SLOs judged.
	Statuses []Status
	// Unjudged are SLOs this replica owns but could not judge this time:
	// their alerts stay as they are (firing ones are still published).
	Unjudged []*SLO
	// Defined is every SLO the config defines, whoever owns it. An alert
	// of an SLO defined but neither judged nor unjudged here belongs to
	// another replica now, and is let go unresolved (the owner takes it
	// up); an alert of an SLO no longer defined is resolved.
	Defined []*SLO
}

// Update applies an evaluation: it records every state change, then
// publishes what receivers must hear (alerts firing, resolutions).
func (a *Alerter) Update(ctx context.Context, e Evaluation, now time.Time) error {
	a.mu.Lock()
	p, err := a.plan(e, now)
	a.mu.Unlock()
	if err != nil {
		return err
	}
	if a.Events != nil && len(p.record) > 0 {
		if err := a.Events.WriteEvents(ctx, p.record); err != nil {
			return fmt.Errorf("cannot record alert transitions (they are judged again next tick): %w", err)
		}
	}
	a.mu.Lock()
	a.active = p.next
	a.mu.Unlock()
	if a.Publisher != nil && len(p.publish) > 0 {
		a.Publisher.Publish(p.publish...)
	}
	return nil
}

// update is what one evaluation changes.
type update struct {
	next    map[string]*tracked // the alerts held after it
	record  []store.Event       // transitions, to write
	publish []store.Event       // transitions and firing alerts, for receivers
}

// plan works out an evaluation's changes without applying them; mu held.
func (a *Alerter) plan(e Evaluation, now time.Time) (update, error) {
	u := update{next: make(map[string]*tracked, len(a.active))}
	for fp, t := range a.active {
		c := *t
		u.next[fp] = &c
	}
	transition := func(t *tracked, state AlertState) error {
		t.State = state
		ev, err := a.event(t, now)
		if err != nil {
			return err
		}
		u.record = append(u.record, ev)
		switch state {
		case StateFiring:
			t.firing = ev
		case StateResolved:
			u.publish = append(u.publish, ev)
		}
		return nil
	}
	current := raised(e.Statuses)
	for fp, r := range current {
		t, held := u.next[fp]
		if !held {
			t = &tracked{since: now, AlertTransition: AlertTransition{SLO: r.slo.Name, Fingerprint: fp, Labels: r.labels, StartsAt: now}}
			u.next[fp] = t
		}
		t.Annotations, t.SendResolved = r.annotations, r.sendResolved
		if !held && r.forDuration > 0 {
			if err := transition(t, StatePending); err != nil {
				return u, err
			}
		}
		if (!held || t.State == StatePending) && now.Sub(t.since) >= r.forDuration {
			t.StartsAt = now
			if err := transition(t, StateFiring); err != nil {
				return u, err
			}
		}
	}
	evaluated, kept, defined := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, st := range e.Statuses {
		evaluated[st.SLO.tenant()+"/"+st.SLO.Name] = true
	}
	for _, s := range e.Unjudged {
		kept[s.tenant()+"/"+s.Name] = true
	}
	for _, s := range e.Defined {
		defined[s.tenant()+"/"+s.Name] = true
	}
	for fp, t := range u.next {
		key := t.Labels["tenant"] + "/" + t.SLO
		if _, still := current[fp]; still || kept[key] {
			continue
		}
		if evaluated[key] || !defined[key] {
			end := map[AlertState]AlertState{StatePending: StateInactive, StateFiring: StateResolved}[t.State]
			if end != "" {
				if err := transition(t, end); err != nil {
					return u, err
				}
			}
		}
		// Resolved (its rule stopped, or its SLO is gone), or another
		// replica evaluates this SLO now and takes the alert up from its
		// events (see Restore).
		delete(u.next, fp)
	}
	for _, t := range u.next {
		if t.State == StateFiring {
			refresh, err := AlertTransitions.Event(t.firing, t.AlertTransition)
			if err != nil {
				return u, err
			}
			u.publish = append(u.publish, refresh)
		}
	}
	return u, nil
}

// event records an alert's transition into its current state. The states
// of one alert are events identified by the alert, the time it started
// (pending, or firing) and the state.
func (a *Alerter) event(t *tracked, now time.Time) (store.Event, error) {
	tr := t.AlertTransition
	if tr.State == StatePending || tr.State == StateInactive {
		tr.StartsAt = t.since
	}
	tenant := tr.Labels["tenant"]
	if tenant == "" {
		tenant = store.DefaultTenant
	}
	severity := tr.Labels["severity"]
	return AlertTransitions.Event(store.Event{
		Tenant: tenant, ID: store.EventID(store.KindAlert, tr.Fingerprint, tr.StartsAt.Format(time.RFC3339), string(tr.State)),
		Subject: tr.SLO, Severity: severity, Time: now,
		Summary: fmt.Sprintf("%s %s: %s", tr.State, severity, tr.Annotations["summary"]),
	}, tr)
}

// alertLabels are a burn-rate alert's labels: the SLO's and the rule's
// own (Sloth's and Pyrra's), under Vigil's, which identify the alert.
func alertLabels(st Status, b WindowBurn) map[string]string {
	out := map[string]string{}
	maps.Copy(out, st.SLO.Labels)
	maps.Copy(out, b.Rule.Labels)
	maps.Copy(out, map[string]string{
		"alertname": AlertName, "slo": st.SLO.Name, "service": st.SLO.Service, "severity": b.Rule.Severity,
		"long_window": formatDuration(b.Rule.Long), "short_window": formatDuration(b.Rule.Short), "tenant": st.SLO.tenant(),
	})
	return out
}

// reservedLabels are the labels Vigil's alerts carry of their own; an SLO
// file's labels of these names are left out, with a warning.
var reservedLabels = map[string]string{
	"alertname": "the alert's name", "slo": "the SLO's name", "service": "the SLO's service", "severity": "page or ticket",
	"long_window": "the rule's long window", "short_window": "the rule's short window", "tenant": "the SLO's tenant",
}

// firingRule is one alert an evaluation raises.
type firingRule struct {
	labels, annotations map[string]string
	forDuration         time.Duration
	sendResolved        bool
	slo                 *SLO
}

// raised lists the alerts the statuses raise, by fingerprint.
func raised(statuses []Status) map[string]firingRule {
	out := map[string]firingRule{}
	for _, st := range statuses {
		policy := st.SLO.policy()
		if policy.NoData && st.State == "no data" {
			labels := maps.Clone(st.SLO.Labels)
			if labels == nil {
				labels = map[string]string{}
			}
			maps.Copy(labels, map[string]string{"alertname": NoDataAlertName, "slo": st.SLO.Name, "service": st.SLO.Service, "severity": "ticket", "tenant": st.SLO.tenant()})
			out[alert.Fingerprint(labels)] = firingRule{labels: labels, sendResolved: policy.Resolved, slo: st.SLO, annotations: map[string]string{
				"summary":     fmt.Sprintf("SLO %s has no events over %s", st.SLO.Name, st.SLO.Window),
				"description": "No event matched the SLI: the service may be down, or its telemetry may not reach Vigil.",
			}}
		}
		if !policy.Breaching {
			continue
		}
		for _, b := range st.Burns {
			if !b.Firing {
				continue
			}
			labels := alertLabels(st, b)
			annotations := maps.Clone(b.Rule.Annotations)
			if annotations == nil {
				annotations = map[string]string{}
			}
			// Vigil's summary and description stand unless the SLO file
			// writes its own (Sloth's alerting.annotations.summary).
			if annotations["summary"] == "" {
				annotations["summary"] = fmt.Sprintf("SLO %s is burning its error budget %.1fx too fast", st.SLO.Name, b.LongRate)
			}
			if annotations["description"] == "" {
				annotations["description"] = fmt.Sprintf("Burn rate %.2f over %s and %.2f over %s, above %s (objective %s, SLI %.5f over %s).",
					b.LongRate, formatDuration(b.Rule.Long), b.ShortRate, formatDuration(b.Rule.Short), formatFactor(b.Rule.Factor),
					formatPercent(st.SLO.Objective), st.Budget.SLI, formatDuration(st.SLO.Window.Duration))
			}
			out[alert.Fingerprint(labels)] = firingRule{labels: labels, forDuration: b.Rule.For, sendResolved: policy.Resolved, slo: st.SLO, annotations: annotations}
		}
	}
	return out
}

// Restore takes up the alerts that were firing when Vigil stopped, from
// their events over the lookback, so after a restart they keep their
// StartsAt, and are resolved (and the resolution published) if their rule
// no longer fires. Pending alerts start their For again, as in Prometheus
// without its for-state. An event that does not decode is named in the
// error and passed over; the others are restored all the same.
func (a *Alerter) Restore(ctx context.Context, r store.EventReader, slos []*SLO, now time.Time, lookback time.Duration) error {
	wanted := map[string]map[string]bool{} // tenant → SLO names
	for _, s := range slos {
		if wanted[s.tenant()] == nil {
			wanted[s.tenant()] = map[string]bool{}
		}
		wanted[s.tenant()][s.Name] = true
	}
	restored := map[string]*tracked{}
	var errs []error
	for tenant, names := range wanted {
		evs, err := AlertTransitions.Read(ctx, r, store.EventQuery{Tenant: tenant, Start: now.Add(-lookback), End: now.Add(time.Minute)})
		var bad *store.PayloadError
		if err != nil && !errors.As(err, &bad) {
			return fmt.Errorf("cannot restore alerts: %w", err)
		}
		errs = append(errs, err)
		seen := map[string]bool{}
		for _, ev := range evs { // newest first: the first event of an alert is its state
			tr := ev.Value
			if seen[tr.Fingerprint] || !names[tr.SLO] {
				continue
			}
			seen[tr.Fingerprint] = true
			if tr.State == StateFiring {
				restored[tr.Fingerprint] = &tracked{AlertTransition: tr, since: tr.StartsAt, firing: ev.Event}
			}
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.active == nil {
		a.active = map[string]*tracked{}
	}
	for fp, t := range restored {
		if _, held := a.active[fp]; !held {
			a.active[fp] = t
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("restoring alerts, some events were passed over: %w", err)
	}
	return nil
}
