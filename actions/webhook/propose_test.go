package webhook

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/analyzer/canary"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// A canary failing its analysis every interval proposes its webhook
// rollback once: each verdict is a new trigger, and the body the receiver
// would get names the action and its evidence, but the change (a POST to
// the same receiver) is the same, so the open proposal stands. It used to
// be superseded by a new id every verdict, under the person approving it.
func TestFailingCanaryKeepsOneProposal(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pol := &actions.Policy{Name: "rollback-chat-canary", Mode: actions.Approve, Cooldown: 30 * time.Minute, Guardrails: actions.DefaultGuardrails,
		Verify: actions.Verify{Within: 10 * time.Minute},
		When:   actions.When{Kind: actions.OnCanary, Canary: "chat-model-rollout", Verdict: canary.VerdictFail},
		Do: actions.Do{Executor: actions.Webhook, Operation: actions.OpPost, SecretEnv: "HOOK_SECRET",
			Target: actions.Target{Executor: actions.Webhook, URL: "http://127.0.0.1:8091/control/rollback"}}}
	now := time.Now().UTC()
	e := actions.New(actions.Options{Store: st, Policies: func() []*actions.Policy { return []*actions.Policy{pol} },
		Executors: map[string]actions.Executor{actions.Webhook: &Executor{}}, Now: func() time.Time { return now }})
	for i := range 4 {
		now = now.Add(10 * time.Second)
		score := float64(40 - i) // each verdict's statistics differ, as real ones do
		ev, err := canary.Finding(canary.Analysis{Monitor: "chat-model-rollout",
			Result: canary.Result{Verdict: canary.VerdictFail, Score: &score, Reason: fmt.Sprintf("time to first token: canary slower (verdict %d)", i)},
			Spec:   canary.Spec{Tenant: store.DefaultTenant, Service: "chat-model", Canary: "canary", Baseline: "stable", Start: now.Add(-5 * time.Minute), End: now}})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.WriteEvents(ctx, []store.Event{ev}); err != nil {
			t.Fatal(err)
		}
		rep, err := e.Triggers().Deliver(ctx, store.DefaultTenant, []store.Event{ev})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]string{true: "proposed action", false: "already proposed as action"}[i == 0]; !strings.Contains(rep.Note, want) {
			t.Fatalf("verdict %d: %q, want %q", i, rep.Note, want)
		}
	}
	all, err := e.List(ctx, actions.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].State != actions.Proposed {
		for _, a := range all {
			t.Logf("%s %s %s", a.ID, a.State, a.Plan.Diff())
		}
		t.Fatalf("%d actions, want one proposed", len(all))
	}
	if d := all[0].Plan.Diff(); !strings.HasPrefix(d, "POST http://127.0.0.1:8091 ") || !strings.HasSuffix(d, "→ the action and its evidence as JSON, signed with $HOOK_SECRET") {
		t.Errorf("the plan reads %q", d)
	}
}
