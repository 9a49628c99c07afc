package actions

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/analyzer/canary"
	"github.com/vigil-dev/vigil/analyzer/drift"
	"github.com/vigil-dev/vigil/analyzer/rightsize"
	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
)

// enrich freezes what the trigger event does not say itself: an SLO's
// burn rates over every window and its budget when the alert fired.
func (e *Engine) enrich(ctx context.Context, tenant string, x *Evidence) error {
	if x.Kind != OnSLO {
		return nil
	}
	s := e.slo(tenant, x.SLO.SLO)
	if s == nil {
		return nil
	}
	st, err := slo.Compute(ctx, e.opts.Store, s, x.At)
	if err != nil {
		return fmt.Errorf("cannot compute SLO %s for the evidence: %w", s.Name, err)
	}
	x.SLO.Objective, x.SLO.SLI, x.SLO.BudgetRemaining, x.SLO.NoData = s.Objective, st.Budget.SLI, st.Budget.Remaining, st.Budget.NoData
	for _, b := range st.Burns {
		x.SLO.Burns = append(x.SLO.Burns, Burn{Severity: b.Rule.Severity, LongWindow: b.Rule.Long.String(), ShortWindow: b.Rule.Short.String(),
			LongRate: b.LongRate, ShortRate: b.ShortRate, Factor: b.Rule.Factor, Firing: b.Firing})
	}
	return nil
}

// holding is what a re-check of the evidence found.
type holding int

const (
	holds      holding = iota
	noLonger           // the newest finding says otherwise
	noDataLeft         // nothing newer says either way: never act on no data
)

// recheck judges whether the evidence of a proposal still holds now, from
// the newest finding of its kind: Flagger keeps checking while it waits,
// and so does Vigil before it executes.
func (e *Engine) recheck(ctx context.Context, a *Action) (holding, string, error) {
	x := a.Evidence
	q := store.EventQuery{Tenant: a.Tenant, Start: x.At.Add(-time.Minute), End: e.now().Add(time.Minute), Limit: 1}
	switch x.Kind {
	case OnSLO:
		return e.recheckSLO(ctx, a.Tenant, x.SLO)
	case OnCanary:
		q.Subjects = []string{x.Canary.Spec.Service + "/" + x.Canary.Spec.Canary}
		return newest(ctx, e, canary.Analyses, q, func(v canary.Analysis) (holding, string) {
			switch v.Verdict {
			case canary.VerdictFail, canary.VerdictMarginal:
				return holds, "the canary is still " + string(v.Verdict)
			case canary.VerdictInconclusive:
				return noDataLeft, "the canary's newest verdict is inconclusive: " + v.Reason
			}
			return noLonger, "the canary now passes"
		})
	case OnDrift:
		q.Subjects = []string{x.Drift.Monitor}
		return newest(ctx, e, drift.Verdicts, q, func(v drift.Verdict) (holding, string) {
			switch {
			case !v.Tested():
				return noDataLeft, "the drift monitor's newest window had no verdict: " + v.Reason
			case v.Drifted:
				return holds, "still drifted"
			}
			return noLonger, "no drift any more"
		})
	case OnBudget:
		if _, end := budgetPeriod(x.Budget.PeriodStart, x.Budget.Period); e.now().Before(end) {
			return holds, "the budget's period is still running", nil
		}
		return noLonger, "the budget's period is over", nil
	case OnRecommendation:
		q.Subjects = []string{x.Recommendation.Subject()}
		return newest(ctx, e, rightsize.Advices, q, func(v rightsize.Advice) (holding, string) {
			if sameAdvice(v, *x.Recommendation) {
				return holds, "the recommendation stands"
			}
			return noLonger, "a newer recommendation replaces it"
		})
	}
	return noDataLeft, "unknown trigger " + string(x.Kind), nil
}

// newest judges the newest event of a codec's that q selects.
func newest[T any](ctx context.Context, e *Engine, c store.Codec[T], q store.EventQuery, judge func(T) (holding, string)) (holding, string, error) {
	recs, err := c.Read(ctx, e.opts.Store, q)
	if len(recs) == 0 {
		if err != nil {
			return noDataLeft, "", err
		}
		return noDataLeft, "no finding since the proposal", nil
	}
	h, why := judge(recs[0].Value)
	return h, why, nil
}

// recheckSLO: the alert still fires (its newest transition), and the SLO
// has data now.
func (e *Engine) recheckSLO(ctx context.Context, tenant string, x *SLOEvidence) (holding, string, error) {
	recs, err := slo.AlertTransitions.Read(ctx, e.opts.Store, store.EventQuery{Tenant: tenant, Subjects: []string{x.SLO},
		Start: x.StartsAt.Add(-time.Minute), End: e.now().Add(time.Minute)})
	if err != nil && len(recs) == 0 {
		return noDataLeft, "", err
	}
	for _, r := range recs { // newest first
		if r.Value.Fingerprint != x.Fingerprint {
			continue
		}
		if r.Value.State != slo.StateFiring {
			return noLonger, "the alert is " + string(r.Value.State), nil
		}
		break
	}
	if s := e.slo(tenant, x.SLO); s != nil {
		st, err := slo.Compute(ctx, e.opts.Store, s, e.now())
		if err != nil {
			return noDataLeft, "", err
		}
		if st.State == "no data" {
			return noDataLeft, "SLO " + x.SLO + " has no data now", nil
		}
	}
	return holds, "the alert still fires", nil
}

// budgetPeriod bounds the period starting at start.
func budgetPeriod(start time.Time, period cost.Period) (time.Time, time.Time) {
	switch period {
	case cost.Day:
		return start, start.AddDate(0, 0, 1)
	case cost.Week:
		return start, start.AddDate(0, 0, 7)
	}
	return start, start.AddDate(0, 1, 0)
}

// sameAdvice reports whether two advices recommend the same values.
func sameAdvice(a, b rightsize.Advice) bool {
	if (a.Replicas == nil) != (b.Replicas == nil) {
		return false
	}
	if a.Replicas != nil {
		return a.Replicas.Recommended == b.Replicas.Recommended
	}
	return fmt.Sprint(recommended(a)) == fmt.Sprint(recommended(b))
}

func recommended(a rightsize.Advice) []string {
	var out []string
	for _, r := range a.Resources {
		for _, v := range r.Values {
			out = append(out, r.Container+"."+string(v.Resource)+"."+string(v.Setting)+"="+v.RecommendedQuantity)
		}
	}
	return out
}
