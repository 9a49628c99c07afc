package drift

import (
	"math"
	"sort"
)

// perValueMaxDistinct is Evidently's cut-off: a numeric reference with at
// most this many distinct values gets one bin per value, a richer one
// Sturges' histogram on the combined sample.
const perValueMaxDistinct = 20

// binning describes how numeric values were grouped for the binned
// measures.
type binning struct {
	rule  string // "per-value", "sturges" or "fixed"
	edges []float64
}

// numericBins counts the sorted, finite samples ref and cur into common
// bins: bins equal-width bins over the combined range when bins > 0 (an
// explicit request is honoured, unlike Evidently), else one bin per
// distinct value when the reference has at most 20 of them, else Sturges'
// rule on the combined sample. Both slices must be non-empty.
func numericBins(ref, cur []float64, bins int) (rc, cc []float64, b binning) {
	switch {
	case bins > 0:
		b = binning{rule: "fixed", edges: equalEdges(ref, cur, bins)}
	case distinctSorted(ref, perValueMaxDistinct+1) <= perValueMaxDistinct:
		rc, cc = perValueCounts(ref, cur)
		return rc, cc, binning{rule: "per-value"}
	default:
		b = binning{rule: "sturges", edges: equalEdges(ref, cur, 0)}
	}
	return histogram(ref, b.edges), histogram(cur, b.edges), b
}

// equalEdges is numpy.histogram_bin_edges over the concatenation of ref and
// cur with n bins, or bins='sturges' when n is 0, reproduced operation by
// operation so that values on an edge fall in the same bin as in numpy.
//
// A range wider than the largest float64 (values near -1.8e308 and
// +1.8e308 together) is computed at half scale, where numpy gives up:
// hi - lo is +Inf there, Sturges' count Inf/Inf a NaN, and make panicked
// on it. Halving and doubling are exact, so every other range keeps
// numpy's bits.
func equalEdges(ref, cur []float64, n int) []float64 {
	lo, hi := min(ref[0], cur[0]), max(ref[len(ref)-1], cur[len(cur)-1])
	scale := 1.0
	if math.IsInf(hi-lo, 0) {
		scale = 0.5
		lo, hi = lo*scale, hi*scale
	}
	first, last := lo, hi
	if first == last {
		first, last = first-0.5, last+0.5
	}
	if n == 0 {
		width := (hi - lo) / (math.Log2(float64(len(ref)+len(cur))) + 1)
		n = 1
		if width > 0 {
			n = int(math.Ceil((last - first) / width))
		}
	}
	// numpy.linspace: start + i·step, with the last edge exactly stop.
	edges := make([]float64, n+1)
	step := (last - first) / float64(n)
	for i := range edges {
		edges[i] = (float64(i)*step + first) / scale
	}
	edges[n] = last / scale
	return edges
}

// histogram counts sorted xs into [e_i, e_{i+1}), the last bin closed, as
// numpy.histogram does with explicit edges.
func histogram(xs, edges []float64) []float64 {
	counts := make([]float64, len(edges)-1)
	prev := sort.SearchFloat64s(xs, edges[0])
	for i := 1; i < len(edges); i++ {
		var at int
		if i == len(edges)-1 {
			at = sort.Search(len(xs), func(k int) bool { return xs[k] > edges[i] })
		} else {
			at = prev + sort.SearchFloat64s(xs[prev:], edges[i])
		}
		counts[i-1] = float64(at - prev)
		prev = at
	}
	return counts
}

// distinctSorted counts distinct values of sorted xs, stopping at limit.
func distinctSorted(xs []float64, limit int) int {
	n := 0
	for i := range xs {
		if i == 0 || xs[i] != xs[i-1] {
			n++
			if n >= limit {
				return n
			}
		}
	}
	return n
}

// distinctUnion counts distinct values over two sorted slices, stopping
// at limit.
func distinctUnion(a, b []float64, limit int) int {
	n := 0
	mergeDistinct(a, b, func(_ float64, _, _ int) bool {
		n++
		return n < limit
	})
	return n
}

// perValueCounts counts each distinct value of the union of sorted a and b
// in each sample, in ascending order of value.
func perValueCounts(a, b []float64) (ac, bc []float64) {
	mergeDistinct(a, b, func(_ float64, na, nb int) bool {
		ac = append(ac, float64(na))
		bc = append(bc, float64(nb))
		return true
	})
	return ac, bc
}

// mergeDistinct walks the distinct values of two sorted slices in order,
// calling f with each value and how often it occurs in a and in b, until f
// returns false.
func mergeDistinct(a, b []float64, f func(v float64, na, nb int) bool) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var v float64
		switch {
		case i == len(a):
			v = b[j]
		case j == len(b):
			v = a[i]
		default:
			v = min(a[i], b[j])
		}
		i0, j0 := i, j
		for i < len(a) && a[i] == v {
			i++
		}
		for j < len(b) && b[j] == v {
			j++
		}
		if !f(v, i-i0, j-j0) {
			return
		}
	}
}

// shares divides counts by their total.
func shares(counts []float64) []float64 {
	t := sum(counts)
	s := make([]float64, len(counts))
	for i, c := range counts {
		s[i] = c / t
	}
	return s
}
