package rightsize

import (
	"fmt"
	"math"
	"time"
)

// This file reproduces the Kubernetes VPA recommender
// (vertical-pod-autoscaler/pkg/recommender: util/histogram*.go,
// util/decaying_histogram.go, model/container.go,
// model/aggregate_container_state.go, logic/estimator.go and
// logic/recommender.go) with its default settings, including where it
// truncates to whole millicores and bytes, so its numbers come out the same.

// expHistogramOptions are exponential buckets: bucket 0 is [0, first), bucket
// n starts at first × (ratio^n − 1) / (ratio − 1).
type expHistogramOptions struct {
	numBuckets      int
	first, ratio    float64
	epsilon         float64
	logRatio        float64
	bucketStartsMem []float64
}

func newExpHistogramOptions(maxValue, first, ratio, epsilon float64) *expHistogramOptions {
	o := &expHistogramOptions{first: first, ratio: ratio, epsilon: epsilon, logRatio: math.Log(ratio)}
	o.numBuckets = int(math.Ceil(math.Log(maxValue*(ratio-1)/first+1)/o.logRatio)) + 1
	o.bucketStartsMem = make([]float64, o.numBuckets)
	for b := 1; b < o.numBuckets; b++ {
		o.bucketStartsMem[b] = first * (math.Pow(ratio, float64(b)) - 1) / (ratio - 1)
	}
	return o
}

func (o *expHistogramOptions) findBucket(v float64) int {
	if v < o.first {
		return 0
	}
	b := int(math.Log(v*(o.ratio-1)/o.first+1) / o.logRatio)
	if b >= o.numBuckets {
		return o.numBuckets - 1
	}
	return b
}

// The VPA's defaults: buckets grow by 5%, the smallest is 0.01 core or 1e7
// bytes, up to 1000 cores or 1e12 bytes (176 buckets each); a bucket
// lighter than 0.001 × the minimum sample weight (0.1) counts as empty.
const (
	vpaMinSampleWeight = 0.1
	vpaEpsilon         = 0.001 * vpaMinSampleWeight
	vpaHalfLife        = 24 * time.Hour
	vpaMemoryInterval  = 24 * time.Hour
	vpaMaxDecayExp     = 100
)

var (
	vpaCPUBuckets    = newExpHistogramOptions(1000, 0.01, 1.+0.05, vpaEpsilon)
	vpaMemoryBuckets = newExpHistogramOptions(1e12, 1e7, 1.+0.05, vpaEpsilon)
)

// decayingHistogram weights a sample by 2^((t − reference) / halfLife), so
// a sample loses half its weight per half-life relative to newer ones. The
// reference is a whole multiple of the half-life, moved forward (and the
// weights rescaled) when the exponent would pass 100.
type decayingHistogram struct {
	o          *expHistogramOptions
	weight     []float64
	total      float64
	minB, maxB int
	halfLifeMs int64
	refMs      int64
	hasRef     bool
	// decay, when set, remembers decay factors across histograms.
	decay *decayCache
}

func newDecayingHistogram(o *expHistogramOptions) *decayingHistogram {
	return &decayingHistogram{o: o, weight: make([]float64, o.numBuckets), minB: o.numBuckets - 1, halfLifeMs: vpaHalfLife.Milliseconds()}
}

// roundTo rounds t to the nearest multiple of m, halves up (time.Round).
func roundTo(t, m int64) int64 {
	r := t % m
	if r < 0 {
		r += m
	}
	if r+r < m {
		return t - r
	}
	return t + m - r
}

func (h *decayingHistogram) decayFactor(t int64) float64 {
	if !h.hasRef || t > h.refMs+h.halfLifeMs*vpaMaxDecayExp {
		// The VPA starts from the zero time, so its first sample always
		// shifts the reference: the same as starting from the sample.
		newRef := roundTo(t, h.halfLifeMs)
		if h.hasRef {
			exp := int(math.Floor(float64(h.refMs-newRef)/float64(h.halfLifeMs) + 0.5))
			h.scale(math.Ldexp(1, exp))
		}
		h.refMs, h.hasRef = newRef, true
	}
	if h.decay != nil && h.halfLifeMs == vpaHalfLife.Milliseconds() {
		return h.decay.factor(t - h.refMs)
	}
	return math.Exp2(float64(t-h.refMs) / float64(h.halfLifeMs))
}

func (h *decayingHistogram) add(v, w float64, t int64) {
	h.addToBucket(h.o.findBucket(v), w, t)
}

// addToBucket adds a sample whose bucket the caller found.
func (h *decayingHistogram) addToBucket(b int, w float64, t int64) {
	w *= h.decayFactor(t)
	h.weight[b] += w
	h.total += w
	if b < h.minB && h.weight[b] >= h.o.epsilon {
		h.minB = b
	}
	if b > h.maxB && h.weight[b] >= h.o.epsilon {
		h.maxB = b
	}
}

func (h *decayingHistogram) subtract(v, w float64, t int64) {
	w *= h.decayFactor(t)
	b := h.o.findBucket(v)
	if w > h.weight[b]-h.o.epsilon {
		w = h.weight[b]
	}
	h.total -= w
	h.weight[b] -= w
	h.updateMinMax()
}

func (h *decayingHistogram) scale(f float64) {
	for b := h.minB; b <= h.maxB; b++ {
		h.weight[b] *= f
	}
	h.total *= f
	h.updateMinMax()
}

func (h *decayingHistogram) updateMinMax() {
	last := h.o.numBuckets - 1
	for h.weight[h.minB] < h.o.epsilon && h.minB < last {
		h.minB++
	}
	for h.weight[h.maxB] < h.o.epsilon && h.maxB > 0 {
		h.maxB--
	}
}

func (h *decayingHistogram) empty() bool { return h.weight[h.minB] < h.o.epsilon }

// percentile returns the upper edge of the bucket where the cumulative
// weight reaches p × total (the last bucket's start for the last bucket).
func (h *decayingHistogram) percentile(p float64) float64 {
	if h.empty() {
		return 0
	}
	sum, threshold := 0.0, p*h.total
	b := h.minB
	for ; b < h.maxB; b++ {
		sum += h.weight[b]
		if sum >= threshold {
			break
		}
	}
	if b < h.o.numBuckets-1 {
		return h.o.bucketStartsMem[b+1]
	}
	return h.o.bucketStartsMem[b]
}

// amount is the VPA's ResourceAmount conversion: truncate to an integer,
// clamped to [0, 1e14].
func amount(v float64) float64 {
	switch {
	case math.IsNaN(v), v < 0:
		return 0
	case v > 1e14:
		return 1e14
	}
	return math.Trunc(v)
}

// memoryState is one pod's container for memory: one peak per 24 h window.
type memoryState struct {
	windowEnd, lastSample int64
	started               bool
	peak, oomPeak         float64
}

// addMemory is the VPA's addMemorySample: within the window a higher value
// replaces the window's peak in the histogram; past it the window moves on
// and the value starts a new peak. Peaks are weighted at the window's end.
func (s *memoryState) addMemory(h *decayingHistogram, t int64, v float64, oom bool) {
	if v < 0 || (!oom && t < s.lastSample) {
		return
	}
	s.lastSample = t
	if !s.started {
		s.windowEnd, s.started = t, true
	}
	addPeak := false
	if t < s.windowEnd {
		if old := max(s.peak, s.oomPeak); old != 0 && v > old {
			h.subtract(old, 1, s.windowEnd)
			addPeak = true
		}
	} else {
		iv := vpaMemoryInterval.Milliseconds()
		shift := (t-s.windowEnd)/iv*iv + iv
		s.windowEnd += shift
		s.peak, s.oomPeak = 0, 0
		addPeak = true
	}
	if addPeak {
		h.add(v, 1, s.windowEnd)
		if oom {
			s.oomPeak = v
		} else {
			s.peak = v
		}
	}
}

// recordOOM adds what the container would have needed: the larger of its
// request and its window's peak, plus the larger of 100 MiB and 20%.
// OOMs older than the current window are dropped, as the VPA drops them.
func (s *memoryState) recordOOM(h *decayingHistogram, t int64, request float64) {
	if s.started && t < s.windowEnd-vpaMemoryInterval.Milliseconds() {
		return
	}
	used := max(amount(request), s.peak)
	needed := max(used+100*MiB, amount(used*1.2))
	s.addMemory(h, t, needed, true)
}

// VPA is the Kubernetes Vertical Pod Autoscaler recommender with its
// defaults: target = p90 × 1.15; lower bound = p50 × 1.15 × (1 +
// 0.001/c)^−2; upper bound = p95 × 1.15 × (1 + 1/c), with c the history's
// confidence in days; CPU from a decaying histogram of every sample, memory
// from one peak per 24 h; per-pod floors of 25m and 250 MiB split over the
// pod's containers. It recommends requests; a limit set today keeps its
// ratio to the request, as the VPA's admission controller keeps it.
type VPA struct{}

func (VPA) Name() string { return "vpa" }

// VPAEstimate is the recommender's raw output for one container, in
// millicores and bytes.
type VPAEstimate struct {
	CPUTarget, CPULower, CPUUpper          float64 // millicores
	MemoryTarget, MemoryLower, MemoryUpper float64 // bytes
	// CPU percentiles before margins (millicores), memory (bytes).
	CPUP50, CPUP90, CPUP95          float64
	MemoryP50, MemoryP90, MemoryP95 float64
	Confidence                      float64
	Samples                         int
	First, Last                     int64
}

// Estimate feeds the container's samples to the VPA's model and returns its
// estimate. ok is false when there are no CPU samples.
func (VPA) Estimate(c *Container) (e VPAEstimate, ok bool) {
	cpu := newDecayingHistogram(vpaCPUBuckets)
	mem := newDecayingHistogram(vpaMemoryBuckets)
	cache := decayCaches.Get().(*decayCache)
	defer decayCaches.Put(cache)
	cpu.decay, mem.decay = cache, cache
	weight := max(amount(c.Current.CPURequest*1000)/1000, vpaMinSampleWeight)
	e.First, e.Last = math.MaxInt64, math.MinInt64
	for _, p := range c.Pods {
		last := int64(math.MinInt64)
		for _, s := range p.CPU {
			if s.Value < 0 || s.TimestampMsec <= last {
				continue // out of order or duplicate, as the VPA discards them
			}
			last = s.TimestampMsec
			cpu.addToBucket(cpuBucket(amount(s.Value*1000)), weight, s.TimestampMsec)
			e.Samples++
			e.First, e.Last = min(e.First, s.TimestampMsec), max(e.Last, s.TimestampMsec)
		}
		var ms memoryState
		ooms := podOOMs(c.OOMKills, p.Name)
		j := 0
		for _, s := range p.Memory {
			for ; j < len(ooms) && ooms[j].TimestampMsec <= s.TimestampMsec; j++ {
				ms.recordOOM(mem, ooms[j].TimestampMsec, ooms[j].Request)
			}
			ms.addMemory(mem, s.TimestampMsec, amount(s.Value), false)
		}
		for ; j < len(ooms); j++ {
			ms.recordOOM(mem, ooms[j].TimestampMsec, ooms[j].Request)
		}
	}
	if e.Samples == 0 {
		return VPAEstimate{}, false
	}
	days := float64(e.Last-e.First) / float64((24 * time.Hour).Milliseconds())
	e.Confidence = math.Min(days, float64(e.Samples)/(60*24))

	e.CPUP50, e.CPUP90, e.CPUP95 = amount(cpu.percentile(0.5)*1000), amount(cpu.percentile(0.9)*1000), amount(cpu.percentile(0.95)*1000)
	e.MemoryP50, e.MemoryP90, e.MemoryP95 = amount(mem.percentile(0.5)), amount(mem.percentile(0.9)), amount(mem.percentile(0.95))
	margin := func(v float64) float64 { return amount(v * 1.15) }
	lower := func(v float64) float64 { return amount(margin(v) * math.Pow(1+0.001/e.Confidence, -2)) }
	upper := func(v float64) float64 { return amount(margin(v) * math.Pow(1+1/e.Confidence, 1)) }
	e.CPUTarget, e.CPULower, e.CPUUpper = margin(e.CPUP90), lower(e.CPUP50), upper(e.CPUP95)
	e.MemoryTarget, e.MemoryLower, e.MemoryUpper = margin(e.MemoryP90), lower(e.MemoryP50), upper(e.MemoryP95)

	// Per-pod floors, split evenly over the pod's containers.
	n := max(c.PodContainers, 1)
	minCPU := amount(amount(25*0.001*1000) / float64(n))
	minMem := amount(amount(250*MiB) / float64(n))
	e.CPUTarget, e.CPULower, e.CPUUpper = max(e.CPUTarget, minCPU), max(e.CPULower, minCPU), max(e.CPUUpper, minCPU)
	e.MemoryTarget, e.MemoryLower, e.MemoryUpper = max(e.MemoryTarget, minMem), max(e.MemoryLower, minMem), max(e.MemoryUpper, minMem)
	return e, true
}

// podOOMs are the kills of the named pod (or of an unnamed one), oldest
// first.
func podOOMs(ks []OOMKill, pod string) []OOMKill {
	var out []OOMKill
	for _, k := range ks {
		if k.Pod == pod || k.Pod == "" {
			out = append(out, k)
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].TimestampMsec < out[j-1].TimestampMsec; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Recommend computes the container's VPA recommendation.
func (v VPA) Recommend(c *Container) Recommendation {
	r := newRecommendation(c, v.Name())
	cpuReq := Value{Resource: CPU, Setting: Request, Current: c.Current.CPURequest}
	cpuLim := Value{Resource: CPU, Setting: Limit, Current: c.Current.CPULimit}
	memReq := Value{Resource: Memory, Setting: Request, Current: c.Current.MemoryRequest}
	memLim := Value{Resource: Memory, Setting: Limit, Current: c.Current.MemoryLimit}
	e, ok := v.Estimate(c)
	if !ok {
		for _, x := range []*Value{&cpuReq, &cpuLim, &memReq, &memLim} {
			x.Recommended, x.Skipped, x.Severity = x.Current, "no CPU samples", SeverityUnknown
		}
		r.Values = []Value{cpuReq, cpuLim, memReq, memLim}
		r.finish(c)
		return r
	}
	hist := time.Duration(e.Last-e.First) * time.Millisecond
	pods := 0
	for _, p := range c.Pods {
		if len(p.CPU) > 0 {
			pods++
		}
	}
	lo, up := e.CPULower/1000, e.CPUUpper/1000
	cpuEv := Evidence{Statistic: "decaying histogram p90 × 1.15 (half-life 24h)", Value: e.CPUP90 / 1000, Percentiles: []float64{0.5, 0.9, 0.95},
		Samples: e.Samples, Pods: pods, HistorySeconds: hist.Seconds(), LowerBound: &lo, UpperBound: &up}
	mlo, mup := e.MemoryLower, e.MemoryUpper
	memEv := Evidence{Statistic: "p90 of daily peaks × 1.15", Value: e.MemoryP90, Percentiles: []float64{0.5, 0.9, 0.95},
		Samples: e.Samples, Pods: pods, HistorySeconds: hist.Seconds(), LowerBound: &mlo, UpperBound: &mup, OOMKills: len(c.OOMKills)}
	cpuReq.Recommended, cpuReq.Evidence = e.CPUTarget/1000, cpuEv
	memReq.Recommended, memReq.Evidence = e.MemoryTarget, memEv
	cpuLim.Recommended, cpuLim.Evidence = proportionalLimit(c.Current.CPURequest, c.Current.CPULimit, cpuReq.Recommended, 0.001), cpuEv
	memLim.Recommended, memLim.Evidence = proportionalLimit(c.Current.MemoryRequest, c.Current.MemoryLimit, memReq.Recommended, 1), memEv
	for _, x := range []*Value{&cpuReq, &cpuLim, &memReq, &memLim} {
		x.Severity = severity(x.Resource, x.Current, x.Recommended)
	}
	r.Values = []Value{cpuReq, cpuLim, memReq, memLim}
	r.finish(c)
	return r
}

// proportionalLimit keeps limit/request as it is today; a limit without a
// request (the request defaults to it) stays equal to the request.
func proportionalLimit(request, limit, newRequest, unit float64) float64 {
	switch {
	case limit == 0:
		return 0
	case request == 0:
		return newRequest
	}
	return floorTo(newRequest*limit/request, unit)
}

// String describes the estimate for logs and test failures.
func (e VPAEstimate) String() string {
	return fmt.Sprintf("cpu %gm [%g, %g], memory %g [%g, %g], confidence %.4f, %d samples",
		e.CPUTarget, e.CPULower, e.CPUUpper, e.MemoryTarget, e.MemoryLower, e.MemoryUpper, e.Confidence, e.Samples)
}
