package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/analyzer/canary"
	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// rollbackPlanner plans a rollback of the image, for the engine behind
// the fixture; nothing here executes.
type rollbackPlanner struct{}

func (rollbackPlanner) Plan(_ context.Context, req actions.Request) (actions.Plan, error) {
	return actions.Plan{Executor: req.Do.Executor, Operation: req.Do.Operation, Target: req.Do.Target,
		Changes: []actions.Change{{Field: "image", From: "chat:v2", To: "chat:v1"}}, Spec: json.RawMessage(`{"image":"chat:v1"}`)}, nil
}
func (rollbackPlanner) Apply(context.Context, actions.Plan) (string, error) { return "", nil }
func (rollbackPlanner) Verify(context.Context, actions.Plan) (bool, string, error) {
	return true, "", nil
}

// actionsFixture gives the API an engine over the fixture's store, with
// two policies on one canary monitor and the action each proposed on the
// fixture's slow canary, judged as the canary job judges it.
func actionsFixture(t *testing.T, st *embedded.Store, a *API) {
	t.Helper()
	ctx := context.Background()
	policy := func(name, deployment string) *actions.Policy {
		target := actions.Target{Executor: actions.Kubernetes, Kind: "Deployment", Namespace: "llm", Name: deployment}
		return &actions.Policy{Name: name, File: "actions.yaml:2", Mode: actions.Approve, Guardrails: actions.DefaultGuardrails,
			When: actions.When{Kind: actions.OnCanary, Canary: "chat-rollout", Verdict: canary.VerdictFail},
			Do:   actions.Do{Executor: actions.Kubernetes, Operation: actions.OpRollback, Target: target}}
	}
	policies := []*actions.Policy{policy("rollback-chat", "chat"), policy("rollback-search", "search")}
	engine := actions.New(actions.Options{Store: st, Policies: func() []*actions.Policy { return policies },
		Executors: map[string]actions.Executor{actions.Kubernetes: rollbackPlanner{}}})
	end := time.Date(2024, 9, 15, 12, 0, 0, 0, time.UTC)
	analysis, err := canary.Analyze(ctx, st, canary.Spec{Tenant: store.DefaultTenant, Service: "chat", Canary: "canary", Baseline: "stable",
		Start: end.Add(-3 * time.Hour), End: end})
	if err != nil || analysis.Verdict != canary.VerdictFail {
		t.Fatalf("canary: %s, %v", analysis.Verdict, err)
	}
	analysis.Monitor = "chat-rollout"
	ev, err := canary.Finding(analysis)
	if err == nil {
		err = st.WriteEvents(ctx, []store.Event{ev})
	}
	if err == nil {
		_, err = engine.Triggers().Deliver(ctx, store.DefaultTenant, []store.Event{ev})
	}
	if err != nil {
		t.Fatal(err)
	}
	a.Actions = engine
}

// checkActionRoutes holds the actions' answers to the document: lists and
// their pages, one action with its ETag, each decision with its version
// and idempotency key and each refusal, the kill switch, and the audit
// log that records the decisions, the kill switch and a viewer's 403.
func checkActionRoutes(t *testing.T, v *validator, st *embedded.Store, guard *auth.Guard, a *API) {
	actionsFixture(t, st, a)
	none, jsonBody := http.Header{}, http.Header{"Content-Type": {"application/json"}}
	type summary struct {
		ID, Policy, State, Change string
		Version                   int
	}
	type actionsPage struct {
		Actions       []summary
		NextPageToken string `json:"next_page_token"`
	}
	decode := func(body []byte, out any) {
		t.Helper()
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
	}
	list := func(query string) actionsPage {
		t.Helper()
		var page actionsPage
		decode(v.call("GET", "/api/v1/actions"+query, none, nil, 200), &page)
		return page
	}
	if page := list(""); len(page.Actions) != 2 || page.Actions[0].State != "proposed" || page.Actions[0].Change != "image chat:v2 → chat:v1" || page.NextPageToken != "" {
		t.Fatalf("actions: %+v", page)
	}
	page := list("?limit=1&state=proposed,approved")
	first := page.Actions[0]
	page = list("?limit=1&page_token=" + page.NextPageToken)
	second := page.Actions[0]
	if second.ID == first.ID || page.NextPageToken != "" {
		t.Errorf("the second page: %+v after %+v", page, first)
	}
	if page := list("?policy=rollback-search&target=kubernetes/Deployment/llm/search&from=2000-01-01"); len(page.Actions) != 1 || page.Actions[0].Policy != "rollback-search" {
		t.Errorf("filtered: %+v", page)
	}
	v.call("GET", "/api/v1/actions?state=sleeping", none, nil, 400)
	v.refused("GET", "/api/v1/actions?limit=0", none, nil, 400)
	if body := v.call("GET", "/api/v1/actions/status", none, nil, 200); !bytes.Contains(body, []byte(`"evaluable":true`)) || !bytes.Contains(body, []byte(`"paused":false`)) {
		t.Errorf("status: %s", body)
	}
	if body := v.call("GET", "/api/v1/actions/"+first.ID, none, nil, 200); !bytes.Contains(body, []byte(`"monitor":"chat-rollout"`)) || !bytes.Contains(body, []byte(`"timeline":[{`)) {
		t.Errorf("one action: %s", body)
	}
	v.call("GET", "/api/v1/actions/nope", none, nil, 404)

	// Decisions: on a version, once per key.
	approve := "/api/v1/actions/" + first.ID + "/approve"
	if body := v.call("POST", approve, none, nil, 428); !bytes.Contains(body, []byte("If-Match")) {
		t.Errorf("no version: %s", body)
	}
	v.call("POST", approve, http.Header{"If-Match": {`"7"`}}, nil, 409)
	once := http.Header{"If-Match": {`"1"`}, "Idempotency-Key": {"k-1"}}
	var act struct {
		State   string
		Version int
	}
	decode(v.call("POST", approve, once, nil, 200), &act)
	decode(v.call("POST", approve, once, nil, 200), &act)
	if act.State != "approved" || act.Version != 2 {
		t.Errorf("approved twice with one key: %+v", act)
	}
	reject := "/api/v1/actions/" + second.ID + "/reject"
	v.call("POST", reject, jsonBody, []byte(`{"version":1}`), 400)
	decode(v.call("POST", reject, jsonBody, []byte(`{"version":1,"reason":"not this one"}`), 200), &act)
	v.call("POST", "/api/v1/actions/"+first.ID+"/abort", http.Header{"If-Match": {"*"}}, nil, 200)
	v.call("POST", "/api/v1/actions/"+first.ID+"/retry", http.Header{"If-Match": {"*"}}, nil, 422)
	v.refused("POST", reject, jsonBody, []byte(`{"version":1,"why":"typo"}`), 400)

	// The kill switch.
	if body := v.call("POST", "/api/v1/actions/pause", jsonBody, []byte(`{"reason":"incident 42"}`), 200); !bytes.Contains(body, []byte(`"paused":true`)) {
		t.Errorf("pause: %s", body)
	}
	v.call("POST", "/api/v1/actions/resume", none, nil, 200)

	// A viewer may read but not decide; an operator of one tenant may
	// decide but not pause every tenant's actions.
	viewer := newValidator(t, v.h)
	viewer.bearer = newToken(t, st, store.DefaultTenant, auth.Viewer)
	viewer.call("GET", "/api/v1/actions/"+second.ID, none, nil, 200)
	if body := viewer.call("POST", approve, once, nil, 403); !bytes.Contains(body, []byte("operator")) {
		t.Errorf("a viewer approving: %s", body)
	}
	operator := newValidator(t, v.h)
	operator.bearer = newToken(t, st, store.DefaultTenant, auth.Operator)
	operator.call("POST", "/api/v1/actions/pause", none, nil, 403)
	for _, vv := range []*validator{viewer, operator} {
		for k := range vv.seen {
			v.seen[k] = true
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	guard.Audit().Run(ctx) // writes the 403s' records
	var audit []struct{ Action, Actor, Target, Detail string }
	decode(v.call("GET", "/api/v1/audit?from=2000-01-01&to=2100-01-01", none, nil, 200), &audit)
	seen := map[string]bool{}
	for _, r := range audit {
		seen[r.Action+" "+r.Target] = true
		if r.Action == "action_rejected" && !strings.HasSuffix(r.Detail, "(policy "+second.Policy+"): rejected, version 2: not this one") {
			t.Errorf("a rejection's detail: %q", r.Detail)
		}
	}
	for _, want := range []string{"action_approved " + first.ID, "action_aborted " + first.ID, "action_rejected " + second.ID,
		"actions_paused actions", "actions_resumed actions", "forbidden POST " + approve, "forbidden POST /api/v1/actions/pause"} {
		if !seen[want] {
			t.Errorf("the audit log has no %q: %+v", want, audit)
		}
	}
}
