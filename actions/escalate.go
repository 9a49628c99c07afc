package actions

import (
	"context"
	"time"

	"github.com/vigil-dev/vigil/alert"
	"github.com/vigil-dev/vigil/dispatch"
	"github.com/vigil-dev/vigil/store"
)

// Escalation pages a person about a failed action through an alert
// receiver (Alertmanager, a webhook, Slack): the dispatcher's subscriber
// for it, one per receiver.
type Escalation struct {
	Notifier alert.Notifier
	Now      func() time.Time // nil is time.Now
}

// AlertName is the alert a failed action raises.
const AlertName = "VigilActionFailed"

func (s *Escalation) Name() string    { return "actions-escalation-" + s.Notifier.Name() }
func (s *Escalation) Types() []string { return []string{Transitions.Type} }

// Accepts takes failed actions.
func (s *Escalation) Accepts(ev store.Event) bool {
	t, err := Transitions.Decode(ev)
	return err == nil && t.State == Failed
}

// Deliver sends one alert per failed action of the batch. A refusal is
// final; anything else is retried.
func (s *Escalation) Deliver(ctx context.Context, tenant string, events []store.Event) (dispatch.Report, error) {
	report := dispatch.Report{Target: s.Notifier.Target()}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	alerts := make([]alert.Alert, 0, len(events))
	for _, ev := range events {
		t, err := Transitions.Decode(ev)
		if err != nil {
			return report, dispatch.Permanent(err)
		}
		alerts = append(alerts, alert.Alert{
			Labels: map[string]string{"alertname": AlertName, "severity": "page", "tenant": tenant,
				"policy": t.Policy, "action": t.Action, "target": t.Target.String()},
			Annotations: map[string]string{"summary": ev.Summary, "description": t.Reason},
			StartsAt:    ev.Time, EndsAt: now.Add(time.Hour),
		})
		report.Keys = append(report.Keys, alert.Fingerprint(alerts[len(alerts)-1].Labels))
	}
	status, err := s.Notifier.Notify(ctx, alerts)
	report.Status = status
	if err != nil && !alert.Retryable(status) {
		return report, dispatch.Permanent(err)
	}
	return report, err
}
