package rightsize

import (
	"fmt"
	"sync"
)

// Simple is Robusta KRR's "simple" strategy: CPU request = max over pods of
// each pod's p95 CPU usage and no CPU limit; memory request = limit =
// max(max usage over pods × 1.15, last OOM-killed limit × 1.25). Values are
// rounded up to 1m and 1 MiB with floors of 10m and 100 MiB, and a resource
// with fewer than 100 points (over all pods) gets no recommendation.
type Simple struct {
	CPUPercentile     float64 // 0 means 0.95
	MemoryBuffer      float64 // 0 means 0.15
	OOMBuffer         float64 // 0 means 0.25
	PointsRequired    int     // 0 means 100
	MinCPU, MinMemory float64 // 0 means 10m and 100 MiB
}

func (Simple) Name() string { return "simple" }

func (s Simple) defaults() Simple {
	if s.CPUPercentile == 0 {
		s.CPUPercentile = 0.95
	}
	if s.MemoryBuffer == 0 {
		s.MemoryBuffer = 0.15
	}
	if s.OOMBuffer == 0 {
		s.OOMBuffer = 0.25
	}
	if s.PointsRequired == 0 {
		s.PointsRequired = 100
	}
	if s.MinCPU == 0 {
		s.MinCPU = 0.010
	}
	if s.MinMemory == 0 {
		s.MinMemory = 100 * MiB
	}
	return s
}

// Recommend computes the container's KRR-simple recommendation.
func (s Simple) Recommend(c *Container) Recommendation {
	s = s.defaults()
	r := newRecommendation(c, s.Name())
	cpus := make([][]Point, len(c.Pods))
	mems := make([][]Point, len(c.Pods))
	for i, p := range c.Pods {
		cpus[i], mems[i] = p.CPU, p.Memory
	}

	// CPU: the highest of the pods' p95s.
	cpuReq := Value{Resource: CPU, Setting: Request, Current: c.Current.CPURequest}
	cpuLim := Value{Resource: CPU, Setting: Limit, Current: c.Current.CPULimit}
	sp, n := span(cpus...)
	ev := Evidence{Statistic: fmt.Sprintf("max over pods of p%g", s.CPUPercentile*100), Percentiles: []float64{s.CPUPercentile}, Samples: n, HistorySeconds: sp.Seconds()}
	if n < s.PointsRequired {
		skip := fmt.Sprintf("not enough data: %d CPU points, need %d", n, s.PointsRequired)
		cpuReq.Recommended, cpuReq.Skipped, cpuReq.Severity, cpuReq.Evidence = cpuReq.Current, skip, SeverityUnknown, ev
		cpuLim.Recommended, cpuLim.Skipped, cpuLim.Severity, cpuLim.Evidence = cpuLim.Current, skip, SeverityUnknown, ev
	} else {
		bp := floatBufs.Get().(*[]float64)
		defer floatBufs.Put(bp)
		buf := *bp
		peak := 0.0
		for _, ps := range cpus {
			if len(ps) == 0 {
				continue
			}
			ev.Pods++
			buf = values(ps, buf) // a copy: selecting in it leaves the series alone
			peak = max(peak, selectQuantile(s.CPUPercentile, buf))
		}
		*bp = buf
		ev.Value = peak
		cpuReq.Recommended = max(ceilTo(peak, 0.001), s.MinCPU)
		cpuReq.Evidence = ev
		cpuReq.Severity = severity(CPU, cpuReq.Current, cpuReq.Recommended)
		// No CPU limit: throttling costs latency and a request already
		// guarantees the share.
		cpuLim.Recommended, cpuLim.Evidence = 0, ev
		cpuLim.Severity = severity(CPU, cpuLim.Current, 0)
	}

	// Memory: the highest working set plus a buffer, or the last OOM-killed
	// limit plus a larger one.
	memReq := Value{Resource: Memory, Setting: Request, Current: c.Current.MemoryRequest}
	memLim := Value{Resource: Memory, Setting: Limit, Current: c.Current.MemoryLimit}
	sp, n = span(mems...)
	ev = Evidence{Statistic: "max over pods of max", Percentiles: []float64{1}, Samples: n, HistorySeconds: sp.Seconds(), OOMKills: len(c.OOMKills)}
	if n < s.PointsRequired {
		skip := fmt.Sprintf("not enough data: %d memory points, need %d", n, s.PointsRequired)
		memReq.Recommended, memReq.Skipped, memReq.Severity, memReq.Evidence = memReq.Current, skip, SeverityUnknown, ev
		memLim.Recommended, memLim.Skipped, memLim.Severity, memLim.Evidence = memLim.Current, skip, SeverityUnknown, ev
	} else {
		peak := 0.0
		for _, ps := range mems {
			if len(ps) == 0 {
				continue
			}
			ev.Pods++
			for _, p := range ps {
				peak = max(peak, p.Value)
			}
		}
		ev.Value = peak
		v := peak * (1 + s.MemoryBuffer)
		if k, ok := lastOOM(c.OOMKills); ok && k.Limit > 0 {
			v = max(v, k.Limit*(1+s.OOMBuffer))
		}
		v = max(ceilTo(v, MiB), s.MinMemory)
		memReq.Recommended, memLim.Recommended = v, v
		memReq.Evidence, memLim.Evidence = ev, ev
		memReq.Severity = severity(Memory, memReq.Current, v)
		memLim.Severity = severity(Memory, memLim.Current, v)
	}
	r.Values = []Value{cpuReq, cpuLim, memReq, memLim}
	r.finish(c)
	return r
}

// floatBufs recycles the per-pod value copies percentiles are selected in,
// so a fleet's worth of containers does not allocate one each.
var floatBufs = sync.Pool{New: func() any { return new([]float64) }}

func lastOOM(ks []OOMKill) (OOMKill, bool) {
	if len(ks) == 0 {
		return OOMKill{}, false
	}
	last := ks[0]
	for _, k := range ks[1:] {
		if k.TimestampMsec >= last.TimestampMsec {
			last = k
		}
	}
	return last, true
}
