package api

import (
	"net/http"
	"strconv"

	"github.com/vigil-dev/vigil/analyzer/canary"
)

// maxCanaryLimit bounds limit=: samples are held and sorted in memory.
const maxCanaryLimit = 1_000_000

// canaryAnalysis judges a canary against its baseline over [from, to):
//
//	GET /api/v1/canary?service=chat&canary=canary&baseline=stable&from=...&to=...
//
// canary and baseline name values of the deployment column (by=deployment,
// the default; defaults "canary" and "stable") or of the model version
// (by=model_version). operation= and model= narrow both sides; limit=
// bounds the latency samples read per side; min_samples=, alpha=,
// latency_tolerance= and error_rate_tolerance= override the judgement's
// defaults (see canary.Config). The answer is the verdict (pass, marginal,
// fail or inconclusive) with per-metric evidence.
//
// The GET records nothing: a dashboard polling arbitrary windows must not
// write findings. Standing monitors are the canary.Job's, which records
// each verdict as a finding.
func (a *API) canaryAnalysis(r *http.Request, org string) (any, error) {
	q := r.URL.Query()
	from, to, err := timeRange(q)
	if err != nil {
		return nil, err
	}
	spec := canary.Spec{Tenant: org, Service: q.Get("service"), Operation: q.Get("operation"), Model: q.Get("model"),
		By: q.Get("by"), Canary: q.Get("canary"), Baseline: q.Get("baseline"), Start: from, End: to}
	if spec.Canary == "" {
		spec.Canary = "canary"
	}
	if spec.Baseline == "" {
		spec.Baseline = "stable"
	}
	ints := []struct {
		name string
		dst  *int
	}{{"limit", &spec.Limit}, {"min_samples", &spec.Config.MinSamples}}
	for _, p := range ints {
		if s := q.Get(p.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				return nil, badRequest("parameter %q: %q is not a positive integer", p.name, s)
			}
			*p.dst = n
		}
	}
	if spec.Limit > maxCanaryLimit {
		return nil, badRequest("parameter \"limit\": %d is above %d", spec.Limit, maxCanaryLimit)
	}
	floats := []struct {
		name string
		dst  *float64
	}{{"alpha", &spec.Config.Alpha}, {"latency_tolerance", &spec.Config.LatencyTolerance}, {"error_rate_tolerance", &spec.Config.ErrorRateTolerance}}
	for _, p := range floats {
		if s := q.Get(p.name); s != "" {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || !(f > 0) {
				return nil, badRequest("parameter %q: %q is not a positive number", p.name, s)
			}
			*p.dst = f
		}
	}
	if err := spec.Validate(); err != nil {
		return nil, badRequest("%v", err)
	}
	return canary.Analyze(r.Context(), a.Store, spec)
}
