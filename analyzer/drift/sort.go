package drift

import (
	"math"
	"math/bits"
	"unsafe"
)

// Sorting is most of a numeric column's cost, so it is done on the values'
// bits: each finite float becomes an unsigned key in the same order
// (sortKey), and the keys are sorted by a most-significant-digit radix
// sort whose digits are taken from the range the keys actually span.
//
// Why MSD and not LSD: an LSD radix sort of 64-bit keys makes six passes
// over the whole column, each scattering a million values to 2,048 places
// in memory. MSD makes one such pass; after it the buckets are a few
// thousand values each, so the rest of the work (another digit, then
// insertion sorts of a handful of values, then turning keys back into
// floats) happens in cache. Taking each digit from the tight range
// [min, max] of the keys in hand means no pass is spent on bits every key
// shares, and a bucket of equal values is recognised at once.
//
// The keys live in the same memory as the floats (a float64 and a uint64
// have the same size), so sorting a column needs the output and one
// scratch buffer and nothing else.

const (
	// topDigitBits caps the first digit, taken over the whole column, at
	// 4,096 buckets, whose counts (32 KB) stay in a core's cache while
	// the column is scattered. A million values then fall into buckets of
	// hundreds, which a second digit and insertion sorts finish in cache.
	// (65,536 buckets did better on one column alone and worse with both
	// cores sorting at once, in BenchmarkCompare100x1M.)
	topDigitBits = 12
	// maxDigitBits caps the later digits, within a bucket, at 2,048.
	maxDigitBits = 11
	// insertionMax is the bucket size at and below which insertion sort
	// beats another radix digit.
	insertionMax = 48
	// keysPerBucketLog2: a digit over n keys has bits.Len(n) minus this
	// many bits, so about four keys fall in each bucket.
	keysPerBucketLog2 = 2
)

// sorter sorts columns one after another, keeping its scratch memory
// from one to the next. It is not safe for concurrent use.
type sorter struct {
	tmp []float64 // the radix sort's second buffer
	// counts holds one digit's bucket counts per depth of the recursion,
	// so that no call clears more of them than it uses.
	counts [][]int
}

// finiteSorted writes the finite values of src, sorted ascending, to out
// (grown as needed) and says how many values were NaN or ±Inf. src is
// only read.
//
// The first digit is taken straight from src (a pass for the range, one
// to count, one to scatter into the scratch buffer), so the column is
// never copied as a whole before it is sorted.
func (s *sorter) finiteSorted(src, out []float64) (sorted []float64, missing int) {
	n := 0
	lo, hi := uint64(math.MaxUint64), uint64(0)
	for _, v := range src {
		b := math.Float64bits(v)
		// An exponent of all ones is NaN or ±Inf.
		if b&expMask == expMask {
			continue
		}
		k := sortKey(b)
		lo, hi = min(lo, k), max(hi, k)
		n++
	}
	missing = len(src) - n
	if cap(out) < n {
		out = make([]float64, n)
	}
	if cap(s.tmp) < n {
		s.tmp = make([]float64, n)
	}
	out = out[:n]
	keys, spare := asKeys(out), asKeys(s.tmp[:n])
	if n <= insertionMax || lo == hi {
		i := 0
		for _, v := range src {
			if b := math.Float64bits(v); b&expMask != expMask {
				keys[i] = sortKey(b)
				i++
			}
		}
		if n > 0 {
			s.radixSort(keys, spare, false, 0)
		}
		return out, missing
	}
	d := s.digit(lo, hi, n, 0)
	for _, v := range src {
		if b := math.Float64bits(v); b&expMask != expMask {
			d.ends[d.of(sortKey(b))]++
		}
	}
	d.starts()
	for _, v := range src {
		if b := math.Float64bits(v); b&expMask != expMask {
			k := sortKey(b)
			at := &d.ends[d.of(k)]
			spare[*at] = k
			*at++
		}
	}
	s.sortBuckets(d, spare, keys, true, 0)
	return out, missing
}

const expMask = 0x7ff << 52

// asKeys views floats as their bits, so keys can be sorted in the memory
// the floats came in and turned back into floats where they end.
func asKeys(xs []float64) []uint64 {
	if len(xs) == 0 {
		return nil
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(&xs[0])), len(xs))
}

// sortKey maps a float's bits to an unsigned integer in the same order:
// negative numbers have every bit flipped, positive ones the sign bit.
func sortKey(b uint64) uint64 {
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

// floatBits undoes sortKey.
func floatBits(k uint64) uint64 {
	if k>>63 == 1 {
		return k &^ (1 << 63)
	}
	return ^k
}

// radixSort sorts the keys in src and leaves them as float bits, in src
// when toTmp is false and in tmp (as long as src) when it is true; the
// other slice's contents are left undefined. depth is the recursion's.
func (s *sorter) radixSort(src, tmp []uint64, toTmp bool, depth int) {
	dst := src
	if toTmp {
		dst = tmp
	}
	if len(src) <= insertionMax {
		if toTmp {
			copy(tmp, src)
		}
		insertionSort(dst)
		for i, k := range dst {
			dst[i] = floatBits(k)
		}
		return
	}
	lo, hi := src[0], src[0]
	for _, k := range src {
		lo, hi = min(lo, k), max(hi, k)
	}
	if lo == hi {
		f := floatBits(lo)
		for i := range dst {
			dst[i] = f
		}
		return
	}
	d := s.digit(lo, hi, len(src), depth)
	for _, k := range src {
		d.ends[d.of(k)]++
	}
	d.starts()
	for _, k := range src {
		at := &d.ends[d.of(k)]
		tmp[*at] = k
		*at++
	}
	s.sortBuckets(d, tmp, src, !toTmp, depth)
}

// digit is one MSD step: the top bits of k−lo, as many as the number of
// keys warrants (about four keys a bucket) up to topDigitBits for the
// first digit and maxDigitBits for the others.
type digit struct {
	lo    uint64
	shift uint
	// ends counts each bucket's keys, then (after starts) holds where the
	// next key of each goes, and after the scatter where each bucket ends.
	ends []int
}

// digit sets up the digit for n keys in [lo, hi] at a depth, with zeroed
// counts.
func (s *sorter) digit(lo, hi uint64, n, depth int) digit {
	capBits := maxDigitBits
	if depth == 0 {
		capBits = topDigitBits
	}
	want := min(capBits, max(bits.Len(uint(n))-keysPerBucketLog2, 1))
	shift := uint(max(bits.Len64(hi-lo)-want, 0))
	for len(s.counts) <= depth {
		s.counts = append(s.counts, make([]int, 1<<capBits))
	}
	ends := s.counts[depth][:(hi-lo)>>shift+1]
	clear(ends)
	return digit{lo: lo, shift: shift, ends: ends}
}

func (d digit) of(k uint64) uint64 { return (k - d.lo) >> d.shift }

// starts turns counts into the first position of each bucket.
func (d digit) starts() {
	at := 0
	for b, n := range d.ends {
		d.ends[b] = at
		at += n
	}
}

// sortBuckets sorts each bucket of d, scattered into keys, with the same
// stretch of spare as its scratch, leaving it in spare when toSpare. The
// buckets' ends are read before each recursion, which reuses the counts
// of deeper levels only.
func (s *sorter) sortBuckets(d digit, keys, spare []uint64, toSpare bool, depth int) {
	start := 0
	for _, end := range d.ends {
		if end > start {
			s.radixSort(keys[start:end], spare[start:end], toSpare, depth+1)
		}
		start = end
	}
}

func insertionSort(xs []uint64) {
	for i := 1; i < len(xs); i++ {
		k := xs[i]
		j := i
		for ; j > 0 && xs[j-1] > k; j-- {
			xs[j] = xs[j-1]
		}
		xs[j] = k
	}
}
