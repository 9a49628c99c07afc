package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-dev/vigil/analyzer/rightsize"
)

// recommendations answers right-sizing recommendations per workload
// container from the container metrics Vigil ingested:
// strategy=simple (KRR, the default), vpa or kubecost (profile=development,
// production, high-availability); namespace=, kind=, workload= and
// container= narrow it; from and to default to the 14 days before now.
// kind=replicas answers a replica count from spans instead (replicas).
func (a *API) recommendations(r *http.Request, org string) (any, error) {
	q := r.URL.Query()
	if q.Get("kind") == "replicas" {
		return a.replicas(r, org)
	}
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
	rec := &rightsize.Recommender{Metrics: a.Store, Instances: a.Instances}
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

// replicas recommends a replica count for a service from its span
// throughput and p95 latency per minute (rightsize.ReplicaRecommender):
//
//	GET /api/v1/recommendations?kind=replicas&service=chat&latency_slo=0.8&deployment=chat
//
// operation= and model= narrow the spans; latency_slo= (seconds) derives
// the requests/s one replica sustains, or target_per_replica= gives it;
// deployment= and namespace= find the current count in kube-state-metrics,
// and replicas= gives it when that has none. from and to default to the
// hour before now.
func (a *API) replicas(r *http.Request, org string) (any, error) {
	q := r.URL.Query()
	rq := rightsize.ReplicaQuery{Tenant: org, Service: q.Get("service"), Operation: q.Get("operation"), Model: q.Get("model"),
		Namespace: q.Get("namespace"), Deployment: q.Get("deployment")}
	if rq.Service == "" {
		return nil, badRequest("parameter \"service\" is required with kind=replicas")
	}
	for _, p := range []struct {
		name string
		dst  *float64
	}{{"latency_slo", &rq.SLO}, {"target_per_replica", &rq.Target}} {
		if s := q.Get(p.name); s != "" {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || !(f > 0) || f > 1e12 {
				return nil, badRequest("parameter %q: %q is not a positive number", p.name, s)
			}
			*p.dst = f
		}
	}
	if rq.SLO == 0 && rq.Target == 0 {
		return nil, badRequest("kind=replicas needs latency_slo (seconds) or target_per_replica (requests/s)")
	}
	if s := q.Get("replicas"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, badRequest("parameter \"replicas\": %q is not a positive integer", s)
		}
		rq.Replicas = n
	}
	if q.Get("from") != "" || q.Get("to") != "" {
		var err error
		if rq.Start, rq.End, err = timeRange(q); err != nil {
			return nil, err
		}
	} else {
		rq.End = a.now()
		rq.Start = rq.End.Add(-rightsize.DefaultReplicaHistory)
	}
	if !rq.End.Truncate(time.Minute).After(rq.Start.Truncate(time.Minute)) {
		return nil, badRequest("from and to must hold at least one whole minute")
	}
	rec := &rightsize.ReplicaRecommender{Spans: a.Store, Metrics: a.Store}
	advice, err := rec.Recommend(r.Context(), rq)
	if errors.Is(err, rightsize.ErrNoReplicaCount) {
		return nil, badRequest("%v: pass replicas=", err)
	}
	if errors.Is(err, rightsize.ErrAmbiguousDeployment) || errors.Is(err, rightsize.ErrBadReplicaQuery) {
		return nil, badRequest("%v", err)
	}
	return advice, err
}
