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

// decayCache remembers 2^(d/halfLife) by d, the sample's distance in
// milliseconds from the histogram's reference time. The reference is a
// whole number of half-lives, so wherever samples share timestamps —
// pods scraped together, series read at a query's step, the containers
// of one run — the same distances recur and each factor is computed once.
// Where every series has timestamps of its own, nothing repeats and each
// sample costs a look-up more than before (measured in BENCHMARKS.md).
//
// It is direct-mapped by d/1024 (about a second), so a series' samples,
// seconds apart, walk the slots in order instead of jumping around 1 MB;
// a collision costs only a recomputation.
//
// The half-life is the VPA's fixed 24 hours, which a factor's key leaves
// out; decayFactor uses the cache only for that half-life.
type decayCache struct {
	dist  [decayCacheSize]int64
	value [decayCacheSize]float64
}

const (
	decayCacheBits = 16
	decayCacheSize = 1 << decayCacheBits // 1 MB
)

// noDist marks an empty slot: no sample lies 2^63 ms from its reference.
const noDist = math.MinInt64

// decayCaches keeps caches between Estimate calls, so consecutive
// containers reuse their ticks' factors.
var decayCaches = sync.Pool{New: func() any {
	c := new(decayCache)
	for i := range c.dist {
		c.dist[i] = noDist
	}
	return c
}}

func (c *decayCache) factor(d int64) float64 {
	i := (d >> 10) & (decayCacheSize - 1)
	if c.dist[i] == d {
		return c.value[i]
	}
	f := math.Exp2(float64(d) / float64(vpaHalfLife.Milliseconds()))
	c.dist[i], c.value[i] = d, f
	return f
}
