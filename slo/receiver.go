package slo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/alert"
	"github.com/vigil-dev/vigil/dispatch"
	"github.com/vigil-dev/vigil/store"
)

// Receiver notifies one alert receiver (Alertmanager, a webhook, Slack) of
// alert transitions: the dispatcher's subscriber for it.
type Receiver struct {
	Notifier alert.Notifier
	// Silences, when set, is read at every delivery: alerts a silence in
	// force matches are not sent (they still fire, and are still
	// recorded), and the attempt is logged as skipped.
	Silences store.EventReader
	// Interval is the evaluation interval: a firing alert is sent with
	// EndsAt three intervals ahead, so Alertmanager expires it if Vigil
	// stops sending.
	Interval time.Duration
	Now      func() time.Time // nil means time.Now
}

var _ dispatch.Subscriber = (*Receiver)(nil)

// Name implements dispatch.Subscriber.
func (r *Receiver) Name() string { return r.Notifier.Name() }

// Types implements dispatch.Subscriber.
func (r *Receiver) Types() []string { return []string{AlertTransitions.Type} }

// Accepts implements dispatch.Subscriber: firing alerts, and resolutions
// where the SLO's policy sends them. A transition that does not decode is
// taken too, so that Deliver names it in the delivery log.
func (r *Receiver) Accepts(ev store.Event) bool {
	tr, err := AlertTransitions.Decode(ev)
	return err != nil || tr.State == StateFiring || tr.State == StateResolved && tr.SendResolved
}

// Deliver implements dispatch.Subscriber: the latest state of each alert
// in the batch, less what is silenced, in one notification. A refusal
// (4xx but 408 and 429) is final; anything else is retried.
func (r *Receiver) Deliver(ctx context.Context, tenant string, events []store.Event) (dispatch.Report, error) {
	report := dispatch.Report{Target: r.Notifier.Target()}
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	latest := map[string]alert.Alert{}
	for _, ev := range events { // oldest first: a later state replaces an earlier one
		tr, err := AlertTransitions.Decode(ev)
		if err != nil {
			return report, dispatch.Permanent(err)
		}
		a := alert.Alert{Labels: tr.Labels, Annotations: tr.Annotations, StartsAt: tr.StartsAt, EndsAt: now.Add(3 * max(r.Interval, time.Minute))}
		if tr.State == StateResolved {
			a.EndsAt = ev.Time
		}
		latest[tr.Fingerprint] = a
	}
	silences, err := r.silences(ctx, tenant, now)
	var bad *store.PayloadError
	switch {
	case errors.As(err, &bad):
		// A silence that cannot be read mutes nothing: better a page too
		// many than one lost. The log says which.
		report.Note = err.Error()
	case err != nil:
		return report, err
	}
	var send []alert.Alert
	muted := 0
	for _, fp := range slices.Sorted(maps.Keys(latest)) {
		a := latest[fp]
		if slices.ContainsFunc(silences, func(s Silence) bool { return s.Matches(a.Labels) }) {
			muted++
			continue
		}
		send = append(send, a)
		report.Keys = append(report.Keys, fp)
	}
	if len(send) == 0 {
		report.Skipped, report.Note = true, strings.TrimPrefix(report.Note+"; ", "; ")+fmt.Sprintf("silenced: %d alert(s)", muted)
		return report, nil
	}
	status, err := r.Notifier.Notify(ctx, send)
	report.Status = status
	if err != nil && !alert.Retryable(status) {
		err = dispatch.Permanent(err)
	}
	return report, err
}

func (r *Receiver) silences(ctx context.Context, tenant string, now time.Time) ([]Silence, error) {
	if r.Silences == nil {
		return nil, nil
	}
	s, err := ActiveSilences(ctx, r.Silences, tenant, now)
	if err != nil {
		return nil, fmt.Errorf("cannot read silences: %w", err)
	}
	return s, nil
}
