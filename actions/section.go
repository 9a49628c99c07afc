package actions

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/analyzer/canary"
	"github.com/vigil-dev/vigil/config"
)

// Policies live in the config directory, in any YAML file with a
// top-level actions: list:
//
//	actions:
//	  - name: rollback-chat-on-fast-burn
//	    when: {slo: chat-latency, alert: page}   # or {canary: chat-rollout, verdict: fail},
//	                                             # {drift: prompt-length}, {budget: llm, threshold: 100},
//	                                             # {recommendation: replicas|resources}
//	    do: {kubernetes: {rollback: {deployment: chat-gateway, namespace: llm}}}
//	    mode: approve          # auto | approve | dry-run (the default)
//	    cooldown: 30m
//	    guardrails: {max_factor: 2, max_add: 4, min_replicas: 2, max_replicas: 20,
//	                 max_change: 50%, rate: 3/1h, approval_timeout: 1h}
//	    verify: {within: 10m, slo: chat-latency, expect: burn-below-1}
//
// do: is one executor and one operation: kubernetes rollback (revision:
// N, 0 the previous), scale (replicas: N, add: N or factor: F; from a
// replicas recommendation, none), resize (from a resources
// recommendation); argo abort, retry, promote or undo of a rollout:;
// webhook {url:, secret_env:}.

type policyYAML struct {
	Name       string      `yaml:"name"`
	Tenant     string      `yaml:"tenant"`
	When       whenYAML    `yaml:"when"`
	Do         doYAML      `yaml:"do"`
	Mode       string      `yaml:"mode"`
	Cooldown   string      `yaml:"cooldown"`
	Guardrails guardYAML   `yaml:"guardrails"`
	Verify     *verifyYAML `yaml:"verify"`
}

type whenYAML struct {
	SLO            string `yaml:"slo"`
	Alert          string `yaml:"alert"`
	Canary         string `yaml:"canary"`
	Verdict        string `yaml:"verdict"`
	Drift          string `yaml:"drift"`
	Budget         string `yaml:"budget"`
	Threshold      int    `yaml:"threshold"`
	Recommendation string `yaml:"recommendation"`
}

type deploymentRef struct {
	Deployment string `yaml:"deployment"`
	Namespace  string `yaml:"namespace"`
}

type rollbackYAML struct {
	deploymentRef `yaml:",inline"`
	Revision      int64 `yaml:"revision"`
}

type scaleYAML struct {
	deploymentRef `yaml:",inline"`
	Replicas      int     `yaml:"replicas"`
	Add           int     `yaml:"add"`
	Factor        float64 `yaml:"factor"`
}

type rolloutRef struct {
	Rollout   string `yaml:"rollout"`
	Namespace string `yaml:"namespace"`
}

type undoYAML struct {
	rolloutRef `yaml:",inline"`
	Revision   int64 `yaml:"revision"`
}

type doYAML struct {
	Kubernetes *struct {
		Rollback *rollbackYAML  `yaml:"rollback"`
		Scale    *scaleYAML     `yaml:"scale"`
		Resize   *deploymentRef `yaml:"resize"`
	} `yaml:"kubernetes"`
	Argo *struct {
		Abort   *rolloutRef `yaml:"abort"`
		Retry   *rolloutRef `yaml:"retry"`
		Promote *rolloutRef `yaml:"promote"`
		Undo    *undoYAML   `yaml:"undo"`
	} `yaml:"argo"`
	Webhook *struct {
		URL       string `yaml:"url"`
		SecretEnv string `yaml:"secret_env"`
	} `yaml:"webhook"`
}

type guardYAML struct {
	MaxFactor       *float64 `yaml:"max_factor"`
	MaxAdd          int      `yaml:"max_add"`
	MinReplicas     int      `yaml:"min_replicas"`
	MaxReplicas     int      `yaml:"max_replicas"`
	MaxChange       string   `yaml:"max_change"`
	Rate            string   `yaml:"rate"`
	ApprovalTimeout string   `yaml:"approval_timeout"`
}

type verifyYAML struct {
	Within string `yaml:"within"`
	SLO    string `yaml:"slo"`
	Expect string `yaml:"expect"`
}

// Catalog is what the other sections of a reading define, as far as
// policies refer to it; keys are "tenant/name".
type Catalog struct {
	SLOs     map[string][]string // → the severities of the SLO's burn-rate rules
	Canaries map[string]bool
	Drift    map[string]bool
	Budgets  map[string]bool
}

// Section is the actions' part of the config directory. catalog tells
// what the other sections of a reading define, for the check that every
// name a policy uses is defined (cmd/vigil builds it from those
// sections).
func Section(catalog func(*config.Config) Catalog) *config.Section[[]*Policy] {
	return &config.Section[[]*Policy]{Name: "actions", Keys: []string{"actions"},
		New: func() config.Decoder[[]*Policy] { return &policiesReader{seen: map[string]string{}} },
		Check: func(c *config.Config, ps []*Policy) []config.Problem {
			if catalog == nil {
				return nil
			}
			return checkReferences(ps, catalog(c))
		}}
}

// policiesReader is one reading of the actions section.
type policiesReader struct {
	policies []*Policy
	seen     map[string]string // tenant/name → file:line
}

func (r *policiesReader) Decode(it config.Item) []config.Problem {
	if it.Node.Kind != yaml.SequenceNode {
		return []config.Problem{{File: it.File, Line: it.Node.Line, Field: "actions", Severity: config.Error, Message: "want a list of policies"}}
	}
	var problems []config.Problem
	for i, item := range it.Node.Content {
		field := fmt.Sprintf("actions[%d]", i)
		p, ps := readPolicy(it.File, item, field)
		problems = append(problems, ps...)
		if p == nil {
			continue
		}
		key := p.tenant() + "/" + p.Name
		if prev, ok := r.seen[key]; ok {
			problems = append(problems, config.Problem{File: it.File, Line: item.Line, Field: field + ".name", Severity: config.Error,
				Message: fmt.Sprintf("policy %q is also defined at %s", p.Name, prev)})
			continue
		}
		r.seen[key] = p.File
		r.policies = append(r.policies, p)
	}
	return problems
}

func (r *policiesReader) Done() ([]*Policy, []config.Problem) { return r.policies, nil }

// policyReader reports a policy's problems at their lines.
type policyReader struct {
	file, field string
	n           *yaml.Node
	problems    []config.Problem
}

func (r *policyReader) bad(path, format string, args ...any) {
	r.problems = append(r.problems, config.Problem{File: r.file, Line: config.Line(r.n, strings.Split(path, ".")...),
		Field: r.field + "." + path, Severity: config.Error, Message: fmt.Sprintf(format, args...)})
}

func readPolicy(file string, n *yaml.Node, field string) (*Policy, []config.Problem) {
	var y policyYAML
	if p := config.DecodeStrict(file, n, field, &y); p != nil {
		return nil, []config.Problem{*p}
	}
	r := &policyReader{file: file, field: field, n: n}
	p := &Policy{Name: y.Name, Tenant: y.Tenant, File: fmt.Sprintf("%s:%d", file, n.Line), file: file, field: field, lines: map[string]int{}}
	if y.Name == "" {
		r.bad("name", "is required")
	}
	p.When = r.when(y.When)
	p.Do = r.do(y.Do)
	p.Mode = r.mode(y.Mode)
	p.Cooldown = r.duration("cooldown", y.Cooldown, 0)
	p.Guardrails = r.guardrails(y.Guardrails)
	p.Verify = r.verify(y.Verify)
	r.fits(p)
	for _, path := range []string{"when.slo", "when.alert", "when.canary", "when.drift", "when.budget", "verify.slo"} {
		p.lines[path] = config.Line(n, strings.Split(path, ".")...)
	}
	if len(r.problems) > 0 {
		return nil, r.problems
	}
	return p, nil
}

func (r *policyReader) when(y whenYAML) When {
	var w When
	set := map[TriggerKind]bool{}
	if y.SLO != "" {
		w.Kind, w.SLO, w.Alert, set[OnSLO] = OnSLO, y.SLO, y.Alert, true
	}
	if y.Canary != "" {
		w.Kind, w.Canary, w.Verdict, set[OnCanary] = OnCanary, y.Canary, canary.Verdict(y.Verdict), true
	}
	if y.Drift != "" {
		w.Kind, w.Drift, set[OnDrift] = OnDrift, y.Drift, true
	}
	if y.Budget != "" {
		w.Kind, w.Budget, w.Threshold, set[OnBudget] = OnBudget, y.Budget, y.Threshold, true
	}
	if y.Recommendation != "" {
		w.Kind, w.Recommendation, set[OnRecommendation] = OnRecommendation, y.Recommendation, true
	}
	switch {
	case len(set) == 0:
		r.bad("when", "is required: one of slo, canary, drift, budget or recommendation")
		return w
	case len(set) > 1:
		r.bad("when", "names %d triggers; a policy has one", len(set))
	}
	switch {
	case y.Alert != "" && y.Alert != "page" && y.Alert != "ticket":
		r.bad("when.alert", "%q: want page or ticket", y.Alert)
	case y.Alert != "" && w.Kind != OnSLO:
		r.bad("when.alert", "goes with slo")
	case y.Verdict != "" && w.Kind != OnCanary:
		r.bad("when.verdict", "goes with canary")
	case w.Kind == OnCanary && w.Verdict == "":
		w.Verdict = canary.VerdictFail
	case w.Kind == OnCanary && w.Verdict != canary.VerdictFail && w.Verdict != canary.VerdictMarginal:
		// Never on inconclusive: no data is never a reason to act.
		r.bad("when.verdict", "%q: want fail or marginal", y.Verdict)
	case y.Threshold != 0 && w.Kind != OnBudget:
		r.bad("when.threshold", "goes with budget")
	case y.Threshold < 0 || y.Threshold > 1000:
		r.bad("when.threshold", "%d: want a percent of the budget, 1 to 1000", y.Threshold)
	case w.Kind == OnRecommendation && y.Recommendation != "replicas" && y.Recommendation != "resources":
		r.bad("when.recommendation", "%q: want replicas or resources", y.Recommendation)
	}
	return w
}

func (r *policyReader) do(y doYAML) Do {
	var ops []Do
	add := func(exec, op, kind, ns, name string, d Do) {
		d.Executor, d.Operation = exec, op
		if ns == "" {
			ns = "default"
		}
		d.Target = Target{Executor: exec, Kind: kind, Namespace: ns, Name: name}
		if name == "" {
			what := map[string]string{"Deployment": "deployment", "Rollout": "rollout"}[kind]
			r.bad("do."+exec+"."+op, "the target is missing: name the %s", what)
		}
		ops = append(ops, d)
	}
	if k := y.Kubernetes; k != nil {
		if v := k.Rollback; v != nil {
			add(Kubernetes, OpRollback, "Deployment", v.Namespace, v.Deployment, Do{Revision: v.Revision})
		}
		if v := k.Scale; v != nil {
			add(Kubernetes, OpScale, "Deployment", v.Namespace, v.Deployment, Do{Replicas: v.Replicas, Add: v.Add, Factor: v.Factor})
		}
		if v := k.Resize; v != nil {
			add(Kubernetes, OpResize, "Deployment", v.Namespace, v.Deployment, Do{})
		}
	}
	if a := y.Argo; a != nil {
		for op, v := range map[string]*rolloutRef{OpAbort: a.Abort, OpRetry: a.Retry, OpPromote: a.Promote} {
			if v != nil {
				add(Argo, op, "Rollout", v.Namespace, v.Rollout, Do{})
			}
		}
		if v := a.Undo; v != nil {
			add(Argo, OpUndo, "Rollout", v.Namespace, v.Rollout, Do{Revision: v.Revision})
		}
	}
	if w := y.Webhook; w != nil {
		ops = append(ops, r.webhook(w.URL, w.SecretEnv))
	}
	if len(ops) != 1 {
		r.bad("do", "want exactly one executor and operation (kubernetes rollback, scale or resize; argo abort, retry, promote or undo; webhook), got %d", len(ops))
		return Do{}
	}
	d := ops[0]
	if d.Revision < 0 {
		r.bad("do", "revision %d: want a revision number, or 0 for the previous one", d.Revision)
	}
	return d
}

func (r *policyReader) webhook(raw, secretEnv string) Do {
	d := Do{Executor: Webhook, Operation: OpPost, SecretEnv: secretEnv}
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		r.bad("do.webhook.url", "the target is missing: the URL to post to")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		r.bad("do.webhook.url", "%q is not an http(s) URL", raw)
	case u.User != nil:
		r.bad("do.webhook.url", "carries credentials: sign with secret_env instead")
	default:
		d.Target = Target{Executor: Webhook, URL: raw}
	}
	return d
}

func (r *policyReader) mode(s string) Mode {
	switch m := Mode(s); m {
	case "":
		return DryRun
	case DryRun, Approve, Auto:
		return m
	}
	r.bad("mode", "%q: want auto, approve or dry-run", s)
	return DryRun
}

func (r *policyReader) duration(path, s string, def time.Duration) time.Duration {
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		r.bad(path, "%q is not a positive duration such as 30m", s)
	}
	return d
}

func (r *policyReader) guardrails(y guardYAML) Guardrails {
	g := DefaultGuardrails
	if y.MaxFactor != nil {
		g.MaxFactor = *y.MaxFactor
		if g.MaxFactor <= 1 || g.MaxFactor > 10 {
			r.bad("guardrails.max_factor", "%v: want a factor above 1, at most 10", g.MaxFactor)
		}
	}
	g.MaxAdd, g.MinReplicas, g.MaxReplicas = y.MaxAdd, y.MinReplicas, y.MaxReplicas
	switch {
	case y.MaxAdd < 0:
		r.bad("guardrails.max_add", "%d is negative", y.MaxAdd)
	case y.MinReplicas < 0:
		r.bad("guardrails.min_replicas", "%d is negative", y.MinReplicas)
	case y.MaxReplicas < 0 || y.MaxReplicas > 0 && y.MaxReplicas < y.MinReplicas:
		r.bad("guardrails.max_replicas", "%d: want at least min_replicas (%d)", y.MaxReplicas, y.MinReplicas)
	}
	if y.MaxChange != "" {
		v, err := parseFraction(y.MaxChange)
		if err != nil || v <= 0 || v > 1 {
			r.bad("guardrails.max_change", "%q: want a share of the current value above 0, at most 100%%, e.g. 50%%", y.MaxChange)
		}
		g.MaxChange = v
	}
	if y.Rate != "" {
		count, per, ok := strings.Cut(y.Rate, "/")
		n, err := strconv.Atoi(count)
		d, derr := time.ParseDuration(per)
		if !ok || err != nil || derr != nil || n < 1 || d <= 0 {
			r.bad("guardrails.rate", "%q: want actions per duration, e.g. 3/1h", y.Rate)
		}
		g.RateCount, g.RatePer = n, d
	}
	g.ApprovalTimeout = r.duration("guardrails.approval_timeout", y.ApprovalTimeout, g.ApprovalTimeout)
	if g.ApprovalTimeout > 23*time.Hour {
		// The dispatcher gives up what waits a day.
		r.bad("guardrails.approval_timeout", "%s: at most 23h", g.ApprovalTimeout)
	}
	return g
}

// parseFraction reads 50% or 0.5.
func parseFraction(s string) (float64, error) {
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(p, 64)
		return v / 100, err
	}
	return strconv.ParseFloat(s, 64)
}

func (r *policyReader) verify(y *verifyYAML) Verify {
	v := Verify{Within: DefaultVerifyWithin}
	if y == nil {
		return v
	}
	v.Within = r.duration("verify.within", y.Within, DefaultVerifyWithin)
	v.SLO = y.SLO
	switch rest, ok := strings.CutPrefix(y.Expect, "burn-below-"); {
	case y.Expect == "" && y.SLO != "":
		v.Expect.BurnBelow = 1
	case y.Expect == "":
	case !ok:
		r.bad("verify.expect", "%q: want burn-below-N, e.g. burn-below-1", y.Expect)
	default:
		f, err := strconv.ParseFloat(rest, 64)
		if err != nil || f <= 0 {
			r.bad("verify.expect", "%q: want burn-below-N with N above 0", y.Expect)
		}
		v.Expect.BurnBelow = f
	}
	if v.Expect.BurnBelow > 0 && y.SLO == "" {
		r.bad("verify.slo", "is required for %s: the SLO whose burn rate is judged", y.Expect)
	}
	return v
}

// fits checks that the trigger and the operation go together.
func (r *policyReader) fits(p *Policy) {
	d, w := p.Do, p.When
	switch {
	case d.Operation == OpResize && w.Recommendation != "resources":
		r.bad("do.kubernetes.resize", "resizes to a right-sizing recommendation: use when: {recommendation: resources}")
	case w.Recommendation == "resources" && d.Operation != OpResize:
		r.bad("when.recommendation", "resources recommendations are acted on by kubernetes resize")
	case w.Recommendation == "replicas" && d.Operation != OpScale:
		r.bad("when.recommendation", "replicas recommendations are acted on by kubernetes scale")
	case d.Operation == OpScale && w.Recommendation == "replicas" && (d.Replicas != 0 || d.Add != 0 || d.Factor != 0):
		r.bad("do.kubernetes.scale", "scales to the recommendation: leave out replicas, add and factor")
	case d.Operation == OpScale && w.Recommendation == "" && countSet(d.Replicas != 0, d.Add != 0, d.Factor != 0) != 1:
		r.bad("do.kubernetes.scale", "want one of replicas, add or factor")
	case d.Replicas < 0 || d.Factor < 0:
		r.bad("do.kubernetes.scale", "replicas and factor must not be negative")
	}
}

func countSet(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// checkReferences reports every name a policy uses that the reading does
// not define, at the policy's line for it.
func checkReferences(ps []*Policy, c Catalog) []config.Problem {
	var problems []config.Problem
	for _, p := range ps {
		bad := func(path, format string, args ...any) {
			problems = append(problems, config.Problem{File: p.file, Line: p.lines[path], Field: p.field + "." + path,
				Severity: config.Error, Message: fmt.Sprintf(format, args...)})
		}
		key := func(name string) string { return p.tenant() + "/" + name }
		w := p.When
		switch w.Kind {
		case OnSLO:
			severities, ok := c.SLOs[key(w.SLO)]
			if !ok {
				bad("when.slo", "no SLO %q is defined (tenant %s)", w.SLO, p.tenant())
			} else if w.Alert != "" && !slices.Contains(severities, w.Alert) {
				bad("when.alert", "SLO %q has no %s burn-rate rule (it has %s)", w.SLO, w.Alert, strings.Join(severities, ", "))
			}
		case OnCanary:
			if !c.Canaries[key(w.Canary)] {
				bad("when.canary", "no canary monitor %q is defined (tenant %s)", w.Canary, p.tenant())
			}
		case OnDrift:
			if !c.Drift[key(w.Drift)] {
				bad("when.drift", "no drift monitor %q is defined (tenant %s)", w.Drift, p.tenant())
			}
		case OnBudget:
			if !c.Budgets[key(w.Budget)] {
				bad("when.budget", "no budget %q is defined (tenant %s)", w.Budget, p.tenant())
			}
		}
		if s := p.Verify.SLO; s != "" {
			if _, ok := c.SLOs[key(s)]; !ok {
				bad("verify.slo", "no SLO %q is defined (tenant %s)", s, p.tenant())
			}
		}
	}
	return problems
}
