package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Client is how a notifier sends: one HTTP POST per notification, one
// attempt per call. Queueing, retries and the delivery log are the
// dispatcher's, which knows what else waits and what was already tried.
type Client struct {
	HTTP *http.Client // default: a 10 s timeout
}

// post sends a JSON body once and answers the HTTP status (0 when none
// came). Errors never quote the URL beyond its scheme and host.
func (c Client) post(ctx context.Context, url string, body []byte, header http.Header) (int, error) {
	client := c.HTTP
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return 0, hideURL(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, hideURL(err)
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s answered %s: %s", redact(url), resp.Status, strings.TrimSpace(string(msg)))
	}
	return resp.StatusCode, nil
}

// hideURL cuts the URL an error of net/http quotes down to its scheme and
// host: a webhook URL may carry its secret (Slack's path, a token in the
// query, user info).
func hideURL(err error) error {
	var ue *neturl.Error
	if errors.As(err, &ue) {
		ue.URL = redact(ue.URL)
	}
	return err
}

// Retryable reports whether a notification answered with this HTTP status
// may be accepted if sent again: no answer at all, a server error, or a
// receiver asking to slow down. Any other refusal is final.
func Retryable(status int) bool {
	return status == 0 || status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout
}

// redact keeps a URL's scheme and host for logs: webhook URLs carry their
// secret in the path (Slack, Teams, most chat hooks), the query or the
// user info, so all of those go.
func redact(raw string) string {
	u, err := neturl.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return (&neturl.URL{Scheme: u.Scheme, Host: u.Host}).String()
}

// WebhookMessage is Alertmanager's webhook payload, version 4, which
// receivers written for Alertmanager already parse.
type WebhookMessage struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"` // firing when any alert fires
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []WebhookAlert    `json:"alerts"`
}

// WebhookAlert is one alert of the payload.
type WebhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"` // 0001-01-01T00:00:00Z while firing
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// NewWebhookMessage groups alerts into one payload for receiver, grouped by
// alertname. An alert whose EndsAt has passed is resolved.
func NewWebhookMessage(receiver, externalURL string, alerts []Alert, now time.Time) WebhookMessage {
	m := WebhookMessage{Version: "4", Status: "resolved", Receiver: receiver, ExternalURL: externalURL,
		GroupLabels: map[string]string{}, CommonAnnotations: map[string]string{}}
	for i, a := range alerts {
		wa := WebhookAlert{Status: "firing", Labels: a.Labels, Annotations: a.Annotations, StartsAt: a.StartsAt, GeneratorURL: a.GeneratorURL, Fingerprint: Fingerprint(a.Labels)}
		if !a.EndsAt.IsZero() && !a.EndsAt.After(now) {
			wa.Status, wa.EndsAt = "resolved", a.EndsAt
		} else {
			m.Status = "firing"
		}
		if wa.Annotations == nil {
			wa.Annotations = map[string]string{}
		}
		m.Alerts = append(m.Alerts, wa)
		if i == 0 {
			m.CommonLabels = copyMap(a.Labels)
			m.CommonAnnotations = copyMap(wa.Annotations)
		} else {
			intersect(m.CommonLabels, a.Labels)
			intersect(m.CommonAnnotations, wa.Annotations)
		}
	}
	if m.CommonLabels == nil {
		m.CommonLabels = map[string]string{}
	}
	if name, ok := m.CommonLabels["alertname"]; ok {
		m.GroupLabels["alertname"] = name
	}
	m.GroupKey = fmt.Sprintf("{}:{alertname=%q}", m.GroupLabels["alertname"])
	return m
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func intersect(common, m map[string]string) {
	for k, v := range common {
		if m[k] != v {
			delete(common, k)
		}
	}
}

// Webhook posts Alertmanager-format (version 4) payloads to a URL, and,
// with a Secret, signs them (see Sign).
type Webhook struct {
	URL         string
	Receiver    string // the payload's receiver name
	ExternalURL string
	Secret      string // "" sends unsigned
	Client
	Now func() time.Time
}

// Name implements Notifier.
func (w *Webhook) Name() string { return "webhook" }

// Target implements Notifier.
func (w *Webhook) Target() string { return redact(w.URL) }

// Notify implements Notifier.
func (w *Webhook) Notify(ctx context.Context, alerts []Alert) (int, error) {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	body, err := json.Marshal(NewWebhookMessage(w.Receiver, w.ExternalURL, alerts, now()))
	if err != nil {
		return 0, err
	}
	header := http.Header{}
	if w.Secret != "" {
		ts := strconv.FormatInt(now().Unix(), 10)
		header.Set(TimestampHeader, ts)
		header.Set(SignatureHeader, Sign(w.Secret, ts, body))
	}
	return w.post(ctx, w.URL, body, header)
}

// The headers of a signed webhook.
const (
	TimestampHeader = "X-Vigil-Timestamp"
	SignatureHeader = "X-Vigil-Signature"
)

// Sign is the signature of a body sent at a Unix timestamp: "sha256=" and
// the hex HMAC-SHA256 of "<timestamp>.<body>" with the secret. The
// timestamp is signed with the body, so a replayed request is recognised
// by its age.
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a signed webhook as a receiver should: the signature
// matches, and the timestamp is within maxAge of now.
func Verify(secret string, header http.Header, body []byte, now time.Time, maxAge time.Duration) error {
	ts := header.Get(TimestampHeader)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("missing or malformed " + TimestampHeader)
	}
	if age := now.Sub(time.Unix(sec, 0)); age > maxAge || age < -maxAge {
		return fmt.Errorf("signed %s ago, outside the %s window: a replay or a clock far off", age.Round(time.Second), maxAge)
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(header.Get(SignatureHeader))) {
		return errors.New("signature does not match")
	}
	return nil
}

// Slack posts a message to a Slack incoming webhook: one line per alert.
type Slack struct {
	URL string
	Client
	Now func() time.Time
}

// Name implements Notifier.
func (s *Slack) Name() string { return "slack" }

// Target implements Notifier.
func (s *Slack) Target() string { return redact(s.URL) }

// Notify implements Notifier.
func (s *Slack) Notify(ctx context.Context, alerts []Alert) (int, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	msg := NewWebhookMessage("slack", "", alerts, now())
	lines := make([]string, 0, len(msg.Alerts))
	for _, a := range msg.Alerts {
		icon := ":red_circle:"
		if a.Status == "resolved" {
			icon = ":large_green_circle:"
		}
		summary := a.Annotations["summary"]
		if summary == "" {
			summary = a.Labels["alertname"]
		}
		lines = append(lines, fmt.Sprintf("%s *%s* [%s] %s", icon, strings.ToUpper(a.Status), a.Labels["severity"], summary))
	}
	sort.Strings(lines)
	body, _ := json.Marshal(map[string]string{"text": strings.Join(lines, "\n")})
	return s.post(ctx, s.URL, body, nil)
}
