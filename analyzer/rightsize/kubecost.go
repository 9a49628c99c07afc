package rightsize

import (
	"fmt"
	"math"
)

// Kubecost is Kubecost's request sizing: the base is the highest usage (or
// a chosen quantile of it) over every replica of the container; the
// recommended request is base / target utilisation, rounded up to 1m and
// 1 MiB, at least 10m and 20 MiB. It recommends requests only.
type Kubecost struct {
	// Profile names the target utilisation (see KubecostProfile); empty is
	// the default, 0.7.
	Profile string
	// CPUTarget and MemoryTarget are target utilisations in (0, 1]; 0
	// means the profile's.
	CPUTarget, MemoryTarget float64
	// CPUQuantile and MemoryQuantile pick a quantile of usage instead of
	// the maximum (Kubecost's algorithm=quantile); 0 means the maximum.
	CPUQuantile, MemoryQuantile float64
}

// kubecostProfiles are the target utilisations of Kubecost's profiles.
var kubecostProfiles = map[string]float64{"": 0.7, "default": 0.7, "development": 0.8, "dev": 0.8, "production": 0.65, "prod": 0.65, "high-availability": 0.5, "ha": 0.5}

// KubecostProfile returns the strategy for a named profile: development
// (0.8), production (0.65), high-availability (0.5) or default (0.7).
func KubecostProfile(name string) (Kubecost, error) {
	if _, ok := kubecostProfiles[name]; !ok {
		return Kubecost{}, fmt.Errorf("unknown Kubecost profile %q: want development, production, high-availability or default", name)
	}
	return Kubecost{Profile: name}, nil
}

func (Kubecost) Name() string { return "kubecost" }

// Recommend computes the container's Kubecost recommendation.
func (k Kubecost) Recommend(c *Container) Recommendation {
	r := newRecommendation(c, k.Name())
	target := kubecostProfiles[k.Profile]
	cpuT, memT := k.CPUTarget, k.MemoryTarget
	if cpuT <= 0 || cpuT > 1 {
		cpuT = target
	}
	if memT <= 0 || memT > 1 {
		memT = target
	}
	cpus := make([][]Point, 0, len(c.Pods))
	mems := make([][]Point, 0, len(c.Pods))
	for _, p := range c.Pods {
		cpus, mems = append(cpus, p.CPU), append(mems, p.Memory)
	}
	cpu := kubecostValue(CPU, c.Current.CPURequest, cpus, k.CPUQuantile, cpuT, 0.001, 0.010)
	mem := kubecostValue(Memory, c.Current.MemoryRequest, mems, k.MemoryQuantile, memT, MiB, 20*MiB)
	r.Values = []Value{cpu, mem}
	r.finish(c)
	return r
}

func kubecostValue(resource Resource, current float64, series [][]Point, q, target, unit, floor float64) Value {
	v := Value{Resource: resource, Setting: Request, Current: current}
	sp, n := span(series...)
	stat := "max over replicas"
	var pcts []float64
	if q > 0 && q < 1 {
		stat, pcts = fmt.Sprintf("p%g over replicas", q*100), []float64{q}
	}
	v.Evidence = Evidence{Statistic: fmt.Sprintf("%s / target utilisation %g", stat, target), Percentiles: pcts, Samples: n, HistorySeconds: sp.Seconds()}
	if n == 0 {
		v.Recommended, v.Skipped, v.Severity = current, "no "+string(resource)+" samples", SeverityUnknown
		return v
	}
	base := math.Inf(-1)
	var all []float64 // only a quantile needs the values together
	if pcts != nil {
		all = make([]float64, 0, n)
	}
	for _, ps := range series {
		if len(ps) > 0 {
			v.Evidence.Pods++
		}
		for _, p := range ps {
			base = max(base, p.Value)
			if pcts != nil {
				all = append(all, p.Value)
			}
		}
	}
	if pcts != nil {
		base = selectQuantile(q, all)
	}
	v.Evidence.Value = base
	v.Recommended = max(ceilTo(base/target, unit), floor)
	v.Severity = severity(resource, current, v.Recommended)
	return v
}
