// Package alert sends alerts: to Alertmanager's API v2 as Prometheus
// pushes them, as Alertmanager-format (version 4) webhooks, signed with
// HMAC-SHA256 when a secret is set, and to Slack. Alerts are plain label
// sets; what raises them (SLO burn rates) lives elsewhere, and queueing and
// retrying deliveries is the dispatcher's (package dispatch).
package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"
)

// Alert is one alert in Alertmanager's API v2 shape.
type Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Fingerprint identifies an alert by its labels: the same labels are the
// same alert, across evaluations, restarts and replicas.
func Fingerprint(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := fnv.New64a()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0xff})
		h.Write([]byte(labels[k]))
		h.Write([]byte{0xff})
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// Notifier sends alerts to one receiver, one attempt per call.
type Notifier interface {
	// Name is the kind of receiver: alertmanager, webhook or slack.
	Name() string
	// Target is where notifications go, safe to log and to show: the
	// URL's scheme and host only, as secrets hide in the rest.
	Target() string
	// Notify sends the alerts once and answers the HTTP status (0 when
	// none came); Retryable says whether a failure is worth another try.
	Notify(ctx context.Context, alerts []Alert) (int, error)
}

// Alertmanager pushes alerts to Alertmanager's POST /api/v2/alerts.
type Alertmanager struct {
	URL string // base URL, e.g. http://alertmanager:9093
	Client
}

// Name implements Notifier.
func (a *Alertmanager) Name() string { return "alertmanager" }

// Target implements Notifier.
func (a *Alertmanager) Target() string { return redact(a.URL) }

// Notify implements Notifier.
func (a *Alertmanager) Notify(ctx context.Context, alerts []Alert) (int, error) {
	body, err := json.Marshal(alerts)
	if err != nil {
		return 0, err
	}
	status, err := a.post(ctx, strings.TrimSuffix(a.URL, "/")+"/api/v2/alerts", body, nil)
	if err != nil {
		return status, fmt.Errorf("alertmanager: %d alerts: %w", len(alerts), err)
	}
	return status, nil
}
