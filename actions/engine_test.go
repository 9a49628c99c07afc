package actions

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/analyzer/canary"
	"github.com/vigil-dev/vigil/analyzer/rightsize"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// fakeScaler is an executor over a replica count in memory, with the
// contract real executors keep: Apply is idempotent on the plan and
// refuses a target that moved.
type fakeScaler struct {
	mu       sync.Mutex
	replicas int
	applied  int // changes made
	holds    bool
}

type scaleSpec struct{ From, To int }

func (f *fakeScaler) Plan(ctx context.Context, req Request) (Plan, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	to := min(f.replicas*2, f.replicas+req.Do.Add)
	return Plan{Executor: req.Do.Executor, Operation: req.Do.Operation, Target: req.Do.Target, Revertible: true,
		Changes: []Change{{Field: "replicas", From: strconv.Itoa(f.replicas), To: strconv.Itoa(to)}},
		Spec:    []byte(fmt.Sprintf(`{"From":%d,"To":%d}`, f.replicas, to))}, nil
}

func (f *fakeScaler) spec(p Plan) (from, to int) {
	fmt.Sscanf(string(p.Spec), `{"From":%d,"To":%d}`, &from, &to)
	return from, to
}

func (f *fakeScaler) Apply(ctx context.Context, p Plan) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	from, to := f.spec(p)
	switch f.replicas {
	case to:
		return "already applied", nil
	case from:
		f.replicas, f.applied = to, f.applied+1
		return p.Diff(), nil
	}
	return "", ErrStale
}

func (f *fakeScaler) Verify(ctx context.Context, p Plan) (bool, string, error) {
	return f.holds, "replicas hold", nil
}

func (f *fakeScaler) Revert(ctx context.Context, p Plan) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	from, _ := f.spec(p)
	f.replicas = from
	return fmt.Sprintf("replicas back to %d", from), nil
}

func (f *fakeScaler) state() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.replicas, f.applied
}

// clock is the engine's time, moved by the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// published collects what the engine hands the dispatcher.
type published struct {
	mu  sync.Mutex
	evs []store.Event
}

func (p *published) Publish(evs ...store.Event) {
	p.mu.Lock()
	p.evs = append(p.evs, evs...)
	p.mu.Unlock()
}
func (p *published) take() []store.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.evs
	p.evs = nil
	return out
}

type rig struct {
	t     *testing.T
	st    *embedded.Store
	e     *Engine
	clock *clock
	exec  *fakeScaler
	pub   *published
	pol   *Policy
	n     int
}

func newRig(t *testing.T, mode Mode) *rig {
	t.Helper()
	st, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &rig{t: t, st: st, clock: &clock{t: time.Now().UTC().Truncate(time.Minute)}, exec: &fakeScaler{replicas: 4, holds: true}, pub: &published{}}
	r.pol = &Policy{Name: "scale-chat", Mode: mode, Cooldown: 30 * time.Minute, Guardrails: DefaultGuardrails, Verify: Verify{Within: 10 * time.Minute},
		When: When{Kind: OnCanary, Canary: "chat-rollout", Verdict: canary.VerdictFail},
		Do:   Do{Executor: Kubernetes, Operation: OpScale, Add: 4, Target: Target{Executor: Kubernetes, Kind: "Deployment", Namespace: "llm", Name: "chat"}}}
	r.e = New(Options{Store: st, Policies: func() []*Policy { return []*Policy{r.pol} },
		Executors: map[string]Executor{Kubernetes: r.exec}, Now: r.clock.Now})
	r.e.SetPublisher(r.pub)
	return r
}

// verdict records a canary verdict and delivers it to the engine, as the
// dispatcher would; it returns the delivery's note.
func (r *rig) verdict(v canary.Verdict) string {
	r.t.Helper()
	r.n++
	end := r.clock.Now()
	ev, err := canary.Finding(canary.Analysis{Monitor: "chat-rollout", Result: canary.Result{Verdict: v, Reason: "test " + strconv.Itoa(r.n)},
		Spec: canary.Spec{Tenant: store.DefaultTenant, Service: "chat", Canary: "canary", Baseline: "stable", Start: end.Add(-time.Duration(r.n) * time.Minute), End: end}})
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.st.WriteEvents(context.Background(), []store.Event{ev}); err != nil {
		r.t.Fatal(err)
	}
	sub := r.e.Triggers()
	if !sub.Accepts(ev) {
		return "not accepted"
	}
	rep, err := sub.Deliver(context.Background(), store.DefaultTenant, []store.Event{ev})
	if err != nil {
		r.t.Fatal(err)
	}
	return rep.Note
}

// execute delivers what the engine published to its executor subscriber.
func (r *rig) execute() error {
	r.t.Helper()
	sub := r.e.Executions()
	var evs []store.Event
	for _, ev := range r.pub.take() {
		if sub.Accepts(ev) {
			evs = append(evs, ev)
		}
	}
	if len(evs) == 0 {
		return nil
	}
	_, err := sub.Deliver(context.Background(), store.DefaultTenant, evs)
	return err
}

func (r *rig) actions() []*Action {
	r.t.Helper()
	as, err := r.e.List(context.Background(), Filter{})
	if err != nil {
		r.t.Fatal(err)
	}
	return as
}

func (r *rig) only() *Action {
	r.t.Helper()
	as := r.actions()
	if len(as) != 1 {
		r.t.Fatalf("%d actions, want 1", len(as))
	}
	return as[0]
}

func states(a *Action) string {
	var s []string
	for _, st := range a.Timeline {
		s = append(s, string(st.State)+"/"+st.Actor)
	}
	return strings.Join(s, " ")
}

func (r *rig) tick() {
	r.t.Helper()
	if err := r.e.Run(context.Background(), r.clock.Now()); err != nil {
		r.t.Fatal(err)
	}
}

func TestDryRunProposesAndNeverExecutes(t *testing.T) {
	r := newRig(t, DryRun)
	if note := r.verdict(canary.VerdictFail); !strings.Contains(note, "proposed action") {
		t.Fatalf("note %q", note)
	}
	a := r.only()
	if a.State != Proposed || a.Plan.Diff() != "replicas 4 → 8" || a.Evidence.Canary == nil || a.Evidence.Canary.Verdict != canary.VerdictFail {
		t.Errorf("action %+v", a)
	}
	if _, err := r.e.Approve(context.Background(), "", a.ID, Decision{Actor: "ann"}); !errors.Is(err, ErrState) {
		t.Errorf("approving a dry-run: %v", err)
	}
	if n, applied := r.exec.state(); n != 4 || applied != 0 {
		t.Errorf("replicas %d, %d applied", n, applied)
	}
	// Inconclusive is no data: never a trigger.
	if note := r.verdict(canary.VerdictInconclusive); note != "not accepted" {
		t.Errorf("inconclusive: %q", note)
	}
}

func TestApproveExecuteVerify(t *testing.T) {
	r := newRig(t, Approve)
	r.verdict(canary.VerdictFail)
	a := r.only()
	ctx := context.Background()
	if _, err := r.e.Approve(ctx, "", a.ID, Decision{Actor: "ann", Version: a.Version + 1}); !errors.Is(err, ErrConflict) {
		t.Errorf("a stale version: %v", err)
	}
	d := Decision{Actor: "ann", Version: a.Version, IdempotencyKey: "k1"}
	if _, err := r.e.Approve(ctx, "", a.ID, d); err != nil {
		t.Fatal(err)
	}
	if again, err := r.e.Approve(ctx, "", a.ID, d); err != nil || again.State != Approved {
		t.Errorf("the same approval again: %v %v", again, err)
	}
	r.verdict(canary.VerdictFail) // still failing when it executes
	if err := r.execute(); err != nil {
		t.Fatal(err)
	}
	if n, applied := r.exec.state(); n != 8 || applied != 1 {
		t.Errorf("replicas %d, %d applied", n, applied)
	}
	r.clock.add(time.Minute)
	r.tick()
	a = r.only()
	if got := states(a); got != "proposed/vigil approved/ann executing/vigil verifying/vigil succeeded/vigil" {
		t.Errorf("timeline %s", got)
	}
	// Delivered again (a restart before the delivery was logged): nothing
	// happens twice.
	if _, err := r.e.drive(ctx, store.DefaultTenant, a.Timeline[1].Transition); err != nil {
		t.Fatal(err)
	}
	if _, applied := r.exec.state(); applied != 1 {
		t.Errorf("applied %d times", applied)
	}
}

// A restart between recording that an action executes and recording
// what applying did: the delivery taken up again applies the frozen plan,
// which the target already shows, so nothing changes twice.
func TestResumesAnInterruptedExecution(t *testing.T) {
	r := newRig(t, Auto)
	r.verdict(canary.VerdictFail)
	a := r.only()
	ctx := context.Background()
	plan, _ := r.exec.Plan(ctx, Request{Do: r.pol.Do})
	step := a.transition(Executing, "vigil", "")
	step.Plan = &plan
	if _, err := r.e.record(ctx, a.Tenant, a, step); err != nil {
		t.Fatal(err)
	}
	r.exec.Apply(ctx, plan) // applied, then the process stopped
	if err := r.execute(); err != nil {
		t.Fatal(err)
	}
	if n, applied := r.exec.state(); n != 8 || applied != 1 || r.only().State != Verifying {
		t.Errorf("replicas %d, applied %d, %s", n, applied, states(r.only()))
	}
}

func TestAutoRespectsTheCooldown(t *testing.T) {
	r := newRig(t, Auto)
	r.verdict(canary.VerdictFail)
	if err := r.execute(); err != nil {
		t.Fatal(err)
	}
	r.clock.add(time.Minute)
	r.tick()
	if got := states(r.only()); got != "proposed/vigil approved/policy:scale-chat executing/vigil verifying/vigil succeeded/vigil" {
		t.Fatalf("timeline %s", got)
	}
	r.clock.add(5 * time.Minute)
	if note := r.verdict(canary.VerdictFail); !strings.Contains(note, "cooling down") {
		t.Errorf("a second regression in the cooldown: %q", note)
	}
	r.clock.add(30 * time.Minute)
	if note := r.verdict(canary.VerdictFail); !strings.Contains(note, "approved action") {
		t.Errorf("after the cooldown: %q", note)
	}
}

// A canary that keeps failing its analysis (a verdict every interval, each
// a new trigger) leaves one open proposal, the first, while its change
// is the one to make: the person deciding approves an id that stays. A
// trigger whose change differs (the target moved) supersedes it.
func TestOneOpenProposalWhileTheEvidenceHolds(t *testing.T) {
	r := newRig(t, Approve)
	if note := r.verdict(canary.VerdictFail); !strings.Contains(note, "proposed action") {
		t.Fatalf("the first failure: %q", note)
	}
	first := r.only()
	for i := range 3 {
		r.clock.add(10 * time.Second)
		if note := r.verdict(canary.VerdictFail); !strings.Contains(note, "already proposed as action "+first.ID) || !strings.Contains(note, "the evidence still holds") {
			t.Fatalf("failure %d: %q", i+2, note)
		}
	}
	if a := r.only(); a.ID != first.ID || a.State != Proposed || a.Version != first.Version {
		t.Fatalf("after more failures: %s %s v%d, want %s proposed v%d", a.ID, a.State, a.Version, first.ID, first.Version)
	}

	// Someone scaled the target by hand: the change to propose is another.
	r.exec.mu.Lock()
	r.exec.replicas = 5
	r.exec.mu.Unlock()
	r.clock.add(10 * time.Second)
	if note := r.verdict(canary.VerdictFail); !strings.Contains(note, "proposed action") {
		t.Fatalf("a different change: %q", note)
	}
	open, err := r.e.List(context.Background(), Filter{States: []State{Proposed}})
	if err != nil || len(open) != 1 || open[0].ID == first.ID || open[0].Plan.Diff() != "replicas 5 → 9" {
		t.Fatalf("open proposals %v (%v)", open, err)
	}
	if old := r.e.mustGet(t, first.ID); old.State != Superseded {
		t.Errorf("the first proposal is %s, want superseded", old.State)
	}
}

func TestKillSwitchHoldsAnApprovedAction(t *testing.T) {
	r := newRig(t, Approve)
	ctx := context.Background()
	r.verdict(canary.VerdictFail)
	a := r.only()
	if err := r.e.Pause(ctx, "ann", "incident"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.e.Approve(ctx, "", a.ID, Decision{Actor: "bob"}); err != nil {
		t.Fatal(err)
	}
	held := r.pub.take()
	r.pub.Publish(held...)
	if err := r.execute(); err == nil || !strings.Contains(err.Error(), "paused") {
		t.Errorf("executing while paused: %v", err)
	}
	if n, _ := r.exec.state(); n != 4 || r.only().State != Approved {
		t.Errorf("replicas %d, state %s", n, r.only().State)
	}
	r.clock.add(time.Second)
	if err := r.e.Resume(ctx, "ann", "over"); err != nil {
		t.Fatal(err)
	}
	r.pub.Publish(held...) // the dispatcher's retry
	if err := r.execute(); err != nil {
		t.Fatal(err)
	}
	if n, _ := r.exec.state(); n != 8 {
		t.Errorf("replicas %d after resuming", n)
	}
	// The flag holds everything whatever is stored.
	flagged := New(Options{Store: r.st, Paused: true})
	if paused, _, _ := flagged.Paused(ctx); !paused {
		t.Error("--actions.paused does not pause")
	}
}

func TestGuardrailsBeforeExecuting(t *testing.T) {
	ctx := context.Background()
	t.Run("approvals expire", func(t *testing.T) {
		r := newRig(t, Approve)
		r.verdict(canary.VerdictFail)
		r.clock.add(2 * time.Hour)
		r.tick()
		if a := r.only(); a.State != Expired {
			t.Errorf("%s", states(a))
		}
	})
	t.Run("evidence re-checked", func(t *testing.T) {
		r := newRig(t, Approve)
		r.verdict(canary.VerdictFail)
		a := r.only()
		r.clock.add(time.Minute)
		r.verdict(canary.VerdictPass)
		r.e.Approve(ctx, "", a.ID, Decision{Actor: "ann"})
		if err := r.execute(); err != nil {
			t.Fatal(err)
		}
		if a := r.only(); a.State != Rejected || !strings.Contains(a.last().Reason, "no longer holds") {
			t.Errorf("%s: %s", states(a), a.last().Reason)
		}
	})
	t.Run("no data at the re-check", func(t *testing.T) {
		r := newRig(t, Approve)
		r.verdict(canary.VerdictFail)
		a := r.only()
		r.clock.add(time.Minute)
		r.verdict(canary.VerdictInconclusive)
		r.e.Approve(ctx, "", a.ID, Decision{Actor: "ann"})
		if err := r.execute(); err != nil {
			t.Fatal(err)
		}
		if a := r.only(); a.State != Rejected || !strings.Contains(a.last().Reason, "no data to act on") {
			t.Errorf("%s: %s", states(a), a.last().Reason)
		}
	})
	t.Run("one in flight per target", func(t *testing.T) {
		r := newRig(t, Auto)
		r.exec.holds = true
		r.verdict(canary.VerdictFail)
		if err := r.execute(); err != nil {
			t.Fatal(err)
		}
		r.pol.Cooldown = 0
		if note := r.verdict(canary.VerdictFail); !strings.Contains(note, "one at a time") {
			t.Errorf("a second proposal while one is verified: %q", note)
		}
	})
	t.Run("the target moved since the proposal", func(t *testing.T) {
		r := newRig(t, Approve)
		r.verdict(canary.VerdictFail)
		a := r.only()
		r.exec.mu.Lock()
		r.exec.replicas = 5
		r.exec.mu.Unlock()
		r.e.Approve(ctx, "", a.ID, Decision{Actor: "ann"})
		if err := r.execute(); err != nil {
			t.Fatal(err)
		}
		if a := r.e.mustGet(t, a.ID); a.State != Rejected || !strings.Contains(a.last().Reason, "changed since the proposal") {
			t.Errorf("%s: %s", states(a), a.last().Reason)
		}
	})
	t.Run("rate limit", func(t *testing.T) {
		r := newRig(t, Auto)
		r.pol.Cooldown, r.pol.Guardrails.RateCount = 0, 1
		r.verdict(canary.VerdictFail)
		r.execute()
		r.clock.add(time.Minute)
		r.tick()
		r.verdict(canary.VerdictFail)
		r.execute()
		var reasons []string
		for _, a := range r.actions() {
			reasons = append(reasons, string(a.State)+": "+a.last().Reason)
		}
		if len(reasons) != 2 || !strings.Contains(reasons[0], "rate limit") {
			t.Errorf("%q", reasons)
		}
	})
}

func (e *Engine) mustGet(t *testing.T, id string) *Action {
	t.Helper()
	a, err := e.Get(context.Background(), "", id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Verification against the SLO: a scale after which the SLO still burns
// fails, escalates and is reverted; one without data by the deadline
// fails (no data counts as a failure) and is left for a person.
func TestVerificationFailures(t *testing.T) {
	for _, tc := range []struct {
		name       string
		good       float64 // of 100 requests a minute after the execution; 0 writes none
		revert     bool
		state      State
		reason     string
		replicasAt int
	}{
		{"still burning", 50, true, Reverted, "still burns at 50.00", 4},
		{"no data", 0, false, Failed, "no data counts as a failure", 8},
		{"recovered", 100, false, Succeeded, "burns at 0.00", 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, Auto)
			r.pol.Verify = Verify{Within: 10 * time.Minute, SLO: "chat-errors", Expect: Expectation{BurnBelow: 1}}
			r.e.opts.SLOs = func() []*slo.SLO { return []*slo.SLO{{Name: "chat-errors", Objective: 0.99}} }
			r.verdict(canary.VerdictFail)
			if err := r.execute(); err != nil {
				t.Fatal(err)
			}
			executed := r.clock.Now()
			var rollups []store.Rollup
			for m := 1; m <= 11 && tc.good > 0; m++ {
				rollups = append(rollups, store.Rollup{Tenant: store.DefaultTenant, SLO: "chat-errors", Minute: executed.Add(time.Duration(m) * time.Minute), Good: tc.good, Total: 100})
			}
			r.st.WriteRollups(context.Background(), rollups)
			r.clock.add(11 * time.Minute)
			r.tick()
			a := r.only()
			if a.State == Failed && a.last().Revert != tc.revert {
				t.Errorf("revert %v", a.last().Revert)
			}
			if a.State == Failed {
				failure := r.pub.take()
				if !(&Escalation{}).Accepts(failure[len(failure)-1]) {
					t.Error("the failure is not escalated")
				}
				r.pub.Publish(failure...)
			}
			if err := r.execute(); err != nil {
				t.Fatal(err)
			}
			a = r.only()
			if a.State != tc.state || !strings.Contains(a.Timeline[min(len(a.Timeline)-1, 4)].Reason, tc.reason) {
				t.Errorf("%s: %s", states(a), a.Timeline[min(len(a.Timeline)-1, 4)].Reason)
			}
			if n, _ := r.exec.state(); n != tc.replicasAt {
				t.Errorf("replicas %d", n)
			}
		})
	}
}

// Two different actions that both recorded that they execute on one
// target (replicas that disagreed on ownership): reading back, each sees
// the other, and neither applies.
func TestLeaseRace(t *testing.T) {
	r := newRig(t, Approve)
	ctx := context.Background()
	var ids []string
	for _, id := range []string{"a1", "a2"} {
		a := &Action{ID: id, Tenant: store.DefaultTenant}
		if _, err := r.e.record(ctx, a.Tenant, a,
			Transition{Policy: "p", Target: r.pol.Do.Target, State: Proposed, Actor: "vigil"},
			Transition{Policy: "p", Target: r.pol.Do.Target, State: Approved, Actor: "ann"},
			Transition{Policy: "p", Target: r.pol.Do.Target, State: Executing, Actor: "vigil"}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for i, id := range ids {
		if rival := r.e.rival(ctx, r.e.mustGet(t, id)); rival != ids[1-i] {
			t.Errorf("%s sees rival %q", id, rival)
		}
	}
}

// Abort rejects what has not executed and fails a verification without a
// revert; Retry approves a failed action's next attempt.
func TestAbortAndRetry(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, Approve)
	r.verdict(canary.VerdictFail)
	a := r.only()
	if _, err := r.e.Abort(ctx, "", a.ID, Decision{Actor: "ann", Reason: "wrong target"}); err != nil {
		t.Fatal(err)
	}
	if a = r.only(); a.State != Rejected || a.last().Reason != "aborted: wrong target" {
		t.Errorf("%s: %s", states(a), a.last().Reason)
	}
	if _, err := r.e.Retry(ctx, "", a.ID, Decision{Actor: "ann"}); !errors.Is(err, ErrState) {
		t.Errorf("retrying a rejected action: %v", err)
	}

	r = newRig(t, Auto)
	r.pol.Verify = Verify{Within: 10 * time.Minute, SLO: "chat-errors", Expect: Expectation{BurnBelow: 1}}
	r.e.opts.SLOs = func() []*slo.SLO { return []*slo.SLO{{Name: "chat-errors", Service: "chat", Objective: 0.99}} }
	r.verdict(canary.VerdictFail)
	r.execute()
	a = r.only()
	if _, err := r.e.Abort(ctx, "", a.ID, Decision{Actor: "ann"}); err != nil {
		t.Fatal(err)
	}
	if a = r.only(); a.State != Failed || a.last().Revert {
		t.Errorf("aborting a verification: %s (revert %v)", states(a), a.last().Revert)
	}
	r.clock.add(time.Hour) // past the cooldown
	r.exec.mu.Lock()
	r.exec.replicas = 4
	r.exec.mu.Unlock()
	if _, err := r.e.Retry(ctx, "", a.ID, Decision{Actor: "ann", Version: a.Version}); err != nil {
		t.Fatal(err)
	}
	if err := r.execute(); err != nil {
		t.Fatal(err)
	}
	if a = r.e.mustGet(t, a.ID); a.State != Verifying || a.Attempt != 2 {
		t.Errorf("the retry: %s, attempt %d", states(a), a.Attempt)
	}
}

// A burn-rate alert proposes with the SLO's burn rates over every window
// frozen as evidence; the alert resolved, the approved action is refused.
func TestSLOAlertEvidence(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, Approve)
	s := &slo.SLO{Name: "chat-latency", Service: "chat", Objective: 0.99, Window: slo.TimeWindow{Duration: 30 * 24 * time.Hour, Rolling: true},
		Alerts: slo.DefaultAlertWindows(30 * 24 * time.Hour)}
	r.e.opts.SLOs = func() []*slo.SLO { return []*slo.SLO{s} }
	r.pol.When = When{Kind: OnSLO, SLO: "chat-latency", Alert: "page"}
	now := r.clock.Now()
	var rollups []store.Rollup
	for m := 1; m <= 90; m++ {
		rollups = append(rollups, store.Rollup{Tenant: store.DefaultTenant, SLO: s.Name, Minute: now.Add(-time.Duration(m) * time.Minute), Good: 80, Total: 100})
	}
	if err := r.st.WriteRollups(ctx, rollups); err != nil {
		t.Fatal(err)
	}
	alert := func(state slo.AlertState, at time.Time) store.Event {
		labels := map[string]string{"alertname": slo.AlertName, "slo": s.Name, "severity": "page", "tenant": store.DefaultTenant}
		ev, err := slo.AlertTransitions.Event(store.Event{Tenant: store.DefaultTenant, ID: store.EventID(store.KindAlert, string(state)), Subject: s.Name, Time: at},
			slo.AlertTransition{SLO: s.Name, Fingerprint: "fp", State: state, Labels: labels, StartsAt: now})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.st.WriteEvents(ctx, []store.Event{ev}); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	firing := alert(slo.StateFiring, now)
	if _, err := r.e.Triggers().Deliver(ctx, store.DefaultTenant, []store.Event{firing}); err != nil {
		t.Fatal(err)
	}
	a := r.only()
	x := a.Evidence.SLO
	if x == nil || x.Severity != "page" || len(x.Burns) != 4 || !x.Burns[0].Firing || x.Burns[0].LongRate < 19 || x.Burns[0].LongWindow != "1h0m0s" || x.SLI > 0.81 {
		t.Fatalf("evidence %+v", x)
	}
	r.clock.add(time.Minute)
	alert(slo.StateResolved, r.clock.Now())
	r.e.Approve(ctx, "", a.ID, Decision{Actor: "ann"})
	if err := r.execute(); err != nil {
		t.Fatal(err)
	}
	if a := r.only(); a.State != Rejected || !strings.Contains(a.last().Reason, "the alert is resolved") {
		t.Errorf("%s: %s", states(a), a.last().Reason)
	}
}

// Right-sizing advice for the policy's target proposes with the
// recommendation and its inputs as evidence; advice for another workload
// does not.
func TestRecommendationTrigger(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, DryRun)
	r.pol.When = When{Kind: OnRecommendation, Recommendation: "replicas"}
	advice := func(workload string, recommended int) store.Event {
		ev, err := rightsize.AdviceEvent(rightsize.Advice{Namespace: "llm", Kind: "Deployment", Workload: workload,
			Replicas: &rightsize.ReplicaAdvice{ReplicaRecommendation: rightsize.ReplicaRecommendation{Current: 4, Recommended: recommended, Samples: 60},
				Service: "chat", LatestRPS: 120, PeakRPS: 150}}, r.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	sub := r.e.Triggers()
	if sub.Accepts(advice("chat", 4)) {
		t.Error("advice to keep what is taken")
	}
	if _, err := sub.Deliver(ctx, store.DefaultTenant, []store.Event{advice("other", 8)}); err != nil || len(r.actions()) != 0 {
		t.Fatalf("advice for another workload: %v, %d actions", err, len(r.actions()))
	}
	if _, err := sub.Deliver(ctx, store.DefaultTenant, []store.Event{advice("chat", 8)}); err != nil {
		t.Fatal(err)
	}
	x := r.only().Evidence.Recommendation
	if x == nil || x.Replicas.Recommended != 8 || x.Replicas.PeakRPS != 150 || x.Replicas.Samples != 60 {
		t.Errorf("evidence %+v", x)
	}
}
