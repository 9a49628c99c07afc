package slo

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/vigil-dev/vigil/alert"
	"github.com/vigil-dev/vigil/store"
)

// AlertName is the alertname label of burn-rate alerts.
const AlertName = "SLOBurnRateHigh"

// Alerter turns firing burn-rate rules into alerts with a lifecycle: an
// alert fires when its rule starts firing (StartsAt is that evaluation), is
// re-sent every evaluation while it fires, with EndsAt a few evaluations
// ahead so it expires if Vigil stops, and is resolved once when the rule
// stops firing. An alert is identified by its labels (SLO, severity,
// windows, tenant), so repeats deduplicate in Alertmanager. Every firing
// and resolution is also recorded as an alert event.
type Alerter struct {
	Notifier alert.Notifier    // nil sends nothing
	Events   store.EventWriter // nil records nothing
	Interval time.Duration     // the evaluation interval
	// Silences, when set, is read every update: alerts a silence in force
	// matches are not sent (they still fire, and are still recorded).
	Silences store.EventReader

	mu     sync.Mutex
	active map[string]alert.Alert // guarded by mu: by fingerprint
}

// Active lists the firing alerts.
func (a *Alerter) Active() []alert.Alert {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]alert.Alert, 0, len(a.active))
	for _, al := range a.active {
		out = append(out, al)
	}
	return out
}

func alertLabels(st Status, b WindowBurn) map[string]string {
	return map[string]string{
		"alertname": AlertName, "slo": st.SLO.Name, "service": st.SLO.Service, "severity": b.Rule.Severity,
		"long_window": formatDuration(b.Rule.Long), "short_window": formatDuration(b.Rule.Short), "tenant": st.SLO.tenant(),
	}
}

// Update applies an evaluation's statuses and sends what changed or still
// fires.
func (a *Alerter) Update(ctx context.Context, statuses []Status, now time.Time) error {
	a.mu.Lock()
	if a.active == nil {
		a.active = map[string]alert.Alert{}
	}
	interval := a.Interval
	if interval < time.Minute {
		interval = time.Minute
	}
	var send []alert.Alert
	var events []store.Event
	firing := map[string]bool{}
	for _, st := range statuses {
		for _, b := range st.Burns {
			if !b.Firing {
				continue
			}
			labels := alertLabels(st, b)
			fp := alert.Fingerprint(labels)
			firing[fp] = true
			al, ok := a.active[fp]
			if !ok {
				al = alert.Alert{Labels: labels, StartsAt: now}
				events = append(events, alertEvent(st, al, fp, "firing", now))
			}
			al.EndsAt = now.Add(3 * interval)
			al.Annotations = map[string]string{
				"summary": fmt.Sprintf("SLO %s is burning its error budget %.1fx too fast", st.SLO.Name, b.LongRate),
				"description": fmt.Sprintf("Burn rate %.2f over %s and %.2f over %s, above %s (objective %s, SLI %.5f over %s).",
					b.LongRate, formatDuration(b.Rule.Long), b.ShortRate, formatDuration(b.Rule.Short), formatFactor(b.Rule.Factor),
					formatPercent(st.SLO.Objective), st.Budget.SLI, formatDuration(st.SLO.Window.Duration)),
			}
			a.active[fp] = al
			send = append(send, al)
		}
	}
	for fp, al := range a.active {
		if firing[fp] {
			continue
		}
		al.EndsAt = now
		send = append(send, al)
		events = append(events, alertEvent(Status{SLO: &SLO{Name: al.Labels["slo"], Tenant: al.Labels["tenant"]}}, al, fp, "resolved", now))
		delete(a.active, fp)
	}
	a.mu.Unlock()

	send, serr := a.unsilenced(ctx, send, now)
	var err error = serr
	if a.Events != nil && len(events) > 0 {
		err = a.Events.WriteEvents(ctx, events)
	}
	if a.Notifier != nil && len(send) > 0 {
		if nerr := a.Notifier.Notify(ctx, send); nerr != nil {
			err = nerr
		}
	}
	return err
}

// unsilenced drops the alerts a silence in force matches.
func (a *Alerter) unsilenced(ctx context.Context, alerts []alert.Alert, now time.Time) ([]alert.Alert, error) {
	if a.Silences == nil || len(alerts) == 0 {
		return alerts, nil
	}
	byTenant := map[string][]Silence{}
	out := alerts[:0:0]
	for _, al := range alerts {
		tenant := al.Labels["tenant"]
		sil, ok := byTenant[tenant]
		if !ok {
			var err error
			if sil, err = Silences(ctx, a.Silences, tenant, now); err != nil {
				return alerts, fmt.Errorf("cannot read silences: %w", err)
			}
			byTenant[tenant] = sil
		}
		muted := false
		for _, s := range sil {
			muted = muted || s.Matches(al.Labels)
		}
		if !muted {
			out = append(out, al)
		}
	}
	return out, nil
}

func alertEvent(st Status, al alert.Alert, fp, state string, now time.Time) store.Event {
	var attrs store.Attributes
	for k, v := range al.Labels {
		attrs = append(attrs, store.KeyValue{Key: k, Value: v})
	}
	attrs = append(attrs.SortedCopy(), store.KeyValue{Key: "fingerprint", Value: fp}, store.KeyValue{Key: "state", Value: state})
	// The firing and the resolution of one alert are two events; both are
	// identified by the alert and the time it started firing.
	return store.Event{
		Tenant: st.SLO.tenant(), ID: store.EventID(store.KindAlert, fp, al.StartsAt.Format(time.RFC3339), state),
		Kind: store.KindAlert, Type: "slo.burn_rate", Subject: st.SLO.Name, Severity: al.Labels["severity"], Time: now,
		Summary: fmt.Sprintf("%s %s: %s", state, al.Labels["severity"], al.Annotations["summary"]), Attributes: attrs,
	}
}
