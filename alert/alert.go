// Package alert delivers alerts: to Alertmanager's API v2 as Prometheus
// pushes them, as Alertmanager-format (version 4) webhooks, signed with
// HMAC-SHA256 when a secret is set, and to Slack, all with retries. Alerts are plain label sets; what
// raises them (SLO burn rates, budgets) lives elsewhere.
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

// Notifier sends alerts somewhere.
type Notifier interface {
	Notify(ctx context.Context, alerts []Alert) error
}

// Alertmanager pushes alerts to Alertmanager's POST /api/v2/alerts.
type Alertmanager struct {
	URL string // base URL, e.g. http://alertmanager:9093
	Delivery
}

// Notify sends the alerts, retrying server errors and network failures with
// exponential backoff and jitter; a 4xx answer is not retried.
func (a *Alertmanager) Notify(ctx context.Context, alerts []Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	body, err := json.Marshal(alerts)
	if err != nil {
		return err
	}
	if err := a.post(ctx, "alertmanager", strings.TrimSuffix(a.URL, "/")+"/api/v2/alerts", body, nil, alerts); err != nil {
		return fmt.Errorf("alertmanager at %s: %d alerts: %w", a.URL, len(alerts), err)
	}
	return nil
}
