package actions

import (
	"time"

	"github.com/vigil-dev/vigil/analyzer/canary"
)

// Mode says how far a policy may go on its own.
type Mode string

const (
	// DryRun (the default) proposes, with the exact change it would make,
	// and never executes.
	DryRun Mode = "dry-run"
	// Approve proposes and executes once a person approves.
	Approve Mode = "approve"
	// Auto approves its own proposals; every guardrail still applies.
	Auto Mode = "auto"
)

// TriggerKind is what a policy watches.
type TriggerKind string

const (
	OnSLO            TriggerKind = "slo"            // a burn-rate alert firing
	OnCanary         TriggerKind = "canary"         // a canary verdict
	OnDrift          TriggerKind = "drift"          // a drift monitor finding drift
	OnBudget         TriggerKind = "budget"         // a budget threshold crossed or its overrun forecast
	OnRecommendation TriggerKind = "recommendation" // a right-sizing advice for the target
)

// When is a policy's trigger: one kind, and what of it.
type When struct {
	Kind TriggerKind
	// SLO and Alert: the SLO, and the severity of its burn-rate rule
	// (page or ticket; "" is any).
	SLO, Alert string
	// Canary and Verdict: the canary monitor, and the verdict that
	// triggers (fail, the default, or marginal, which takes fail too).
	Canary  string
	Verdict canary.Verdict
	Drift   string // the drift monitor
	// Budget, and Threshold: the least threshold percent that triggers
	// (0: any finding, forecasts included).
	Budget    string
	Threshold int
	// Recommendation is replicas or resources: advice for the policy's
	// target.
	Recommendation string
}

// Executors and their operations.
const (
	Kubernetes = "kubernetes"
	Argo       = "argo"
	Webhook    = "webhook"

	OpRollback = "rollback" // kubernetes: a Deployment to its previous (or a named) revision
	OpScale    = "scale"    // kubernetes: replicas, or an autoscaler's bounds
	OpResize   = "resize"   // kubernetes: container requests and limits
	OpAbort    = "abort"    // argo
	OpRetry    = "retry"    // argo
	OpPromote  = "promote"  // argo
	OpUndo     = "undo"     // argo
	OpPost     = "post"     // webhook
)

// Target is what an action changes.
type Target struct {
	Executor  string `json:"executor"`
	Kind      string `json:"kind,omitempty"` // Deployment, Rollout
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	URL       string `json:"url,omitempty"` // a webhook's, without its query
}

// Key identifies the target among a tenant's: at most one action is in
// flight per key, and cooldowns count per key.
func (t Target) Key() string {
	if t.Executor == Webhook {
		return Webhook + "/" + t.URL
	}
	// Argo and Kubernetes name the same cluster's objects.
	return "kubernetes/" + t.Kind + "/" + t.Namespace + "/" + t.Name
}

func (t Target) String() string {
	if t.Executor == Webhook {
		return t.URL
	}
	return t.Kind + " " + t.Namespace + "/" + t.Name
}

// Do is what a policy does: one executor's operation on one target.
type Do struct {
	Executor  string `json:"executor"`
	Operation string `json:"operation"`
	Target    Target `json:"target"`
	// Revision, for a rollback or an undo: the revision to go back to;
	// 0 is the previous one.
	Revision int64 `json:"revision,omitempty"`
	// Scale, for a scale that is not from a replica recommendation: one
	// of Replicas (absolute), Add or Factor.
	Replicas int     `json:"replicas,omitempty"`
	Add      int     `json:"add,omitempty"`
	Factor   float64 `json:"factor,omitempty"`
	// SecretEnv names the environment variable holding a webhook's
	// signing secret: secrets stay out of the config directory.
	SecretEnv string `json:"secret_env,omitempty"`
}

// Guardrails bound what one policy's actions may do.
type Guardrails struct {
	// MaxFactor and MaxAdd bound one scale step: replicas at most ×
	// MaxFactor (default 2) and, when MaxAdd is set, at most + MaxAdd;
	// down as far as ÷ MaxFactor.
	MaxFactor float64 `json:"max_factor"`
	MaxAdd    int     `json:"max_add,omitempty"`
	// MinReplicas and MaxReplicas bound the result (0: unbounded above;
	// below, at least 1).
	MinReplicas int `json:"min_replicas,omitempty"`
	MaxReplicas int `json:"max_replicas,omitempty"`
	// MaxChange bounds one resize step per value, as a fraction of the
	// current value (default 0.5: ±50%).
	MaxChange float64 `json:"max_change"`
	// RateCount actions per RatePer at most (default 3 per hour).
	RateCount int           `json:"rate_count"`
	RatePer   time.Duration `json:"rate_per"`
	// ApprovalTimeout is how long a proposal waits for approval, and an
	// approval for execution, before it expires (default 1h).
	ApprovalTimeout time.Duration `json:"approval_timeout"`
}

// DefaultGuardrails are what a policy gets for what it leaves out.
var DefaultGuardrails = Guardrails{MaxFactor: 2, MaxChange: 0.5, RateCount: 3, RatePer: time.Hour, ApprovalTimeout: time.Hour}

// Expectation is what a verification waits for.
type Expectation struct {
	// BurnBelow: the SLO's burn rate since the execution is below it.
	BurnBelow float64 `json:"burn_below"`
}

// Verify is how an executed action is judged: within Within of its
// execution, the change must hold and, with an SLO, the SLO recover.
// Otherwise the action fails, which escalates, and reverts a scale or a
// resize. No data by the deadline counts as a failure, but reverts
// nothing: it is for a person to judge.
type Verify struct {
	Within time.Duration `json:"within"`
	SLO    string        `json:"slo,omitempty"`
	Expect Expectation   `json:"expect"`
}

// DefaultVerifyWithin is the verification window of a policy that sets
// none.
const DefaultVerifyWithin = 10 * time.Minute

// Policy is one entry of the actions: section.
type Policy struct {
	Name       string
	Tenant     string // "" is the default tenant
	When       When
	Do         Do
	Mode       Mode
	Cooldown   time.Duration
	Guardrails Guardrails
	Verify     Verify
	// File is where the policy is defined, file:line; lines has the line
	// of each field, for problems found across sections.
	File  string
	file  string
	field string // its place in the file's list, e.g. actions[2]
	lines map[string]int
}

func (p *Policy) tenant() string { return tenantOr(p.Tenant) }
