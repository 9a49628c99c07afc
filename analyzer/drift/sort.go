package drift

import (
	"math"
	"slices"
)

// sortFloats sorts finite values ascending, using tmp (grown as needed and
// returned for reuse) as the radix sort's second buffer.
//
// Sorting is most of a numeric column's cost, so large slices get an LSD
// radix sort on the values' bits (11-bit digits, six passes, passes where
// every value shares the digit skipped), about three times faster than
// pdqsort on a million values.
func sortFloats(xs, tmp []float64) []float64 {
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
		k := sortKey(x)
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
		if c[(sortKey(xs[0])>>(p*bits))&mask] == len(xs) {
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
			d := (sortKey(x) >> shift) & mask
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

// sortKey maps a float's bits to an unsigned integer in the same order:
// negative numbers have every bit flipped, positive ones the sign bit.
func sortKey(x float64) uint64 {
	b := math.Float64bits(x)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}
