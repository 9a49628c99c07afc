package actions_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/actions/kube"
	"github.com/vigil-dev/vigil/actions/kube/kubetest"
	"github.com/vigil-dev/vigil/analyzer/canary"
	"github.com/vigil-dev/vigil/config"
	"github.com/vigil-dev/vigil/dispatch"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// world is Vigil's analyzer in a test: the store, the config directory
// read by the real sections, the canary job and the SLO evaluator, the
// actions engine on a clock the test moves, and a real dispatcher
// between them; and a real API server with its controllers.
type world struct {
	t      *testing.T
	st     *embedded.Store
	kube   kubetest.Cluster
	ns     string
	mu     sync.Mutex
	now    time.Time
	mode   actions.Mode
	cfg    *config.Config
	sloS   *config.Section[[]*slo.SLO]
	canS   *config.Section[[]canary.Monitor]
	actS   *config.Section[[]*actions.Policy]
	engine *actions.Engine
	disp   *dispatch.Dispatcher
	rng    *rand.Rand
}

const configYAML = `slos:
  - name: chat-errors
    service: chat
    availability: true
    objective: 99%
canaries:
  - name: chat-rollout
    service: chat
    canary: canary
    baseline: stable
    window: 5m
    every: 1m
    min_samples: 50
actions:
  - name: rollback-chat
    when: {canary: chat-rollout, verdict: fail}
    do: {kubernetes: {rollback: {deployment: chat, namespace: NS}}}
    mode: approve
    cooldown: 30m
    verify: {within: 10m, slo: chat-errors, expect: burn-below-1}
`

func newWorld(t *testing.T) *world {
	c := kubetest.Connect(t)
	w := &world{t: t, kube: c, ns: kubetest.Namespace(t, c), now: time.Now().UTC().Truncate(time.Minute), mode: actions.Approve, rng: rand.New(rand.NewPCG(1, 2))}
	st, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w.st = st
	w.readConfig()
	w.engine = actions.New(actions.Options{Store: st, Now: w.clock, SLOs: func() []*slo.SLO { return w.sloS.Of(w.cfg) },
		Policies: w.policies, Executors: map[string]actions.Executor{actions.Kubernetes: &kube.Executor{Clients: c.Clients}}})
	w.disp, err = dispatch.New(dispatch.Options{Store: st, Subscribers: []dispatch.Subscriber{w.engine.Triggers(), w.engine.Executions()},
		Backoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w.engine.SetPublisher(w.disp)
	go w.disp.Serve()
	t.Cleanup(func() { w.disp.Shutdown(context.Background()) })
	return w
}

// readConfig reads the config directory with the sections serve uses.
func (w *world) readConfig() {
	dir := w.t.TempDir()
	os.WriteFile(filepath.Join(dir, "vigil.yaml"), []byte(strings.ReplaceAll(configYAML, "NS", w.ns)), 0o644)
	w.sloS, w.canS = slo.Section(time.Minute), canary.Section
	w.actS = actions.Section(func(c *config.Config) actions.Catalog {
		return actions.Catalog{SLOs: map[string][]string{"default/chat-errors": {"page", "ticket"}}, Canaries: map[string]bool{"default/chat-rollout": true}}
	})
	reg, err := config.NewRegistry(w.sloS, w.canS, w.actS)
	if err != nil {
		w.t.Fatal(err)
	}
	cfg, problems, err := reg.Load([]string{dir})
	if err != nil || len(problems) > 0 {
		w.t.Fatalf("config: %v %v", problems, err)
	}
	w.cfg = cfg
}

func (w *world) clock() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now }
func (w *world) advance(d time.Duration) {
	w.mu.Lock()
	w.now = w.now.Add(d)
	w.mu.Unlock()
}

// policies are the config's, in the mode the test sets.
func (w *world) policies() []*actions.Policy {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := []*actions.Policy{}
	for _, p := range w.actS.Of(w.cfg) {
		c := *p
		c.Mode = w.mode
		out = append(out, &c)
	}
	return out
}

func (w *world) setMode(m actions.Mode) { w.mu.Lock(); w.mode = m; w.mu.Unlock() }

// traffic writes n spans a side over the minutes before the clock: the
// stable deployment healthy, the canary failing errPercent of requests.
func (w *world) traffic(minutes, n int, deployments map[string]int) {
	w.t.Helper()
	var spans []store.Span
	end := w.clock()
	for dep, errPercent := range deployments {
		for i := range n {
			var tid store.TraceID
			var sid store.SpanID
			for k := range tid {
				tid[k] = byte(w.rng.UintN(256))
			}
			for k := range sid {
				sid[k] = byte(w.rng.UintN(256))
			}
			s := store.Span{Tenant: store.DefaultTenant, TraceID: tid, SpanID: sid, Service: "chat", Operation: "chat", Kind: store.SpanKindServer,
				StartUnixNano: end.Add(-time.Duration(minutes)*time.Minute + time.Duration(i)*time.Duration(minutes)*time.Minute/time.Duration(n)).UnixNano(),
				DurationNano:  int64(50*time.Millisecond) + int64(w.rng.IntN(int(20*time.Millisecond))), StatusCode: store.StatusOK, Deployment: dep}
			if w.rng.IntN(100) < errPercent {
				s.StatusCode = store.StatusError
			}
			spans = append(spans, s)
		}
	}
	if err := w.st.WriteSpans(context.Background(), spans); err != nil {
		w.t.Fatal(err)
	}
}

// tick runs the analyzer's jobs at the clock: the canary judged (its
// verdict published to the dispatcher), the SLO's rollups, the actions.
func (w *world) tick() {
	w.t.Helper()
	ctx, now := context.Background(), w.clock()
	job := &canary.Job{Store: w.st, Current: func() []canary.Monitor { return w.canS.Of(w.cfg) }, Publisher: w.disp}
	if err := job.Run(ctx, now); err != nil {
		w.t.Fatal(err)
	}
	ev := &slo.Evaluator{Store: w.st, Current: func() []*slo.SLO { return w.sloS.Of(w.cfg) }}
	if err := ev.Run(ctx, now); err != nil {
		w.t.Fatal(err)
	}
	if err := w.engine.Run(ctx, now); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) actions() []*actions.Action {
	as, err := w.engine.List(context.Background(), actions.Filter{})
	if err != nil {
		w.t.Fatal(err)
	}
	return as
}

// await waits for the newest action to reach a state; failing, it
// shows the actions and the delivery log.
func (w *world) await(n int, s actions.State) *actions.Action {
	w.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if as := w.actions(); len(as) == n && as[0].State == s {
			return as[0]
		}
	}
	for _, a := range w.actions() {
		w.t.Logf("action %s: %s: %s", a.ID, timeline(a), a.Timeline[len(a.Timeline)-1].Reason)
	}
	log, _ := dispatch.Deliveries.Read(context.Background(), w.st, store.EventQuery{Tenant: store.DefaultTenant, Start: time.Unix(0, 0), End: time.Now().Add(48 * time.Hour)})
	for _, d := range log {
		w.t.Logf("delivery to %s: %s %s %s", d.Value.Subscriber, d.Value.Outcome, d.Value.Note, d.Value.Error)
	}
	verdicts, _ := canary.Analyses.Read(context.Background(), w.st, store.EventQuery{Tenant: store.DefaultTenant, Start: time.Unix(0, 0), End: time.Now().Add(48 * time.Hour)})
	for _, v := range verdicts {
		w.t.Logf("canary verdict at %s: %s (%s)", v.Event.Time, v.Value.Verdict, v.Value.Reason)
	}
	w.t.Fatalf("action %d did not become %s", n, s)
	return nil
}

func (w *world) image() string {
	d, err := w.kube.Kube.AppsV1().Deployments(w.ns).Get(context.Background(), "chat", metav1.GetOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	return d.Spec.Template.Spec.Containers[0].Image
}

func timeline(a *actions.Action) string {
	var s []string
	for _, st := range a.Timeline {
		s = append(s, string(st.State)+"/"+st.Actor)
	}
	return strings.Join(s, " ")
}

// A failing canary, through the dispatcher, proposes a rollback; a person
// approves it; the Deployment on the API server is rolled back; the SLO
// recovers and the verification says so. Then in auto mode a second
// regression within the cooldown is let be, and one after it rolled back
// without a person; a dry-run changes nothing; the kill switch holds an
// approved rollback until it is turned off.
func TestCanaryRegressionRolledBack(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	kubetest.Deployment(t, w.kube, w.ns, "chat", "registry.invalid/chat:v1", 1, corev1.ResourceRequirements{})
	kubetest.Revision(t, w.kube, w.ns, "chat", "1")
	kubetest.SetImage(t, w.kube, w.ns, "chat", "registry.invalid/chat:v2")
	kubetest.Revision(t, w.kube, w.ns, "chat", "2")

	w.traffic(5, 300, map[string]int{"stable": 0, "canary": 30})
	w.tick()
	a := w.await(1, actions.Proposed)
	ev := a.Evidence
	if ev.Kind != actions.OnCanary || ev.Canary.Verdict != canary.VerdictFail || len(ev.Canary.Metrics) == 0 || ev.Canary.Monitor != "chat-rollout" {
		t.Errorf("evidence %+v", ev)
	}
	if a.Plan.Diff() != "revision 2 → 1, image server registry.invalid/chat:v2 → registry.invalid/chat:v1" {
		t.Errorf("plan %q", a.Plan.Diff())
	}
	if _, err := w.engine.Approve(ctx, "", a.ID, actions.Decision{Actor: "ann", Version: a.Version, IdempotencyKey: "req-1"}); err != nil {
		t.Fatal(err)
	}
	a = w.await(1, actions.Verifying)
	kubetest.Revision(t, w.kube, w.ns, "chat", "3")
	if img := w.image(); img != "registry.invalid/chat:v1" {
		t.Fatalf("image after the rollback: %s", img)
	}
	// The SLO recovers: every request succeeds after the rollback.
	w.advance(3 * time.Minute)
	w.traffic(2, 200, map[string]int{"stable": 0})
	w.tick()
	a = w.await(1, actions.Succeeded)
	if got := timeline(a); got != "proposed/vigil approved/ann executing/vigil verifying/vigil succeeded/vigil" {
		t.Errorf("timeline %s", got)
	}
	if last := a.Timeline[len(a.Timeline)-1]; !strings.Contains(last.Reason, "SLO chat-errors burns at 0.00") {
		t.Errorf("verification: %s", last.Reason)
	}

	// Auto mode: a second regression inside the cooldown is let be.
	w.setMode(actions.Auto)
	kubetest.SetImage(t, w.kube, w.ns, "chat", "registry.invalid/chat:v3")
	kubetest.Revision(t, w.kube, w.ns, "chat", "4")
	w.advance(10 * time.Minute)
	w.traffic(5, 300, map[string]int{"stable": 0, "canary": 30})
	w.tick()
	time.Sleep(300 * time.Millisecond)
	if n := len(w.actions()); n != 1 || w.image() != "registry.invalid/chat:v3" {
		t.Fatalf("%d actions and %s inside the cooldown", n, w.image())
	}
	// After it, the regression is rolled back without a person.
	w.advance(30 * time.Minute)
	w.traffic(5, 300, map[string]int{"stable": 0, "canary": 30})
	w.tick()
	a = w.await(2, actions.Verifying)
	if a.Timeline[1].Actor != "policy:rollback-chat" || w.image() != "registry.invalid/chat:v1" {
		t.Errorf("auto: %s, image %s", timeline(a), w.image())
	}
	kubetest.Revision(t, w.kube, w.ns, "chat", "5")
	w.advance(3 * time.Minute)
	w.traffic(2, 200, map[string]int{"stable": 0})
	w.tick()
	w.await(2, actions.Succeeded)

	// Dry-run proposes the exact change and changes nothing.
	w.setMode(actions.DryRun)
	kubetest.SetImage(t, w.kube, w.ns, "chat", "registry.invalid/chat:v4")
	kubetest.Revision(t, w.kube, w.ns, "chat", "6")
	w.advance(40 * time.Minute)
	w.traffic(5, 300, map[string]int{"stable": 0, "canary": 30})
	w.tick()
	a = w.await(3, actions.Proposed)
	if _, err := w.engine.Approve(ctx, "", a.ID, actions.Decision{Actor: "ann"}); !errors.Is(err, actions.ErrState) || w.image() != "registry.invalid/chat:v4" ||
		!strings.Contains(a.Plan.Diff(), "registry.invalid/chat:v4 → registry.invalid/chat:v1") {
		t.Errorf("dry-run: %v, image %s, plan %q", err, w.image(), a.Plan.Diff())
	}
	if _, err := w.engine.Reject(ctx, "", a.ID, actions.Decision{Actor: "ann", Reason: "rehearsal over"}); err != nil {
		t.Fatal(err)
	}

	// The kill switch holds an approved action before it executes.
	w.setMode(actions.Approve)
	w.advance(time.Minute)
	w.traffic(5, 300, map[string]int{"stable": 0, "canary": 30})
	w.tick()
	a = w.await(4, actions.Proposed)
	if err := w.engine.Pause(ctx, "bob", "incident 42"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.engine.Approve(ctx, "", a.ID, actions.Decision{Actor: "ann"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the dispatcher tries, and holds
	if got, _ := w.engine.Get(ctx, "", a.ID); got.State != actions.Approved || w.image() != "registry.invalid/chat:v4" {
		t.Fatalf("paused: %s, image %s", got.State, w.image())
	}
	if err := w.engine.Resume(ctx, "bob", "incident over"); err != nil {
		t.Fatal(err)
	}
	w.await(4, actions.Verifying)
	if w.image() != "registry.invalid/chat:v1" {
		t.Errorf("image after resuming: %s", w.image())
	}
}
