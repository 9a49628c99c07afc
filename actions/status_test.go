package actions

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/analyzer/canary"
	"github.com/vigil-dev/vigil/slo"
)

// Each decision is recorded with its verb, which is what the audit log
// shows; a key sent again with the same verb is the same decision, with
// another verb it is not.
func TestDecisionsRecordTheirVerb(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, Approve)
	r.verdict(canary.VerdictFail)
	a := r.only()
	if _, err := r.e.Approve(ctx, "", a.ID, Decision{Actor: "ann", Version: a.Version, IdempotencyKey: "k1"}); err != nil {
		t.Fatal(err)
	}
	// The same key for an abort is another decision: it is made.
	if _, err := r.e.Abort(ctx, "", a.ID, Decision{Actor: "ann", IdempotencyKey: "k1"}); err != nil {
		t.Fatal(err)
	}
	a = r.only()
	var got []string
	for _, s := range a.Timeline {
		got = append(got, string(s.State)+":"+string(s.Decision))
	}
	if strings.Join(got, " ") != "proposed: approved:approve rejected:abort" {
		t.Errorf("timeline %v", got)
	}
	// Sent again, the abort changes nothing and answers the action.
	again, err := r.e.Abort(ctx, "", a.ID, Decision{Actor: "ann", IdempotencyKey: "k1"})
	if err != nil || again.Version != a.Version {
		t.Errorf("the abort again: %v, version %d", err, again.Version)
	}
	s := a.Summary()
	if s.State != Rejected || s.Actor != "ann" || s.Reason != "aborted" || s.Change != "replicas 4 → 8" ||
		s.TargetKey != "kubernetes/Deployment/llm/chat" || s.Trigger != OnCanary || s.Version != 3 {
		t.Errorf("summary %+v", s)
	}
}

// A policy whose SLO is gone, or whose executor this process lacks, is
// reported as not evaluable and proposes nothing; the kill switch is
// reported with who turned it.
func TestStatusReportsWhatCannotBeEvaluated(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, Approve)
	r.pol.Verify = Verify{Within: time.Minute, SLO: "chat-errors", Expect: Expectation{BurnBelow: 1}}
	hook := &Policy{Name: "page-ci", Mode: Approve, When: When{Kind: OnSLO, SLO: "chat-errors"},
		Do: Do{Executor: Webhook, Operation: OpPost, Target: Target{Executor: Webhook, URL: "https://ci.example/hook"}}}
	r.e.opts.Policies = func() []*Policy { return []*Policy{r.pol, hook} }

	st, err := r.e.Status(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if st.KillSwitch.Paused || st.KillSwitch.Since != nil || len(st.Policies) != 2 {
		t.Fatalf("status %+v", st)
	}
	hs, ps := st.Policies[0], st.Policies[1]
	if hs.Name != "page-ci" || hs.Evaluable || strings.Join(hs.Problems, "; ") != `SLO "chat-errors", its trigger, is not defined; no webhook executor is configured` {
		t.Errorf("page-ci: %+v", hs)
	}
	if ps.Name != "scale-chat" || ps.Evaluable || strings.Join(ps.Problems, "; ") != `SLO "chat-errors", its verification, is not defined` {
		t.Errorf("scale-chat: %+v", ps)
	}
	if note := r.verdict(canary.VerdictFail); !strings.Contains(note, "cannot be evaluated") || len(r.actions()) != 0 {
		t.Errorf("a policy that cannot be evaluated: %q, %d actions", note, len(r.actions()))
	}

	// With the SLO back, it proposes; paused, the status says by whom.
	s := &slo.SLO{Name: "chat-errors", Service: "chat", Objective: 0.99}
	r.e.opts.SLOs = func() []*slo.SLO { return []*slo.SLO{s} }
	if note := r.verdict(canary.VerdictFail); !strings.Contains(note, "proposed action") {
		t.Errorf("with its SLO: %q", note)
	}
	if err := r.e.Pause(ctx, "ann", "incident 7"); err != nil {
		t.Fatal(err)
	}
	if st, err = r.e.Status(ctx, ""); err != nil || !st.KillSwitch.Paused || st.KillSwitch.Actor != "ann" || st.KillSwitch.Reason != "incident 7" ||
		st.KillSwitch.Since == nil || !st.Policies[1].Evaluable {
		t.Errorf("paused: %+v %v", st, err)
	}
	// Another tenant has no policies.
	if st, err = r.e.Status(ctx, "acme"); err != nil || len(st.Policies) != 0 {
		t.Errorf("acme: %+v %v", st, err)
	}
}
