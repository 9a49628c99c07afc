package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/actions/kube/kubetest"
)

// actionsConfig is a tenant's SLO, canary monitor and rollback policy:
// what the end-to-end tests run vigil serve with, once the policy's
// trigger (WHEN), the Deployment's NAMESPACE and the policy's MODE are
// filled in.
const actionsConfig = `slos:
  - name: chat-errors
    tenant: acme
    service: chat
    availability: true
    objective: 99%
canaries:
  - name: chat-rollout
    tenant: acme
    service: chat
    canary: canary
    baseline: stable
    window: 5m
    every: 1s
    min_samples: 50
actions:
  - name: rollback-chat
    tenant: acme
    when: WHEN
    do: {kubernetes: {rollback: {deployment: chat, namespace: NAMESPACE}}}
    mode: MODE
    cooldown: 30m
    verify: {within: 3m, slo: chat-errors, expect: burn-below-1}
`

// Policy triggers: the canary monitor failing, the SLO's page alert.
const (
	onCanary = "{canary: chat-rollout, verdict: fail}"
	onAlert  = "{slo: chat-errors, alert: page}"
)

// actionsWorld is vigil serve acting on a Deployment of the real API
// server, with tokens for an operator and a viewer of tenant acme.
type actionsWorld struct {
	t                *testing.T
	v                *vigilServer
	kube             kubetest.Cluster
	ns, config, when string
	operator, viewer string
}

// newActionsWorld rolls the Deployment chat out at v1, then v2, and
// starts vigil serve with the policy on when in mode, ticking every
// second.
func newActionsWorld(t *testing.T, when string, mode actions.Mode) *actionsWorld {
	c := kubetest.Connect(t)
	w := &actionsWorld{t: t, kube: c, ns: kubetest.Namespace(t, c), config: t.TempDir(), when: when}
	kubetest.Deployment(t, c, w.ns, "chat", "registry.invalid/chat:v1", 1, corev1.ResourceRequirements{})
	kubetest.Revision(t, c, w.ns, "chat", "1")
	kubetest.SetImage(t, c, w.ns, "chat", "registry.invalid/chat:v2")
	kubetest.Revision(t, c, w.ns, "chat", "2")
	w.setMode(mode)
	data := t.TempDir()
	w.operator = createToken(t, data, "", "acme", "operator")
	w.viewer = createToken(t, data, "", "acme", "viewer")
	w.v = startServe(t, "", "--data-dir", data, "--config-dir", w.config, "--analyzer.interval", "1s", "--config.poll-interval", "1s",
		"--actions.kubeconfig", os.Getenv("VIGIL_TEST_KUBE"))
	return w
}

func (w *actionsWorld) setMode(m actions.Mode) {
	body := strings.NewReplacer("WHEN", w.when, "NAMESPACE", w.ns, "MODE", string(m)).Replace(actionsConfig)
	if err := os.WriteFile(filepath.Join(w.config, "vigil.yaml"), []byte(body), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// regress sends a canary failing 30% of its requests beside a healthy
// stable deployment, over the two minutes before now: the canary monitor
// fails at its next tick.
func (w *actionsWorld) regress() {
	now := time.Now()
	w.send("stable", 300, 0, now.Add(-2*time.Minute), now)
	w.send("canary", 300, 30, now.Add(-2*time.Minute), now)
}

// send emits n spans of one deployment of the chat service in tenant
// acme through the OpenTelemetry SDK, as its pods would, spread over
// [from, to); errPercent of every hundred fail.
func (w *actionsWorld) send(deployment string, n, errPercent int, from, to time.Time) {
	w.t.Helper()
	ctx := context.Background()
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(w.v.grpc), otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithHeaders(headers(w.v.grpc, "X-Scope-OrgID", "acme")))
	if err != nil {
		w.t.Fatal(err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", "chat"), attribute.String("deployment.name", deployment))
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(exp, sdktrace.WithMaxExportBatchSize(500)))
	tr := tp.Tracer("vigil-actions-e2e")
	for i := range n {
		at := from.Add(time.Duration(i) * to.Sub(from) / time.Duration(n))
		_, sp := tr.Start(ctx, "generate", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(at))
		if i%100 < errPercent {
			sp.SetStatus(codes.Error, "model returned garbage")
		}
		sp.End(trace.WithTimestamp(at.Add(time.Duration(40+i%20) * time.Millisecond)))
	}
	if err := tp.Shutdown(ctx); err != nil {
		w.t.Fatalf("exporting %s to vigil: %v", deployment, err)
	}
}

// api calls Vigil's API in tenant acme with a token.
func (w *actionsWorld) api(method, path, token string, header http.Header, body string) (int, []byte) {
	w.t.Helper()
	req, _ := http.NewRequest(method, "http://"+w.v.web+path, strings.NewReader(body))
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Scope-OrgID", "acme")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// cli runs vigil actions against the server as a token's owner, as a
// person would (the token in VIGIL_TOKEN); it returns what the command
// printed and its exit code.
func (w *actionsWorld) cli(token string, args ...string) (string, string, int) {
	w.t.Helper()
	cmd := exec.Command(binary, append([]string{"actions", "--server", "http://" + w.v.web, "--tenant", "acme"}, args...)...)
	cmd.Env = append(os.Environ(), "VIGIL_TOKEN="+token)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Run()
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

// actions are the tenant's actions, newest proposal first.
func (w *actionsWorld) actions() []actions.Summary {
	w.t.Helper()
	code, body := w.api("GET", "/api/v1/actions", w.viewer, nil, "")
	var page struct{ Actions []actions.Summary }
	if code != 200 || json.Unmarshal(body, &page) != nil {
		w.t.Fatalf("GET /api/v1/actions: %d %s", code, body)
	}
	return page.Actions
}

// action is one action as GET /api/v1/actions/{id} answers it.
func (w *actionsWorld) action(id string) actions.Action {
	w.t.Helper()
	code, body := w.api("GET", "/api/v1/actions/"+id, w.viewer, nil, "")
	var a actions.Action
	if code != 200 || json.Unmarshal(body, &a) != nil {
		w.t.Fatalf("GET /api/v1/actions/%s: %d %s", id, code, body)
	}
	return a
}

// await waits until there are n actions, the newest in a state.
func (w *actionsWorld) await(n int, s actions.State) actions.Summary {
	w.t.Helper()
	var as []actions.Summary
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if as = w.actions(); len(as) == n && as[0].State == s {
			return as[0]
		}
	}
	_, notes := w.api("GET", "/api/v1/alerts/deliveries?receiver=actions,actions-executor", w.operator, nil, "")
	w.t.Fatalf("no %d actions, the newest %s: %+v\nthe engine's deliveries: %.3000s\nstderr:\n%s", n, s, as, notes, w.v.stderr)
	return actions.Summary{}
}

func (w *actionsWorld) image() string {
	w.t.Helper()
	d, err := w.kube.Kube.AppsV1().Deployments(w.ns).Get(context.Background(), "chat", metav1.GetOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	return d.Spec.Template.Spec.Containers[0].Image
}

// recover sends healthy traffic once the minute after the execution has
// begun: the verification judges the SLO over whole minutes after it.
func (w *actionsWorld) recover(a actions.Action) {
	var executed time.Time
	for _, s := range a.Timeline {
		if s.State == actions.Executing {
			executed = s.At
		}
	}
	time.Sleep(time.Until(executed.Truncate(time.Minute).Add(time.Minute + time.Second)))
	now := time.Now()
	w.send("stable", 200, 0, now.Add(-500*time.Millisecond), now)
}

func timelineOf(a actions.Action) string {
	var s []string
	for _, st := range a.Timeline {
		s = append(s, string(st.State)+"/"+st.Actor)
	}
	return strings.Join(s, " ")
}

func tokenSubject(token string) string { return "token:" + strings.Split(token, "_")[1] }

// TestActionsRollbackApproved is issue 13's "done when" on the real
// binary: a canary regression sent through the OpenTelemetry SDK fails
// the canary monitor, the policy proposes a rollback, a viewer's approval
// is refused naming operator, an operator approves through the API (with
// vigil actions approve), the Deployment on the API server is rolled
// back, the verification sees the SLO recover, and the action shows its
// whole timeline with evidence; the decision and the refusal are in the
// audit log, the outcome in the metrics.
func TestActionsRollbackApproved(t *testing.T) {
	t.Parallel()
	w := newActionsWorld(t, onCanary, actions.Approve)
	w.regress()
	s := w.await(1, actions.Proposed)
	if s.Change != "revision 2 → 1, image server registry.invalid/chat:v2 → registry.invalid/chat:v1" || s.Trigger != actions.OnCanary {
		t.Errorf("proposal: %+v", s)
	}

	// A viewer may not approve, through the API or the CLI.
	if code, body := w.api("POST", "/api/v1/actions/"+s.ID+"/approve", w.viewer, http.Header{"If-Match": {`"1"`}}, ""); code != 403 || !strings.Contains(string(body), "operator") {
		t.Errorf("a viewer approving: %d %s", code, body)
	}
	if _, stderr, code := w.cli(w.viewer, "approve", s.ID); code != 1 || !strings.Contains(stderr, "operator") {
		t.Errorf("a viewer approving with the CLI: exit %d: %s", code, stderr)
	}
	// An operator approves the version it read.
	out, stderr, code := w.cli(w.operator, "approve", s.ID, "--version", "1", "--reason", "the canary fails its error rate")
	if code != 0 || !strings.Contains(out, "is approved (version 2)") {
		t.Fatalf("approve: exit %d: %s%s", code, out, stderr)
	}
	w.await(1, actions.Verifying)
	kubetest.Revision(t, w.kube, w.ns, "chat", "3")
	if img := w.image(); img != "registry.invalid/chat:v1" {
		t.Fatalf("image after the rollback: %s", img)
	}
	w.recover(w.action(s.ID))
	w.await(1, actions.Succeeded)

	a := w.action(s.ID)
	if got, want := timelineOf(a), "proposed/vigil approved/"+tokenSubject(w.operator)+" executing/vigil verifying/vigil succeeded/vigil"; got != want {
		t.Errorf("timeline %s, want %s", got, want)
	}
	if last := a.Timeline[len(a.Timeline)-1]; !strings.Contains(last.Reason, "SLO chat-errors burns at 0.00 since the execution") {
		t.Errorf("verification: %s", last.Reason)
	}
	if x := a.Evidence.Canary; x == nil || x.Verdict != "fail" || x.Monitor != "chat-rollout" || len(x.Metrics) != 2 || x.Metrics[1].ErrorRate == nil || x.Metrics[1].ErrorRate.CanaryErrors < 50 {
		t.Errorf("evidence %+v", a.Evidence)
	}
	if a.Timeline[1].Decision != actions.VerbApprove || a.Timeline[1].Reason != "the canary fails its error rate" || a.Plan.Diff() != s.Change {
		t.Errorf("the approval %+v, plan %s", a.Timeline[1], a.Plan.Diff())
	}
	if out, _, code := w.cli(w.viewer, "show", s.ID); code != 0 || !strings.Contains(out, "succeeded, attempt 1") || !strings.Contains(out, "canary: ") {
		t.Errorf("vigil actions show: exit %d\n%s", code, out)
	}

	// The audit log: the approval, and the viewer's refusal (written
	// within a second).
	want := []string{"action_approved " + tokenSubject(w.operator) + " " + s.ID, "forbidden " + tokenSubject(w.viewer) + " POST /api/v1/actions/" + s.ID + "/approve"}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		_, body := w.api("GET", "/api/v1/audit", w.v.token, nil, "")
		var audit []struct{ Action, Actor, Target string }
		json.Unmarshal(body, &audit)
		seen := map[string]int{}
		for _, r := range audit {
			seen[r.Action+" "+r.Actor+" "+r.Target]++
		}
		if seen[want[0]] == 1 && seen[want[1]] == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the audit log lacks %v: %s", want, body)
		}
	}
	m := ownMetrics(t, w.v)
	for series, want := range map[string]float64{
		`vigil_actions_total{executor="kubernetes",outcome="succeeded",policy="rollback-chat"}`:     1,
		`vigil_actions_proposed_total{executor="kubernetes",mode="approve",policy="rollback-chat"}`: 1,
		`vigil_action_decision_seconds_count{decision="approved",policy="rollback-chat"}`:           1,
		`vigil_action_recovery_seconds_count{executor="kubernetes",policy="rollback-chat"}`:         1,
	} {
		if m[series] != want {
			t.Errorf("%s = %v, want %v", series, m[series], want)
		}
	}
	w.v.stop(t)
}

// TestActionsAutoRespectsTheCooldown: the same policy in auto mode rolls
// a regression back without a person, and lets a second regression be
// within its cooldown, saying so in the actions' delivery log.
func TestActionsAutoRespectsTheCooldown(t *testing.T) {
	t.Parallel()
	w := newActionsWorld(t, onCanary, actions.Auto)
	w.regress()
	s := w.await(1, actions.Verifying)
	kubetest.Revision(t, w.kube, w.ns, "chat", "3")
	if img := w.image(); img != "registry.invalid/chat:v1" {
		t.Fatalf("image after the rollback: %s", img)
	}
	w.recover(w.action(s.ID))
	w.await(1, actions.Succeeded)
	if got := timelineOf(w.action(s.ID)); got != "proposed/vigil approved/policy:rollback-chat executing/vigil verifying/vigil succeeded/vigil" {
		t.Errorf("timeline %s", got)
	}

	// A second regression, inside the cooldown.
	kubetest.SetImage(t, w.kube, w.ns, "chat", "registry.invalid/chat:v3")
	kubetest.Revision(t, w.kube, w.ns, "chat", "4")
	w.regress()
	time.Sleep(5 * time.Second) // five ticks
	if n, img := len(w.actions()), w.image(); n != 1 || img != "registry.invalid/chat:v3" {
		t.Errorf("inside the cooldown: %d actions, image %s", n, img)
	}
	if _, notes := w.api("GET", "/api/v1/alerts/deliveries?receiver=actions", w.viewer, nil, ""); !bytes.Contains(notes, []byte("Deployment "+w.ns+"/chat is cooling down until")) {
		t.Errorf("no cooldown in the actions' deliveries: %.2000s", notes)
	}
	w.v.stop(t)
}

// TestActionsDryRunAndKillSwitch: a dry-run proposal cannot be approved
// and changes nothing; in approve mode, the kill switch (vigil actions
// pause) holds an approved rollback until vigil actions resume.
func TestActionsDryRunAndKillSwitch(t *testing.T) {
	t.Parallel()
	w := newActionsWorld(t, onCanary, actions.DryRun)
	w.regress()
	dry := w.await(1, actions.Proposed)
	if _, stderr, code := w.cli(w.operator, "approve", dry.ID); code != 1 || !strings.Contains(stderr, "dry-run, which never executes") {
		t.Errorf("approving a dry-run: exit %d: %s", code, stderr)
	}
	if img := w.image(); img != "registry.invalid/chat:v2" || dry.Mode != actions.DryRun || !strings.Contains(dry.Change, "chat:v2 → registry.invalid/chat:v1") {
		t.Errorf("dry-run: image %s, %+v", img, dry)
	}

	// In approve mode (the config read again), with the dry run rejected.
	w.setMode(actions.Approve)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if out, _, _ := w.cli(w.viewer, "status"); strings.Contains(out, "rollback-chat  approve") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the policy is not in approve mode")
		}
	}
	if _, stderr, code := w.cli(w.operator, "reject", dry.ID); code != 2 || !strings.Contains(stderr, "--reason") {
		t.Errorf("a rejection without a reason: exit %d: %s", code, stderr)
	}
	if _, stderr, code := w.cli(w.operator, "reject", dry.ID, "--reason", "rehearsal over"); code != 0 {
		t.Fatalf("reject: exit %d: %s", code, stderr)
	}
	s := w.await(2, actions.Proposed)

	// Paused, an approved action waits.
	if out, stderr, code := w.cli(w.v.token, "pause", "--reason", "incident 42"); code != 0 || !strings.Contains(out, "actions paused, turned by token:") {
		t.Fatalf("pause: exit %d: %s%s", code, out, stderr)
	}
	if _, _, code := w.cli(w.operator, "approve", s.ID); code != 0 {
		t.Fatalf("approve: exit %d", code)
	}
	time.Sleep(3 * time.Second) // three ticks and the dispatcher's retries
	if got := w.actions()[0]; got.State != actions.Approved || w.image() != "registry.invalid/chat:v2" {
		t.Fatalf("paused: %s, image %s", got.State, w.image())
	}
	if out, _, _ := w.cli(w.viewer, "status"); !strings.Contains(out, "actions paused") || !strings.Contains(out, "incident 42") {
		t.Errorf("status while paused:\n%s", out)
	}
	if out, _, code := w.cli(w.v.token, "resume", "--reason", "incident over"); code != 0 || !strings.Contains(out, "actions running") {
		t.Fatalf("resume: exit %d: %s", code, out)
	}
	w.await(2, actions.Verifying)
	if img := w.image(); img != "registry.invalid/chat:v1" {
		t.Errorf("image after resuming: %s", img)
	}
	w.v.stop(t)
}

// TestActionsCLIExitCodes: 1 when the server refuses, 2 for a usage
// error or a server that cannot be asked.
func TestActionsCLIExitCodes(t *testing.T) {
	dir := t.TempDir()
	viewer := createToken(t, dir, "", "acme", "viewer")
	w := &actionsWorld{t: t, v: startServe(t, "", "--data-dir", dir)}
	for _, c := range []struct {
		token string
		args  []string
		code  int
		says  string
	}{
		{viewer, []string{"list"}, 0, "ID  STATE"},
		{viewer, []string{"status", "--output", "json"}, 0, `"paused": false`},
		{viewer, []string{"show", "nope"}, 1, "404 Not Found"},
		{viewer, []string{"pause"}, 1, "admin role in every tenant"},
		{viewer, []string{"approve"}, 2, "want the action's id"},
		{viewer, []string{"list", "--output", "yaml"}, 2, "--output"},
		{viewer, []string{"--server", "http://127.0.0.1:1", "list"}, 2, "cannot ask"},
	} {
		out, stderr, code := w.cli(c.token, c.args...)
		if code != c.code || !strings.Contains(out+stderr, c.says) {
			t.Errorf("vigil actions %v: exit %d, want %d saying %q:\n%s%s", c.args, code, c.code, c.says, out, stderr)
		}
	}
	w.v.stop(t)
}
