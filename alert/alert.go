// Package alert delivers alerts: to Alertmanager's API v2, the way
// Prometheus pushes them, with retries. Alerts are plain label sets; what
// raises them (SLO burn rates, budgets) lives elsewhere.
package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
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
	URL     string // base URL, e.g. http://alertmanager:9093
	Client  *http.Client
	Retries int           // attempts after the first; default 3
	Backoff time.Duration // first retry delay, doubled each time, with jitter; default 500ms
	Logger  *slog.Logger
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
	client := a.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	retries, backoff := a.Retries, a.Backoff
	if retries == 0 {
		retries = 3
	}
	if backoff == 0 {
		backoff = 500 * time.Millisecond
	}
	url := strings.TrimSuffix(a.URL, "/") + "/api/v2/alerts"
	var last error
	for attempt := 0; attempt <= retries; attempt++ {
		if attempt > 0 {
			delay := backoff<<(attempt-1) + time.Duration(rand.Int64N(int64(backoff)))
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(delay):
			}
		}
		req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			last = err
			continue
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		switch {
		case resp.StatusCode < 300:
			return nil
		case resp.StatusCode < 500:
			return fmt.Errorf("alertmanager at %s refused %d alerts: %s: %s", a.URL, len(alerts), resp.Status, strings.TrimSpace(string(msg)))
		}
		last = fmt.Errorf("alertmanager at %s: %s", a.URL, resp.Status)
	}
	return fmt.Errorf("cannot deliver %d alerts after %d attempts: %w", len(alerts), retries+1, last)
}
