package drift

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
)

// Sorting is most of a numeric column's cost, and on a million values it
// is bound by memory, not arithmetic. So sortedFinite touches the column's
// memory as few times as it can: it reads the column twice to count its
// keys (by their first 16 bits: sign, exponent, 4 bits of mantissa; then
// by the ranges those counts call for) and a third time to write each
// finite value once, into a range of about rangeLen values (an MSD radix
// pass whose digit follows where the values are). Each range is then
// sorted while it is in cache, by radix digits sized to it, down to runs
// short enough for insertion. The LSD radix sort this replaced made six
// scatter passes and two copies over the whole column.
//
// The order is that of sortKey (−0 before +0), as the LSD sort's was, so
// the sorted column, and every statistic computed from it, is the same to
// the bit.

const (
	// radixMinLen: shorter columns are sorted by slices.Sort, as before.
	radixMinLen = 512
	// coarseBits is the first digit: sign, exponent, 4 bits of mantissa.
	coarseBits = 16
	// rangeLen is how many values (32 KB) the first pass aims to put in a
	// range, which is then sorted in cache.
	rangeLen = 4096
	// maxSubBits bounds how many ranges (2^maxSubBits) one prefix is split
	// into.
	maxSubBits = 12
	// maxDigitBits bounds the later digits, within a range in cache.
	maxDigitBits = 11
	// insertionMaxLen: runs this short are sorted by insertion.
	insertionMaxLen = 24
)

// sortedFinite writes the finite values of xs, ascending, to dst (grown as
// needed) and returns them with the number of values left out (NaN and
// ±Inf). s's scratch is reused from call to call.
func (s *sorter) sortedFinite(xs, dst []float64) (sorted []float64, missing int) {
	// How many keys begin with each 16 bits: sign, exponent and the
	// first four bits of the mantissa.
	if s.coarse == nil {
		s.coarse = make([]int32, 1<<coarseBits)
		s.first = make([]int32, 1<<coarseBits)
		s.sub = make([]uint8, 1<<coarseBits)
	}
	clear(s.coarse)
	n := 0
	for _, x := range xs {
		if finite(x) {
			s.coarse[sortKey(x)>>(64-coarseBits)]++
			n++
		}
	}
	missing = len(xs) - n
	if cap(dst) < n {
		dst = make([]float64, n)
	}
	dst = dst[:n]
	if n < radixMinLen || n > math.MaxInt32 {
		// Short, or too long for the int32 counters: a comparison sort,
		// in sortKey's order all the same.
		j := 0
		for _, x := range xs {
			if finite(x) {
				dst[j] = x
				j++
			}
		}
		if n < radixMinLen {
			slices.Sort(dst) // as before: ±0 in any order
		} else {
			slices.SortFunc(dst, func(a, b float64) int { return cmp.Compare(sortKey(a), sortKey(b)) })
		}
		return dst, missing
	}
	// Each 16-bit prefix gets 2^sub ranges on its next sub bits, so that a
	// range holds about rangeLen values whatever the distribution; ranges
	// are numbered in key order.
	ranges := int32(0)
	for c, m := range s.coarse {
		sub := 0
		if m > rangeLen {
			sub = min(bits.Len32(uint32(m-1)/rangeLen), maxSubBits)
		}
		s.first[c], s.sub[c] = ranges, uint8(sub)
		if m > 0 {
			ranges += 1 << sub
		}
	}
	if cap(s.counts) < int(ranges)+1 {
		s.counts = make([]int32, ranges+1)
	}
	counts := s.counts[:ranges+1]
	clear(counts)
	for _, x := range xs {
		if finite(x) {
			counts[s.rangeOf(sortKey(x))+1]++
		}
	}
	// counts[r] becomes where range r starts, counts[r+1] where it ends.
	for r := 1; r < len(counts); r++ {
		counts[r] += counts[r-1]
	}
	if cap(s.next) < int(ranges) {
		s.next = make([]int32, ranges)
	}
	next := s.next[:ranges]
	copy(next, counts)
	for _, x := range xs {
		if finite(x) {
			r := s.rangeOf(sortKey(x))
			dst[next[r]] = x
			next[r]++
		}
	}
	for r := range ranges {
		if lo, hi := counts[r], counts[r+1]; hi-lo > 1 {
			s.sort(dst[lo:hi])
		}
	}
	return dst, missing
}

// rangeOf is the range a key is scattered to: its prefix's first range
// plus the sub bits that follow the prefix.
func (s *sorter) rangeOf(k uint64) int32 {
	c := k >> (64 - coarseBits)
	sub := s.sub[c]
	return s.first[c] + int32(k<<coarseBits>>(64-sub)&(1<<sub-1))
}

// sorter sorts the key ranges of sortedFinite. Its scratch lives across
// calls so that a short range does not pay for clearing counters it does
// not use.
type sorter struct {
	tmp []float64
	// The first pass: keys per 16-bit prefix, each prefix's first range
	// and how many bits after it number its ranges; then keys per range
	// and where each range's next key goes.
	coarse, first []int32
	sub           []uint8
	counts, next  []int32
	// The later passes, 2 × 1<<maxDigitBits counters a level of recursion.
	digits []int32
	depth  int
}

// sort sorts xs by sortKey in place: by a radix digit sized to xs (about
// one value a bucket), then each bucket, or by insertion when xs is short.
func (s *sorter) sort(xs []float64) {
	if len(xs) <= insertionMaxLen {
		insertionSort(xs)
		return
	}
	lo, hi := uint64(math.MaxUint64), uint64(0)
	for _, x := range xs {
		k := sortKey(x)
		lo, hi = min(lo, k), max(hi, k)
	}
	if lo == hi {
		return // one value, repeated
	}
	shift, width := digit(lo, hi, min(bits.Len(uint(len(xs)))-1, maxDigitBits))
	const level = 2 << maxDigitBits
	if len(s.digits) < (s.depth+1)*level {
		s.digits = append(s.digits, make([]int32, level)...)
	}
	counts := s.digits[s.depth*level:][:1<<width]
	next := s.digits[s.depth*level+1<<maxDigitBits:][:1<<width]
	clear(counts)
	for _, x := range xs {
		counts[(sortKey(x)-lo)>>shift]++
	}
	at := int32(0)
	for d, c := range counts {
		next[d] = at
		at += c
	}
	if cap(s.tmp) < len(xs) {
		s.tmp = make([]float64, len(xs))
	}
	t := s.tmp[:len(xs)]
	for _, x := range xs {
		d := (sortKey(x) - lo) >> shift
		t[next[d]] = x
		next[d]++
	}
	copy(xs, t)
	s.depth++
	start := 0
	for _, c := range counts {
		switch {
		case c <= 1:
		case c <= insertionMaxLen:
			insertionSort(xs[start : start+int(c)])
		default:
			s.sort(xs[start : start+int(c)])
		}
		start += int(c)
	}
	s.depth--
}

// digit chooses a radix digit of up to want bits (at least 1) for keys
// from lo to hi: (key − lo) >> shift, which is below 1<<width. Offsetting
// by lo rather than dropping the bits lo and hi share spreads the digits
// over the keys there are: values from 1 to 99 differ in all eleven
// exponent bits, but their keys span only seven binades.
func digit(lo, hi uint64, want int) (shift uint, width int) {
	span := bits.Len64(hi - lo)
	width = min(max(want, 1), span)
	return uint(span - width), width
}

func insertionSort(xs []float64) {
	for i := 1; i < len(xs); i++ {
		x := xs[i]
		k := sortKey(x)
		j := i
		for ; j > 0 && sortKey(xs[j-1]) > k; j-- {
			xs[j] = xs[j-1]
		}
		xs[j] = x
	}
}

// finite is !IsNaN(x) && !IsInf(x, 0): the exponent is not all ones.
func finite(x float64) bool {
	return math.Float64bits(x)&(0x7ff<<52) != 0x7ff<<52
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
