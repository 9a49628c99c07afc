package drift

import (
	"math"
	"slices"
)

// lsdSortFloats is the sort numeric columns used before issue 19, kept as
// the baseline of the equivalence test and of BenchmarkSort: it sorts
// finite values ascending, using tmp (grown as needed and returned for
// reuse) as the radix sort's second buffer, by an LSD radix sort on the
// values' bits (11-bit digits, six passes over the whole slice, passes
// where every value shares the digit skipped).
func lsdSortFloats(xs, tmp []float64) []float64 {
	if len(xs) < 512 {
		slices.Sort(xs)
		return tmp
	}
	const (
		bits   = 11
		radix  = 1 << bits
		mask   = radix - 1
		passes = (64 + bits - 1) / bits
	)
	var counts [passes][radix]int
	for _, x := range xs {
		k := lsdSortKey(x)
		for p := range passes {
			counts[p][(k>>(p*bits))&mask]++
		}
	}
	if cap(tmp) < len(xs) {
		tmp = make([]float64, len(xs))
	}
	tmp = tmp[:len(xs)]
	src, dst := xs, tmp
	for p := range passes {
		c := &counts[p]
		// A digit every value shares moves nothing.
		if c[(lsdSortKey(xs[0])>>(p*bits))&mask] == len(xs) {
			continue
		}
		offset := 0
		for d := range c {
			n := c[d]
			c[d] = offset
			offset += n
		}
		shift := p * bits
		for _, x := range src {
			d := (lsdSortKey(x) >> shift) & mask
			dst[c[d]] = x
			c[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &xs[0] {
		copy(xs, src)
	}
	return tmp
}

// lsdSortKey maps a float's bits to an unsigned integer in the same order:
// negative numbers have every bit flipped, positive ones the sign bit.
func lsdSortKey(x float64) uint64 {
	b := math.Float64bits(x)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}
