package rightsize

import (
	"math"
	"sync"
)

// Two values dominate the cost of feeding a CPU sample to the VPA's
// decaying histogram: the logarithm that finds its bucket and the power of
// two that decays its weight. Both are pure functions of something that
// repeats, so they are remembered instead of recomputed, and the histogram
// gets the very same numbers it would have computed.

// cpuBucketTableSize covers usage up to 65.535 cores: CPU samples are
// whole millicores (amount truncates them, as the VPA does), so almost
// every sample's bucket is a table look-up.
const cpuBucketTableSize = 1 << 16

var (
	cpuBucketOnce  sync.Once
	cpuBucketTable []uint8 // 176 buckets fit a byte
)

// cpuBucket is vpaCPUBuckets.findBucket(millicores/1000) for whole,
// non-negative millicores.
func cpuBucket(millicores float64) int {
	if millicores < cpuBucketTableSize {
		cpuBucketOnce.Do(func() {
			cpuBucketTable = make([]uint8, cpuBucketTableSize)
			for m := range cpuBucketTable {
				cpuBucketTable[m] = uint8(vpaCPUBuckets.findBucket(float64(m) / 1000))
			}
		})
		return int(cpuBucketTable[int(millicores)])
	}
	return vpaCPUBuckets.findBucket(millicores / 1000)
}

// decayCache remembers the decay factor 2^x, x = d/halfLife, by the part
// of x that repeats. math.Exp2 (the pure-Go one of amd64 and most ports)
// splits x into k + t, k = x rounded half away from zero and |t| ≤ 1/2,
// evaluates a polynomial in t and scales it by 2^k. So 2^x is 2^t × 2^k to
// the bit whenever t is well inside ±1/2 (where Exp2(t) splits t into
// 0 + t itself) and 2^x is a normal float (where scaling by 2^k is
// exact). t recurs where x does not: a series sampled at a fixed step
// repeats its times of day, and within a binade of x (days 4 to 8, 8 to
// 16, ...) each recurs with the same t. Samples of series that share
// timestamps (pods scraped together, series read at a query's step, the
// containers of one run) share their t as well.
//
// It is direct-mapped by x's binade and t, in that binade's eighth of the
// slots, in order of t: a series' samples walk the slots in order, and
// the binades of one series (and the next, sharing its ticks) keep their
// own slots. A collision costs only a recomputation. The half-life is the
// VPA's fixed 24 hours, which a key leaves out; decayFactor uses the
// cache only for that half-life.
type decayCache struct {
	slots [decayCacheSize]decaySlot
}

type decaySlot struct {
	t   uint64 // the bits of t
	pow float64
}

const (
	decayCacheBits  = 16
	decayCacheSize  = 1 << decayCacheBits // 1 MB
	decayBinadeBits = 3                   // eight binades of x
	decayTBits      = decayCacheBits - decayBinadeBits
)

// noT marks an empty slot: t is never NaN.
var noT = math.Float64bits(math.NaN())

// decayCaches keeps caches between Estimate calls, so consecutive
// containers reuse their ticks' factors.
var decayCaches = sync.Pool{New: func() any {
	c := new(decayCache)
	for i := range c.slots {
		c.slots[i].t = noT
	}
	return c
}}

// factor is math.Exp2(float64(d) / halfLife), to the bit.
func (c *decayCache) factor(d int64) float64 {
	x := float64(d) / float64(vpaHalfLife.Milliseconds())
	if !exp2IsReduced || !(x > -1000 && x < 1000) {
		return math.Exp2(x)
	}
	// math.Exp2's own reduction.
	var k int
	switch {
	case x > 0:
		k = int(x + 0.5)
	case x < 0:
		k = int(x - 0.5)
	}
	t := x - float64(k)
	if !(t > -0.49 && t < 0.49) {
		// Within an ulp of ±1/2, Exp2(t) would round t ± 1/2 to ±1 and
		// split t as 1 + (t − 1); keep well away (2% of all t).
		return math.Exp2(x)
	}
	// |x|'s binade: 0 below 1/2, 1 for [1/2, 1), ..., 7 from 32 up.
	binade := min(max(int(math.Float64bits(x)>>52&0x7ff)-1023+2, 0), 1<<decayBinadeBits-1)
	slot := binade<<decayTBits | int((t+0.5)*(1<<decayTBits))
	b := math.Float64bits(t)
	s := &c.slots[slot]
	if s.t != b {
		s.t, s.pow = b, math.Exp2(t)
	}
	// 2^k, exactly: |k| < 1000 is a normal float's exponent.
	return s.pow * math.Float64frombits(uint64(k+1023)<<52)
}
