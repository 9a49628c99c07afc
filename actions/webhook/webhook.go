// Package webhook is the webhook executor of actions: it POSTs the
// action as signed JSON to a URL (a CI system, a feature-flag service, a
// model router) and takes the answer as the result. Requests are signed
// as Vigil's alert webhooks are (alert.Sign: HMAC-SHA256 of
// "<timestamp>.<body>" in X-Vigil-Signature, the timestamp in
// X-Vigil-Timestamp) and carry the action's id and attempt in
// Idempotency-Key: a receiver that honours it acts once however often
// Vigil delivers.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/alert"
)

// Executor posts actions to webhooks.
type Executor struct {
	HTTP *http.Client        // default: a 10 s timeout
	Now  func() time.Time    // nil is time.Now
	Env  func(string) string // nil is os.Getenv: where secret_env is read
}

// Message is what a webhook receives.
type Message struct {
	Action    string            `json:"action"`
	Tenant    string            `json:"tenant"`
	Operation string            `json:"operation"`
	Evidence  actions.Evidence  `json:"evidence"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// spec is the frozen request: the body and the secret's variable.
type spec struct {
	Body      json.RawMessage `json:"body"`
	SecretEnv string          `json:"secret_env,omitempty"`
}

// Plan implements actions.Executor: the dry-run is the request, exactly.
func (x *Executor) Plan(ctx context.Context, req actions.Request) (actions.Plan, error) {
	body, err := json.Marshal(Message{Action: req.Action, Tenant: req.Tenant, Operation: req.Do.Operation, Evidence: req.Evidence})
	if err != nil {
		return actions.Plan{}, err
	}
	raw, err := json.Marshal(spec{Body: body, SecretEnv: req.Do.SecretEnv})
	if err != nil {
		return actions.Plan{}, err
	}
	// The change names what the receiver is asked, not which action asks
	// it: the engine keeps an open proposal whose change a fresher trigger
	// would make again, so the body's action id and evidence stay out.
	to := "the action and its evidence as JSON, unsigned"
	if req.Do.SecretEnv != "" {
		to = "the action and its evidence as JSON, signed with $" + req.Do.SecretEnv
	}
	return actions.Plan{Executor: actions.Webhook, Operation: actions.OpPost, Target: req.Do.Target, Spec: raw,
		Changes: []actions.Change{{Field: "POST " + redact(req.Do.Target.URL), From: "", To: to}}}, nil
}

// Apply implements actions.Executor: one signed POST; a 2xx answer is
// the result, anything else an error.
func (x *Executor) Apply(ctx context.Context, p actions.Plan) (string, error) {
	var s spec
	if err := json.Unmarshal(p.Spec, &s); err != nil {
		return "", err
	}
	var msg Message
	json.Unmarshal(s.Body, &msg)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.Target.URL, bytes.NewReader(s.Body))
	if err != nil {
		return "", fmt.Errorf("webhook %s: %v", redact(p.Target.URL), err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", msg.Action)
	if err := x.sign(req.Header, s); err != nil {
		return "", err
	}
	client := x.HTTP
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("webhook %s did not answer", redact(p.Target.URL))
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("webhook %s answered %s: %s", redact(p.Target.URL), resp.Status, strings.TrimSpace(string(answer)))
	}
	return fmt.Sprintf("%s answered %s: %s", redact(p.Target.URL), resp.Status, strings.TrimSpace(string(answer))), nil
}

func (x *Executor) sign(h http.Header, s spec) error {
	if s.SecretEnv == "" {
		return nil
	}
	env := x.Env
	if env == nil {
		env = os.Getenv
	}
	secret := env(s.SecretEnv)
	if secret == "" {
		return fmt.Errorf("webhook secret: %s is not set", s.SecretEnv)
	}
	now := time.Now
	if x.Now != nil {
		now = x.Now
	}
	ts := strconv.FormatInt(now().Unix(), 10)
	h.Set(alert.TimestampHeader, ts)
	h.Set(alert.SignatureHeader, alert.Sign(secret, ts, s.Body))
	return nil
}

// Verify implements actions.Executor: the receiver's answer was the
// result; there is nothing more to look at.
func (x *Executor) Verify(context.Context, actions.Plan) (bool, string, error) {
	return true, "the webhook accepted the action", nil
}

// redact keeps a URL's scheme and host: webhook URLs carry secrets in
// their paths and queries.
func redact(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return "(a URL)"
	}
	host, _, _ := strings.Cut(rest, "/")
	host, _, _ = strings.Cut(host, "?")
	return scheme + "://" + host
}
