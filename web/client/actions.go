package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/actions"
)

// ActionQuery selects actions to list; empty fields are not sent, and the
// server applies its defaults (every action of the lookback, 100 a page).
type ActionQuery struct {
	States         []actions.State
	Policy, Target string // Target is a target's key
	From, To       time.Time
	Limit          int
	PageToken      string
}

// ActionsPage is one page of GET /api/v1/actions.
type ActionsPage struct {
	Actions       []actions.Summary `json:"actions"`
	NextPageToken string            `json:"next_page_token"`
}

// Actions asks GET /api/v1/actions.
func (c *Client) Actions(ctx context.Context, q ActionQuery) (ActionsPage, error) {
	v := url.Values{}
	if len(q.States) > 0 {
		states := make([]string, len(q.States))
		for i, s := range q.States {
			states[i] = string(s)
		}
		v.Set("state", strings.Join(states, ","))
	}
	for k, s := range map[string]string{"policy": q.Policy, "target": q.Target, "page_token": q.PageToken} {
		if s != "" {
			v.Set(k, s)
		}
	}
	for k, t := range map[string]time.Time{"from": q.From, "to": q.To} {
		if !t.IsZero() {
			v.Set(k, t.UTC().Format(time.RFC3339Nano))
		}
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var page ActionsPage
	err := c.Get(ctx, "/api/v1/actions", v, &page)
	return page, err
}

// Action asks GET /api/v1/actions/{id}.
func (c *Client) Action(ctx context.Context, id string) (*actions.Action, error) {
	var a actions.Action
	if err := c.Get(ctx, "/api/v1/actions/"+url.PathEscape(id), nil, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// Decide sends a person's decision on an action, made on its version (0:
// whatever it is now) and made once per key (empty: no key), and answers
// the action after it.
func (c *Client) Decide(ctx context.Context, id string, verb actions.Verb, reason string, version int, key string) (*actions.Action, error) {
	h := http.Header{"If-Match": {"*"}}
	if version > 0 {
		h.Set("If-Match", strconv.Quote(strconv.Itoa(version)))
	}
	if key != "" {
		h.Set("Idempotency-Key", key)
	}
	var a actions.Action
	if err := c.Post(ctx, "/api/v1/actions/"+url.PathEscape(id)+"/"+string(verb), h, map[string]string{"reason": reason}, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// SetPaused turns the actions' kill switch on (pause) or off, and answers
// its state.
func (c *Client) SetPaused(ctx context.Context, paused bool, reason string) (actions.KillSwitch, error) {
	path := "/api/v1/actions/resume"
	if paused {
		path = "/api/v1/actions/pause"
	}
	var ks actions.KillSwitch
	err := c.Post(ctx, path, nil, map[string]string{"reason": reason}, &ks)
	return ks, err
}

// ActionsStatus asks GET /api/v1/actions/status.
func (c *Client) ActionsStatus(ctx context.Context) (actions.Status, error) {
	var st actions.Status
	err := c.Get(ctx, "/api/v1/actions/status", nil, &st)
	return st, err
}
