package actions

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/config"
)

func catalog(*config.Config) Catalog {
	return Catalog{SLOs: map[string][]string{"default/chat-latency": {"page", "ticket"}},
		Canaries: map[string]bool{"default/chat-rollout": true}, Drift: map[string]bool{}, Budgets: map[string]bool{"default/llm": true}}
}

func lint(t *testing.T, src string) ([]*Policy, []string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "actions.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	s := Section(catalog)
	reg, err := config.NewRegistry(s)
	if err != nil {
		t.Fatal(err)
	}
	c, problems, err := reg.Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range problems {
		out = append(out, strings.TrimPrefix(p.String(), dir+"/"))
	}
	return s.Of(c), out
}

func TestPolicyAsInTheIssue(t *testing.T) {
	ps, problems := lint(t, `actions:
  - name: rollback-chat-on-fast-burn
    when: {slo: chat-latency, alert: page}
    do: {kubernetes: {rollback: {deployment: chat-gateway, namespace: llm}}}
    mode: approve
    cooldown: 30m
    verify: {within: 10m, slo: chat-latency, expect: burn-below-1}
  - name: scale
    when: {canary: chat-rollout}
    do: {kubernetes: {scale: {deployment: chat-gateway, factor: 2}}}
    guardrails: {max_factor: 3, max_add: 4, min_replicas: 2, max_replicas: 20, max_change: 30%, rate: 2/30m}
`)
	if len(problems) != 0 {
		t.Fatal(problems)
	}
	p := ps[0]
	want := Do{Executor: Kubernetes, Operation: OpRollback, Target: Target{Executor: Kubernetes, Kind: "Deployment", Namespace: "llm", Name: "chat-gateway"}}
	if !reflect.DeepEqual(p.Do, want) || p.Mode != Approve || p.Cooldown != 30*time.Minute || p.When.Alert != "page" ||
		p.Verify != (Verify{Within: 10 * time.Minute, SLO: "chat-latency", Expect: Expectation{BurnBelow: 1}}) {
		t.Errorf("policy %+v", p)
	}
	g := ps[1].Guardrails
	if ps[1].Mode != DryRun || ps[1].When.Verdict != "fail" || ps[1].Do.Target.Namespace != "default" ||
		g.MaxFactor != 3 || g.MaxAdd != 4 || g.MaxChange != 0.3 || g.RateCount != 2 || g.RatePer != 30*time.Minute || g.ApprovalTimeout != time.Hour {
		t.Errorf("second policy %+v", ps[1])
	}
}

func TestPolicyProblemsAtTheirLines(t *testing.T) {
	_, problems := lint(t, `actions:
  - name: unknown-slo
    when: {slo: chat-latencyy}
    do: {kubernetes: {rollback: {deployment: chat}}}
  - name: unknown-executor
    when: {canary: chat-rollout}
    do: {helm: {rollback: {release: chat}}}
  - name: unknown-field
    when: {canary: chat-rollout}
    do: {kubernetes: {rollback: {deployment: chat, replicas: 3}}}
  - name: no-target
    when: {budget: llm}
    do: {argo: {abort: {namespace: llm}}}
  - name: out-of-range
    when: {drift: nope}
    do: {kubernetes: {scale: {deployment: chat, add: 2}}}
    guardrails: {max_factor: 50, max_change: 150%}
  - name: no-data-is-no-trigger
    when: {canary: chat-rollout, verdict: inconclusive}
    do: {webhook: {url: "ftp://x"}}
    mode: yolo
  - name: unknown-names
    when: {drift: nope}
    do: {argo: {undo: {rollout: chat}}}
    verify: {slo: gone}
`)
	want := []string{
		"actions.yaml:7: actions[1]: field helm not found",
		"actions.yaml:10: actions[2]: field replicas not found",
		"actions.yaml:13: actions[3].do.argo.abort: the target is missing: name the rollout",
		"actions.yaml:17: actions[4].guardrails.max_factor: 50: want a factor above 1, at most 10",
		"actions.yaml:17: actions[4].guardrails.max_change: \"150%\": want a share of the current value above 0, at most 100%, e.g. 50%",
		"actions.yaml:19: actions[5].when.verdict: \"inconclusive\": want fail or marginal",
		"actions.yaml:20: actions[5].do.webhook.url: \"ftp://x\" is not an http(s) URL",
		"actions.yaml:21: actions[5].mode: \"yolo\": want auto, approve or dry-run",
		"actions.yaml:3: actions[0].when.slo: no SLO \"chat-latencyy\" is defined (tenant default)",
		"actions.yaml:23: actions[6].when.drift: no drift monitor \"nope\" is defined (tenant default)",
		"actions.yaml:25: actions[6].verify.slo: no SLO \"gone\" is defined (tenant default)",
	}
	if !reflect.DeepEqual(problems, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
}
