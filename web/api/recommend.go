package api

import (
	"net/http"
	"time"

	"github.com/vigil-dev/vigil/analyzer/rightsize"
)

// recommendations answers right-sizing recommendations per workload
// container from the container metrics Vigil ingested:
// strategy=simple (KRR, the default), vpa or kubecost (profile=development,
// production, high-availability); namespace=, kind=, workload= and
// container= narrow it; from and to default to the 14 days before now.
func (a *API) recommendations(r *http.Request, org string) (any, error) {
	q := r.URL.Query()
	to, from := a.now(), time.Time{}
	var err error
	if q.Get("from") != "" || q.Get("to") != "" {
		if from, to, err = timeRange(q); err != nil {
			return nil, err
		}
	} else {
		from = to.Add(-rightsize.DefaultHistory)
	}
	name := q.Get("strategy")
	if p := q.Get("profile"); p != "" {
		if name != "kubecost" {
			return nil, badRequest("profile %q applies to strategy=kubecost only", p)
		}
		name += ":" + p
	}
	strategy, err := rightsize.StrategyByName(name)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	rec := &rightsize.Recommender{Metrics: a.Metrics, Instances: a.Instances}
	recs, err := rec.Recommend(r.Context(), rightsize.Query{Tenant: org, Start: from, End: to, Strategy: strategy,
		Namespace: q.Get("namespace"), Kind: q.Get("kind"), Workload: q.Get("workload"), Container: q.Get("container")})
	if err != nil {
		return nil, err
	}
	if recs == nil {
		recs = []rightsize.Recommendation{}
	}
	return map[string]any{"from": from, "to": to, "strategy": strategy.Name(), "recommendations": recs}, nil
}
