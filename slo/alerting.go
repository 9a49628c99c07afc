package slo

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
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

// Alerter turns firing burn-rate rules into alerts with a lifecycle:
//
//   - A rule that starts firing is pending while it has fired for less than
//     its For (OpenSLO's alertAfter), and firing after; a rule without For
//     fires at once. A pending alert that stops is dropped, unsent.
//   - A firing alert is sent every evaluation, with EndsAt a few
//     evaluations ahead so Alertmanager expires it if Vigil stops.
//   - When its rule stops firing it is resolved: the resolution is sent
//     every evaluation until a delivery succeeds, and only then recorded, so
//     neither a failing receiver nor a restart loses it (a restart restores
//     firing alerts from their events; see Restore).
//
// An alert is identified by its labels (SLO, severity, windows, tenant), so
// repeats deduplicate in Alertmanager. Each state change is an alert event.
type Alerter struct {
	Notifier alert.Notifier    // nil sends nothing
	Events   store.EventWriter // nil records nothing
	Interval time.Duration     // the evaluation interval
	// Silences, when set, is read every update: alerts a silence in force
	// matches are not sent (they still fire, and are still recorded).
	Silences store.EventReader

	mu     sync.Mutex
	active map[string]*tracked // guarded by mu: by fingerprint
}

// tracked is an alert and where it is in its lifecycle.
type tracked struct {
	alert.Alert
	state    string    // pending, firing or resolving
	since    time.Time // when the rule started firing (pending from)
	resolved bool      // whether the policy sends resolutions
	slo      string
}

// ActiveAlert is an alert the Alerter holds, with its state.
type ActiveAlert struct {
	alert.Alert
	State string // pending, firing or resolving (resolved, not yet delivered)
}

// Active lists the alerts held: pending, firing and resolving.
func (a *Alerter) Active() []ActiveAlert {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]ActiveAlert, 0, len(a.active))
	for _, t := range a.active {
		out = append(out, ActiveAlert{Alert: t.Alert, State: t.state})
	}
	sort.Slice(out, func(i, j int) bool { return alert.Fingerprint(out[i].Labels) < alert.Fingerprint(out[j].Labels) })
	return out
}

func alertLabels(st Status, b WindowBurn) map[string]string {
	return map[string]string{
		"alertname": AlertName, "slo": st.SLO.Name, "service": st.SLO.Service, "severity": b.Rule.Severity,
		"long_window": formatDuration(b.Rule.Long), "short_window": formatDuration(b.Rule.Short), "tenant": st.SLO.tenant(),
	}
}

// firingRule is one alert an evaluation raises.
type firingRule struct {
	labels, annotations map[string]string
	forDuration         time.Duration
	resolved            bool
	slo                 *SLO
}

// raised lists the alerts the statuses raise, by fingerprint.
func raised(statuses []Status) map[string]firingRule {
	out := map[string]firingRule{}
	for _, st := range statuses {
		policy := st.SLO.policy()
		if policy.NoData && st.State == "no data" {
			labels := map[string]string{"alertname": NoDataAlertName, "slo": st.SLO.Name, "service": st.SLO.Service, "severity": "ticket", "tenant": st.SLO.tenant()}
			out[alert.Fingerprint(labels)] = firingRule{labels: labels, resolved: policy.Resolved, slo: st.SLO, annotations: map[string]string{
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
			out[alert.Fingerprint(labels)] = firingRule{labels: labels, forDuration: b.Rule.For, resolved: policy.Resolved, slo: st.SLO, annotations: map[string]string{
				"summary": fmt.Sprintf("SLO %s is burning its error budget %.1fx too fast", st.SLO.Name, b.LongRate),
				"description": fmt.Sprintf("Burn rate %.2f over %s and %.2f over %s, above %s (objective %s, SLI %.5f over %s).",
					b.LongRate, formatDuration(b.Rule.Long), b.ShortRate, formatDuration(b.Rule.Short), formatFactor(b.Rule.Factor),
					formatPercent(st.SLO.Objective), st.Budget.SLI, formatDuration(st.SLO.Window.Duration)),
			}}
		}
	}
	return out
}

// Update applies an evaluation's statuses and sends what fires, what
// resolved and what is still to be delivered. Unjudged are SLOs this
// replica owns but could not judge this time: their alerts stay as they
// are (firing ones are re-sent). Alerts of any other SLO not among the
// statuses belong to another replica now, and are let go unresolved.
func (a *Alerter) Update(ctx context.Context, statuses []Status, unjudged []*SLO, now time.Time) error {
	a.mu.Lock()
	if a.active == nil {
		a.active = map[string]*tracked{}
	}
	interval := max(a.Interval, time.Minute)
	var events []store.Event
	for fp, r := range raised(statuses) {
		t, ok := a.active[fp]
		if !ok || t.state == "resolving" {
			// A resolving alert that fires again before its resolution was
			// delivered simply goes on firing.
			if !ok {
				t = &tracked{state: "pending", since: now, slo: r.slo.Name}
				t.Labels = r.labels
				a.active[fp] = t
			}
			if ok {
				t.state = "firing"
			} else if r.forDuration > 0 {
				events = append(events, alertEvent(r.slo.tenant(), t, fp, "pending", now))
			}
		}
		t.Annotations, t.resolved = r.annotations, r.resolved
		if t.state == "pending" && now.Sub(t.since) >= r.forDuration {
			t.state, t.StartsAt = "firing", now
			events = append(events, alertEvent(r.slo.tenant(), t, fp, "firing", now))
		}
		t.EndsAt = now.Add(3 * interval)
	}
	current := raised(statuses)
	evaluated, held := map[string]bool{}, map[string]bool{}
	for _, st := range statuses {
		evaluated[st.SLO.tenant()+"/"+st.SLO.Name] = true
	}
	for _, s := range unjudged {
		held[s.tenant()+"/"+s.Name] = true
	}
	for fp, t := range a.active {
		if _, still := current[fp]; still {
			continue
		}
		if held[t.Labels["tenant"]+"/"+t.slo] {
			if t.state == "firing" {
				t.EndsAt = now.Add(3 * interval)
			}
			continue
		}
		if !evaluated[t.Labels["tenant"]+"/"+t.slo] {
			// Another replica evaluates this SLO now; it takes the alert
			// up from its events (see Restore).
			delete(a.active, fp)
			continue
		}
		switch t.state {
		case "pending":
			events = append(events, alertEvent(t.Labels["tenant"], t, fp, "inactive", now))
			delete(a.active, fp)
		case "firing":
			t.state, t.EndsAt = "resolving", now
		}
	}
	var send []alert.Alert
	var resolving []string
	for fp, t := range a.active {
		switch {
		case t.state == "firing":
			send = append(send, t.Alert)
		case t.state == "resolving" && t.resolved:
			send = append(send, t.Alert)
			resolving = append(resolving, fp)
		case t.state == "resolving": // the policy does not send resolutions
			events = append(events, alertEvent(t.Labels["tenant"], t, fp, "resolved", t.EndsAt))
			delete(a.active, fp)
		}
	}
	a.mu.Unlock()

	send, serr := a.unsilenced(ctx, send, now)
	err := serr
	var nerr error
	if a.Notifier != nil && len(send) > 0 {
		nerr = a.notify(ctx, send)
	}
	if nerr == nil && serr == nil {
		// Every resolution is delivered (or silenced, or there is nowhere
		// to deliver): record it and forget the alert.
		a.mu.Lock()
		for _, fp := range resolving {
			if t := a.active[fp]; t != nil && t.state == "resolving" {
				events = append(events, alertEvent(t.Labels["tenant"], t, fp, "resolved", t.EndsAt))
				delete(a.active, fp)
			}
		}
		a.mu.Unlock()
	}
	if a.Events != nil && len(events) > 0 {
		if werr := a.Events.WriteEvents(ctx, events); werr != nil {
			err = werr
		}
	}
	return errors.Join(err, nerr)
}

// notify sends each tenant's alerts on their own, so a receiver sees one
// tenant per notification and the delivery log knows whose attempt it was.
func (a *Alerter) notify(ctx context.Context, alerts []alert.Alert) error {
	byTenant := map[string][]alert.Alert{}
	for _, al := range alerts {
		byTenant[al.Labels["tenant"]] = append(byTenant[al.Labels["tenant"]], al)
	}
	var errs []error
	tenants := make([]string, 0, len(byTenant))
	for t := range byTenant {
		tenants = append(tenants, t)
	}
	sort.Strings(tenants)
	for _, t := range tenants {
		if err := a.Notifier.Notify(context.WithValue(ctx, tenantKey{}, t), byTenant[t]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

type tenantKey struct{}

// DeliveryType is the event type of delivery attempts.
const DeliveryType = "alert.delivery"

// LogDelivery records a delivery attempt as an event of the tenant whose
// alerts it carried: the delivery log, which outlives restarts. Wire it as
// the notifiers' alert.Delivery.Observe.
func (a *Alerter) LogDelivery(ctx context.Context, at alert.Attempt) {
	if a.Events == nil {
		return
	}
	tenant, _ := ctx.Value(tenantKey{}).(string)
	if tenant == "" {
		tenant = store.DefaultTenant
	}
	outcome := "delivered"
	switch {
	case at.Error != "" && at.Final:
		outcome = "failed"
	case at.Error != "":
		outcome = "retrying"
	}
	attrs := store.Attributes{
		{Key: "receiver", Value: at.Receiver}, {Key: "url", Value: at.URL}, {Key: "try", Value: strconv.Itoa(at.Try)},
		{Key: "status", Value: strconv.Itoa(at.Status)}, {Key: "latency_ms", Value: strconv.FormatFloat(float64(at.Latency)/1e6, 'f', 3, 64)},
		{Key: "outcome", Value: outcome}, {Key: "fingerprints", Value: strings.Join(at.Fingerprints, ",")},
	}
	if at.Error != "" {
		attrs = append(attrs, store.KeyValue{Key: "error", Value: at.Error})
	}
	ev := store.Event{Tenant: tenant, Kind: store.KindDelivery, Type: DeliveryType, Subject: at.Receiver, Time: at.At,
		ID:      store.EventID(store.KindDelivery, at.Receiver, at.URL, at.At.Format(time.RFC3339Nano), strconv.Itoa(at.Try)),
		Summary: fmt.Sprintf("%s to %s, try %d: %s", outcome, at.Receiver, at.Try, strings.Join(at.Fingerprints, ",")), Attributes: attrs}
	// The log must not hold up delivery; a failed write is lost from the
	// log only, never the notification.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = a.Events.WriteEvents(wctx, []store.Event{ev})
}

// Restore takes up the alerts that were firing when Vigil stopped, from
// their events over the lookback, so after a restart they keep their
// StartsAt, and are resolved (and the resolution sent) if their rule no
// longer fires. Pending alerts start their For again, as in Prometheus
// without its for-state.
func (a *Alerter) Restore(ctx context.Context, r store.EventReader, slos []*SLO, now time.Time, lookback time.Duration) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.active == nil {
		a.active = map[string]*tracked{}
	}
	wanted := map[string]map[string]*SLO{} // tenant → SLO name → SLO
	for _, s := range slos {
		if wanted[s.tenant()] == nil {
			wanted[s.tenant()] = map[string]*SLO{}
		}
		wanted[s.tenant()][s.Name] = s
	}
	for tenant, names := range wanted {
		evs, err := r.Events(ctx, store.EventQuery{Tenant: tenant, Kinds: []store.EventKind{store.KindAlert}, Start: now.Add(-lookback), End: now.Add(time.Minute)})
		if err != nil {
			return fmt.Errorf("cannot restore alerts: %w", err)
		}
		seen := map[string]bool{}
		for _, ev := range evs { // newest first: the first event of an alert is its state
			fp, _ := ev.Attributes.Get("fingerprint")
			if fp == "" || seen[fp] || names[ev.Subject] == nil {
				continue
			}
			seen[fp] = true
			state, _ := ev.Attributes.Get("state")
			if state != "firing" {
				continue
			}
			t := &tracked{state: "firing", slo: ev.Subject, resolved: names[ev.Subject].policy().Resolved}
			t.Labels = map[string]string{}
			for _, kv := range ev.Attributes {
				switch kv.Key {
				case "fingerprint", "state":
				case "starts_at":
					t.StartsAt, _ = time.Parse(time.RFC3339Nano, kv.Value)
				default:
					t.Labels[kv.Key] = kv.Value
				}
			}
			t.since = t.StartsAt
			if _, held := a.active[fp]; !held {
				a.active[fp] = t
			}
		}
	}
	return nil
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

func alertEvent(tenant string, t *tracked, fp, state string, now time.Time) store.Event {
	var attrs store.Attributes
	for k, v := range t.Labels {
		attrs = append(attrs, store.KeyValue{Key: k, Value: v})
	}
	at := t.StartsAt
	if state == "pending" || state == "inactive" {
		at = t.since
	}
	attrs = append(attrs.SortedCopy(), store.KeyValue{Key: "fingerprint", Value: fp}, store.KeyValue{Key: "state", Value: state},
		store.KeyValue{Key: "starts_at", Value: at.Format(time.RFC3339Nano)})
	if tenant == "" {
		tenant = store.DefaultTenant
	}
	// The states of one alert are events identified by the alert and the
	// time it started (firing, or pending).
	return store.Event{
		Tenant: tenant, ID: store.EventID(store.KindAlert, fp, at.Format(time.RFC3339), state),
		Kind: store.KindAlert, Type: "slo.burn_rate", Subject: t.slo, Severity: t.Labels["severity"], Time: now,
		Summary: fmt.Sprintf("%s %s: %s", state, t.Labels["severity"], t.Annotations["summary"]), Attributes: attrs,
	}
}
