package ui

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/analyzer"
	"github.com/vigil-dev/vigil/analyzer/canary"
	"github.com/vigil-dev/vigil/analyzer/drift"
	"github.com/vigil-dev/vigil/analyzer/rightsize"
	"github.com/vigil-dev/vigil/config"
	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// The fixture of the pages of phase 2: bills, a budget and an anomaly,
// actions in several states, drift judgements made by the drift
// package over the fixture's spans, canary analyses judged by the canary
// package, right-sizing advice, an API token and a config reading with a
// problem.

// fixtureBudgets is the tenant's monthly cloud budget.
func fixtureBudgets() []*cost.Budget {
	return []*cost.Budget{{Name: "cloud", Period: cost.Month, Amount: decimal.NewFromInt(5000), Currency: "USD", Cost: cost.Effective,
		Thresholds: []int{50, 80, 100}, Forecast: true, File: "budgets.yaml:3"}}
}

// fixtureMonitors watch the model calls' prompt tokens and the gateway's
// latency, each half an hour against the half hour before.
func fixtureMonitors() []*drift.Monitor {
	return []*drift.Monitor{
		{Name: "prompt-tokens", Filter: drift.Filter{Service: "llm-proxy"}, Watch: drift.Watch{Kind: drift.WatchInputTokens},
			Reference: drift.Reference{Offset: 30 * time.Minute}, Current: 30 * time.Minute, Every: 10 * time.Minute, File: "drift.yaml:2"},
		{Name: "gateway-latency", Filter: drift.Filter{Service: "chat-gateway"}, Watch: drift.Watch{Kind: drift.WatchDuration},
			Reference: drift.Reference{Offset: 30 * time.Minute}, Current: 30 * time.Minute, Every: 10 * time.Minute, File: "drift.yaml:9"},
	}
}

func fixtureConfigStatus() config.Status {
	return config.Status{Dir: "/etc/vigil", Successful: false, LastReload: fixedNow.Add(-2 * time.Minute), LastSuccess: fixedNow.Add(-3 * time.Hour),
		Problems: []config.Problem{{File: "slos.yaml", Line: 14, Field: "slos[1].objective", Severity: config.Error, Message: "objective 101% is above 100%"}}}
}

// fillMore writes the phase-2 fixture into the store.
func fillMore(t testing.TB, st *embedded.Store) {
	ctx := context.Background()
	if err := st.WriteCostLines(ctx, fixtureBills()); err != nil {
		t.Fatal(err)
	}
	var evs []store.Event
	add := func(ev store.Event, err error) {
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	add(analyzer.SpendAnomalies.Event(store.Event{Tenant: store.DefaultTenant, ID: "anomaly-1", Subject: "daily-spend", Severity: "warning",
		Time: fixedNow.Add(-26 * time.Hour), Summary: "GPU spend stands out"},
		analyzer.SpendAnomaly{Detector: "daily-spend", Day: fixedNow.Add(-48 * time.Hour).Truncate(24 * time.Hour), Group: map[string]string{"service": "Compute Engine"},
			Currency: "USD", Spend: 412.5, Median: 120, MAD: 8.5, Window: 14}))
	for _, m := range fixtureMonitors() {
		for _, at := range []time.Time{fixedNow.Add(-20 * time.Minute), fixedNow} {
			res, err := drift.Evaluate(ctx, st, m, at, 0)
			if err != nil {
				t.Fatal(err)
			}
			add(drift.Finding(m, at, res))
		}
	}
	for i, c := range []struct {
		canaryMS, errors int
	}{{0, 2}, {40, 3}, {160, 12}} {
		add(canary.Finding(fixtureCanary(t, fixedNow.Add(time.Duration(i-2)*20*time.Minute), c.canaryMS, c.errors)))
	}
	cpu := rightsize.Recommendation{Namespace: "llm", Kind: "Deployment", Workload: "llm-proxy", Container: "proxy", Strategy: "simple", Replicas: 4,
		MonthlySaving: decimal.RequireFromString("84.10"), Severity: rightsize.SeverityWarning,
		Values: []rightsize.Value{
			{Resource: rightsize.CPU, Setting: rightsize.Request, Current: 2, Recommended: 0.6, CurrentQuantity: "2", RecommendedQuantity: "600m", Severity: rightsize.SeverityWarning,
				Evidence: rightsize.Evidence{Statistic: "max over pods of p95", Value: 0.52, Percentiles: []float64{0.95}, Samples: 4032, Pods: 4, HistorySeconds: 7 * 86400}},
			{Resource: rightsize.Memory, Setting: rightsize.Request, Current: 4 << 30, Recommended: 1536 << 20, CurrentQuantity: "4Gi", RecommendedQuantity: "1536Mi", Severity: rightsize.SeverityOK,
				Evidence: rightsize.Evidence{Statistic: "max", Value: 1.2e9, Samples: 4032, Pods: 4, HistorySeconds: 7 * 86400}},
		}}
	add(rightsize.AdviceEvent(rightsize.Advice{Tenant: store.DefaultTenant, Namespace: "llm", Kind: "Deployment", Workload: "llm-proxy", Resources: []rightsize.Recommendation{cpu}}, fixedNow.Add(-time.Hour)))
	replicas := &rightsize.ReplicaAdvice{Service: "chat-gateway", Namespace: "llm", Deployment: "chat-gateway", From: fixedNow.Add(-time.Hour), To: fixedNow,
		CurrentFrom: "kube_deployment_spec_replicas", LatestRPS: 4.1, LatestP95: 0.48, PeakRPS: 6.3, Requests: 14760}
	replicas.Current, replicas.Recommended = 4, 6
	add(rightsize.AdviceEvent(rightsize.Advice{Tenant: store.DefaultTenant, Namespace: "llm", Kind: "Deployment", Workload: "chat-gateway", Replicas: replicas}, fixedNow.Add(-30*time.Minute)))
	for _, a := range fixtureActions(rightsize.Advice{Tenant: store.DefaultTenant, Namespace: "llm", Kind: "Deployment", Workload: "chat-gateway", Replicas: replicas}) {
		for _, s := range a {
			add(s())
		}
	}
	if err := st.WriteEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []store.APIToken{
		{ID: "0123456789abcdef", Hash: "h1", Name: "ci-ingest", Tenant: store.DefaultTenant, Role: "ingest", Created: fixedNow.Add(-48 * time.Hour), CreatedBy: "person:admin", LastUsed: fixedNow.Add(-time.Hour)},
		{ID: "fedcba9876543210", Hash: "h2", Name: "grafana", Tenant: "acme", Role: "viewer", Created: fixedNow.Add(-72 * time.Hour), CreatedBy: "person:admin", Revoked: fixedNow.Add(-24 * time.Hour)},
	} {
		if err := st.PutToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
}

// fixtureCanary judges a canary slower than its baseline by ms, with
// errors failures of 300 requests, through the canary package.
func fixtureCanary(t testing.TB, at time.Time, ms, errors int) canary.Analysis {
	side := func(shift, errs int) canary.Side {
		s := canary.Side{Requests: 300, Errors: uint64(errs)}
		for i := 0; i < 300-errs; i++ {
			s.Latencies = append(s.Latencies, time.Duration(200+(i*37)%300+shift)*time.Millisecond)
		}
		return s
	}
	res, err := canary.Evaluate(side(ms, errors), side(0, 3), canary.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return canary.Analysis{Monitor: "chat-rollout", Spec: canary.Spec{Tenant: store.DefaultTenant, Service: "chat-gateway", By: canary.ByDeployment,
		Canary: "canary", Baseline: "stable", Start: at.Add(-20 * time.Minute), End: at}, Result: res}
}

// step records one transition of an action.
type step func() (store.Event, error)

// fixtureActions: a rollback proposed on the burning SLO (waiting for a
// person), a scale proposed by a dry-run policy, a webhook call that
// ran to success, and a canary's rollback a person rejected.
func fixtureActions(advice rightsize.Advice) [][]step {
	rollback := actions.Target{Executor: actions.Kubernetes, Kind: "Deployment", Namespace: "llm", Name: "chat-gateway"}
	scale := rollback
	hook := actions.Target{Executor: actions.Webhook, URL: "https://hooks.example.com/vigil"}
	sloEvidence := &actions.Evidence{Kind: actions.OnSLO, Trigger: "alert-f1", At: fixedNow.Add(-40 * time.Minute), Summary: "firing page: chat-availability burns its budget",
		SLO: &actions.SLOEvidence{SLO: "chat-availability", Fingerprint: "f1", Severity: "page", StartsAt: fixedNow.Add(-40 * time.Minute), Objective: 0.995, SLI: 0.9958,
			BudgetRemaining: 0.16, Burns: []actions.Burn{
				{Severity: "page", LongWindow: "1h", ShortWindow: "5m", LongRate: 20, ShortRate: 20, Factor: 14.4, Firing: true},
				{Severity: "page", LongWindow: "6h", ShortWindow: "30m", LongRate: 3.9, ShortRate: 20, Factor: 6},
				{Severity: "ticket", LongWindow: "1d", ShortWindow: "2h", LongRate: 1.6, ShortRate: 6.2, Factor: 3},
			}}}
	tr := func(id string, at time.Time, t actions.Transition) step {
		return func() (store.Event, error) {
			t.Action = id
			return actions.Transitions.Event(store.Event{Tenant: store.DefaultTenant, ID: fmt.Sprintf("%s-%s-%d", id, t.State, t.Attempt), Subject: t.Target.Key(),
				Time: at, Summary: string(t.State) + " " + id}, t)
		}
	}
	rbPlan := &actions.Plan{Executor: actions.Kubernetes, Operation: actions.OpRollback, Target: rollback, Revertible: false,
		Changes: []actions.Change{{Field: "revision", From: "8", To: "7"}, {Field: "image gateway", From: "ghcr.io/acme/gateway:1.8.0", To: "ghcr.io/acme/gateway:1.7.3"}}}
	canaryEvidence := &actions.Evidence{Kind: actions.OnCanary, Trigger: "canary-1", At: fixedNow.Add(-3 * time.Hour), Summary: "canary chat-rollout fails"}
	return [][]step{
		{tr("act-rollback", fixedNow.Add(-39*time.Minute), actions.Transition{Policy: "rollback-chat", Target: rollback, State: actions.Proposed, Attempt: 1, Version: 1,
			Actor: "vigil", Mode: actions.Approve, Evidence: sloEvidence, Plan: rbPlan})},
		{tr("act-scale", fixedNow.Add(-30*time.Minute), actions.Transition{Policy: "scale-gateway", Target: scale, State: actions.Proposed, Attempt: 1, Version: 1,
			Actor: "vigil", Mode: actions.DryRun, Evidence: &actions.Evidence{Kind: actions.OnRecommendation, Trigger: "advice-1", At: fixedNow.Add(-30 * time.Minute),
				Summary: "scale llm/Deployment/chat-gateway from 4 to 6 replicas", Recommendation: &advice},
			Plan: &actions.Plan{Executor: actions.Kubernetes, Operation: actions.OpScale, Target: scale, Revertible: true, Changes: []actions.Change{{Field: "replicas", From: "4", To: "6"}}}})},
		{
			tr("act-hook", fixedNow.Add(-5*time.Hour), actions.Transition{Policy: "page-oncall", Target: hook, State: actions.Proposed, Attempt: 1, Version: 1, Actor: "vigil", Mode: actions.Approve,
				Evidence: &actions.Evidence{Kind: actions.OnBudget, Trigger: "budget-1", At: fixedNow.Add(-5 * time.Hour), Summary: "budget cloud crossed 50%"},
				Plan:     &actions.Plan{Executor: actions.Webhook, Operation: actions.OpPost, Target: hook, Changes: []actions.Change{{Field: "POST https://hooks.example.com/vigil", To: "412 bytes of JSON (action act-hook)"}}}}),
			tr("act-hook", fixedNow.Add(-290*time.Minute), actions.Transition{Policy: "page-oncall", Target: hook, State: actions.Approved, Attempt: 1, Version: 2, Actor: "person:ada", Mode: actions.Approve,
				Reason: "tell finance", Decision: actions.VerbApprove}),
			tr("act-hook", fixedNow.Add(-289*time.Minute), actions.Transition{Policy: "page-oncall", Target: hook, State: actions.Executing, Attempt: 1, Version: 3, Actor: "vigil", Mode: actions.Approve}),
			tr("act-hook", fixedNow.Add(-289*time.Minute), actions.Transition{Policy: "page-oncall", Target: hook, State: actions.Verifying, Attempt: 1, Version: 4, Actor: "vigil", Mode: actions.Approve, Result: "200 OK"}),
			tr("act-hook", fixedNow.Add(-279*time.Minute), actions.Transition{Policy: "page-oncall", Target: hook, State: actions.Succeeded, Attempt: 1, Version: 5, Actor: "vigil", Mode: actions.Approve, Result: "verified"}),
		},
		{
			tr("act-canary", fixedNow.Add(-3*time.Hour), actions.Transition{Policy: "rollback-canary", Target: rollback, State: actions.Proposed, Attempt: 1, Version: 1, Actor: "vigil", Mode: actions.Approve,
				Evidence: canaryEvidence, Plan: rbPlan}),
			tr("act-canary", fixedNow.Add(-170*time.Minute), actions.Transition{Policy: "rollback-canary", Target: rollback, State: actions.Rejected, Attempt: 1, Version: 2, Actor: "person:ada", Mode: actions.Approve,
				Reason: "=the canary's errors are a known flaky test", Decision: actions.VerbReject}),
		},
	}
}

// fixtureBills: 30 days of daily bill lines of two providers, tagged by
// team and namespace.
func fixtureBills() []store.CostLine {
	var out []store.CostLine
	day := fixedNow.Truncate(24 * time.Hour)
	items := []struct {
		provider, service, region, team, ns string
		cost                                string
	}{
		{"AWS", "Amazon EC2", "us-east-1", "search", "llm", "41.20"},
		{"AWS", "Amazon S3", "us-east-1", "search", "data", "6.75"},
		{"AWS", "Amazon EC2", "eu-west-1", "chat", "llm", "28.10"},
		{"GCP", "Compute Engine", "europe-west4", "chat", "gpu", "120.00"},
		{"GCP", "Vertex AI", "europe-west4", "chat", "llm", "17.45"},
	}
	for d := 0; d < 30; d++ {
		start := day.AddDate(0, 0, -d-1)
		for i, it := range items {
			c := decimal.RequireFromString(it.cost)
			out = append(out, store.CostLine{Tenant: store.DefaultTenant, LineID: fmt.Sprintf("l-%d-%d", d, i), Source: "fixture", BillingAccountID: "acct-1",
				BillingCurrency: "USD", BillingPeriodStart: time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC),
				BillingPeriodEnd: time.Date(start.Year(), start.Month()+1, 1, 0, 0, 0, 0, time.UTC), ChargePeriodStart: start, ChargePeriodEnd: start.AddDate(0, 0, 1),
				ChargeCategory: "Usage", BilledCost: c, EffectiveCost: c.Mul(decimal.RequireFromString("0.9")), ListCost: c.Mul(decimal.RequireFromString("1.1")),
				ProviderName: it.provider, ServiceName: it.service, RegionID: it.region, ResourceID: fmt.Sprintf("%s/%s/%d", it.provider, it.region, i),
				Tags: store.Attributes{{Key: "team", Value: it.team}, {Key: "namespace", Value: it.ns}}})
		}
	}
	return out
}
