package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/auth"
)

// Actions is the actions engine as the API uses it (*actions.Engine).
type Actions interface {
	List(ctx context.Context, f actions.Filter) ([]*actions.Action, error)
	Get(ctx context.Context, tenant, id string) (*actions.Action, error)
	Approve(ctx context.Context, tenant, id string, d actions.Decision) (*actions.Action, error)
	Reject(ctx context.Context, tenant, id string, d actions.Decision) (*actions.Action, error)
	Abort(ctx context.Context, tenant, id string, d actions.Decision) (*actions.Action, error)
	Retry(ctx context.Context, tenant, id string, d actions.Decision) (*actions.Action, error)
	Pause(ctx context.Context, actor, reason string) error
	Resume(ctx context.Context, actor, reason string) error
	KillSwitch(ctx context.Context) (actions.KillSwitch, error)
	Status(ctx context.Context, tenant string) (actions.Status, error)
}

// actionRoutes are the actions' routes: reads need viewer, decisions
// operator; the kill switch stops every tenant's actions, so turning it
// needs admin in every tenant.
func (a *API) actionRoutes() []auth.Route {
	route := func(method, pattern string, role auth.Role, h func(*http.Request, string) (any, error)) auth.Route {
		return auth.Route{Method: method, Pattern: pattern, Role: role, Handler: a.handle(h)}
	}
	decide := func(verb actions.Verb) auth.Route {
		return route("POST", "/api/v1/actions/{id}/"+string(verb), auth.Operator, a.decision(verb))
	}
	pause, resume := route("POST", "/api/v1/actions/pause", auth.Admin, a.killSwitch(true)), route("POST", "/api/v1/actions/resume", auth.Admin, a.killSwitch(false))
	pause.Scope, resume.Scope = auth.ServerScope, auth.ServerScope
	return []auth.Route{
		route("GET", "/api/v1/actions", auth.Viewer, a.listActions),
		route("GET", "/api/v1/actions/status", auth.Viewer, a.actionsStatus),
		route("GET", "/api/v1/actions/{id}", auth.Viewer, a.getAction),
		decide(actions.VerbApprove), decide(actions.VerbReject), decide(actions.VerbAbort), decide(actions.VerbRetry),
		pause, resume,
	}
}

// engine is the actions engine, or why there is none.
func (a *API) engine() (Actions, error) {
	if a.Actions == nil {
		return nil, &statusError{http.StatusServiceUnavailable, errors.New("this process runs no actions engine")}
	}
	return a.Actions, nil
}

// actionError gives the engine's refusals their status codes.
func actionError(err error) error {
	switch {
	case errors.Is(err, actions.ErrNotFound):
		return &statusError{http.StatusNotFound, err}
	case errors.Is(err, actions.ErrConflict):
		return &statusError{http.StatusConflict, err}
	case errors.Is(err, actions.ErrState):
		return &statusError{http.StatusUnprocessableEntity, err}
	}
	return err
}

// tagged is an answer with its entity tag, which handle sends as ETag:
// an action's version, which a decision names in If-Match.
type tagged struct {
	body any
	etag string
}

func actionTagged(x *actions.Action) tagged {
	return tagged{body: x, etag: strconv.Quote(strconv.Itoa(x.Version))}
}

// maxActionsPage bounds one page of GET /api/v1/actions.
const maxActionsPage = 1000

type actionsPage struct {
	Actions       []actions.Summary `json:"actions"`
	NextPageToken string            `json:"next_page_token,omitempty"`
}

// listActions answers the tenant's actions that the filters select,
// newest proposal first, a page at a time.
func (a *API) listActions(r *http.Request, org string) (any, error) {
	x, err := a.engine()
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f, err := actionFilter(q, org)
	if err != nil {
		return nil, err
	}
	limit, after, err := pageOf(q.Get("limit"), q.Get("page_token"))
	if err != nil {
		return nil, err
	}
	all, err := x.List(r.Context(), f)
	if err != nil {
		return nil, err
	}
	page := actionsPage{Actions: []actions.Summary{}}
	for _, act := range all {
		if after != nil && !after.before(act) {
			continue
		}
		if len(page.Actions) == limit {
			page.NextPageToken = cursorOf(page.Actions[limit-1])
			break
		}
		page.Actions = append(page.Actions, act.Summary())
	}
	return page, nil
}

// actionFilter reads state (repeated or comma-separated), policy,
// target (a target's key), and from and to (the proposals').
func actionFilter(q url.Values, org string) (actions.Filter, error) {
	f := actions.Filter{Tenant: org, Policy: q.Get("policy"), Target: q.Get("target")}
	for _, name := range splitList(strings.Join(q["state"], ",")) {
		if !slices.Contains(actions.States, actions.State(name)) {
			return f, badRequest("state %q: want one of %v", name, actions.States)
		}
		f.States = append(f.States, actions.State(name))
	}
	for name, at := range map[string]*time.Time{"from": &f.Start, "to": &f.End} {
		if s := q.Get(name); s != "" {
			var err error
			if *at, err = apiTime(s, name); err != nil {
				return f, err
			}
		}
	}
	return f, nil
}

// cursor is where a page ended: the last action's proposal and id, in
// the list's order (newest proposal first, then by id), so the next page
// starts after it even when actions were proposed meanwhile.
type cursor struct {
	proposed time.Time
	id       string
}

// before reports whether the cursor comes before act in the list.
func (c *cursor) before(act *actions.Action) bool {
	return act.Proposed.Before(c.proposed) || act.Proposed.Equal(c.proposed) && act.ID > c.id
}

func cursorOf(s actions.Summary) string {
	return base64.RawURLEncoding.EncodeToString([]byte(s.Proposed.UTC().Format(time.RFC3339Nano) + " " + s.ID))
}

// pageOf reads limit (default 100) and page_token.
func pageOf(limit, token string) (int, *cursor, error) {
	n := 100
	if limit != "" {
		var err error
		if n, err = strconv.Atoi(limit); err != nil || n < 1 || n > maxActionsPage {
			return 0, nil, badRequest("limit %q: want a whole number from 1 to %d", limit, maxActionsPage)
		}
	}
	if token == "" {
		return n, nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	at, id, ok := strings.Cut(string(raw), " ")
	t, terr := time.Parse(time.RFC3339Nano, at)
	if err != nil || !ok || terr != nil {
		return 0, nil, badRequest("page_token %q is not one this API gave", token)
	}
	return n, &cursor{proposed: t, id: id}, nil
}

// getAction answers one action: its evidence, its plan and its timeline,
// with its version as the ETag.
func (a *API) getAction(r *http.Request, org string) (any, error) {
	x, err := a.engine()
	if err != nil {
		return nil, err
	}
	act, err := x.Get(r.Context(), org, r.PathValue("id"))
	if err != nil {
		return nil, actionError(err)
	}
	return actionTagged(act), nil
}

// actionsStatus answers the kill switch and the tenant's policies, with
// those that cannot be evaluated and why.
func (a *API) actionsStatus(r *http.Request, org string) (any, error) {
	x, err := a.engine()
	if err != nil {
		return nil, err
	}
	return x.Status(r.Context(), org)
}

// decisionRequest is the body of a decision; every field may be left out.
type decisionRequest struct {
	Reason  string `json:"reason"`
	Version int    `json:"version"`
}

// readBody decodes an optional small JSON body into v.
func readBody(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return badRequest("cannot read the body: %v", err)
	}
	return nil
}

// decision answers a person's decision on an action, made on the version
// the request names (If-Match, or version in the body), made once per
// Idempotency-Key.
func (a *API) decision(verb actions.Verb) func(*http.Request, string) (any, error) {
	return func(r *http.Request, org string) (any, error) {
		x, err := a.engine()
		if err != nil {
			return nil, err
		}
		var in decisionRequest
		if err := readBody(r, &in); err != nil {
			return nil, err
		}
		version, err := versionOf(r.Header.Get("If-Match"), in.Version)
		if err != nil {
			return nil, err
		}
		if verb == actions.VerbReject && strings.TrimSpace(in.Reason) == "" {
			return nil, badRequest("a rejection needs a reason")
		}
		d := actions.Decision{Actor: auth.FromContext(r.Context()).Subject(), Reason: in.Reason, Version: version,
			IdempotencyKey: r.Header.Get("Idempotency-Key")}
		act, err := decide(x, verb)(r.Context(), org, r.PathValue("id"), d)
		if err != nil {
			return nil, actionError(err)
		}
		return actionTagged(act), nil
	}
}

// decide is the engine's method for a verb.
func decide(x Actions, verb actions.Verb) func(context.Context, string, string, actions.Decision) (*actions.Action, error) {
	switch verb {
	case actions.VerbApprove:
		return x.Approve
	case actions.VerbReject:
		return x.Reject
	case actions.VerbAbort:
		return x.Abort
	}
	return x.Retry
}

// versionOf is the version a decision was made on: If-Match ("3", the
// ETag of GET /api/v1/actions/{id}; * for whatever it is now) or the
// body's version. One of them is required: a decision is made on what
// its maker read.
func versionOf(ifMatch string, body int) (int, error) {
	ifMatch = strings.TrimPrefix(strings.TrimSpace(ifMatch), "W/")
	switch {
	case ifMatch == "" && body == 0:
		return 0, &statusError{http.StatusPreconditionRequired,
			errors.New(`say which version of the action the decision was made on: If-Match: "N" (the ETag of GET /api/v1/actions/{id}) or "version" in the body`)}
	case ifMatch == "":
		return body, nil
	case ifMatch == "*":
		return 0, nil
	}
	v, err := strconv.Atoi(strings.Trim(ifMatch, `"`))
	switch {
	case err != nil || v < 1:
		return 0, badRequest("If-Match %q: want an action's ETag, e.g. \"3\"", ifMatch)
	case body != 0 && body != v:
		return 0, badRequest("If-Match says version %d, the body %d", v, body)
	}
	return v, nil
}

// pauseRequest is the body of a kill switch turn.
type pauseRequest struct {
	Reason string `json:"reason"`
}

// killSwitch turns the kill switch on (pause) or off and answers its
// state.
func (a *API) killSwitch(on bool) func(*http.Request, string) (any, error) {
	return func(r *http.Request, _ string) (any, error) {
		x, err := a.engine()
		if err != nil {
			return nil, err
		}
		var in pauseRequest
		if err := readBody(r, &in); err != nil {
			return nil, err
		}
		turn := x.Resume
		if on {
			turn = x.Pause
		}
		if err := turn(r.Context(), auth.FromContext(r.Context()).Subject(), in.Reason); err != nil {
			return nil, fmt.Errorf("cannot turn the kill switch: %w", err)
		}
		return x.KillSwitch(r.Context())
	}
}
