package canary

import (
	"math"
	"slices"
)

// HodgesLehmann is the Hodges–Lehmann estimate of the shift of x against
// y: the median of the n1·n2 differences x_i − y_j, the location shift
// that goes with the Mann–Whitney test. Both slices must be sorted
// ascending and non-empty.
//
// It never forms the differences: the k-th smallest is found by bisecting
// on its value, counting the differences at or below a candidate in one
// merge-like pass (O(n1+n2)), so 100,000 values a side cost a few dozen
// passes, not 10¹⁰ differences.
func HodgesLehmann(x, y []float64) float64 {
	n := len(x) * len(y)
	if n%2 == 1 {
		return kthDifference(x, y, n/2+1)
	}
	lo := kthDifference(x, y, n/2)
	// The next difference is lo again when it occurs more than once at or
	// below the middle, else the smallest one above lo: one pass, not a
	// second search.
	hi := lo
	if countAtMost(x, y, lo) < n/2+1 {
		hi = smallestAbove(x, y, lo)
	}
	return (lo + hi) / 2
}

// countAtMost counts pairs with x_i − y_j ≤ d.
func countAtMost(x, y []float64, d float64) int {
	// For ascending x_i, the y_j with x_i − y_j ≤ d start at a position
	// that only moves right. The comparison is on the rounded difference
	// itself, as the brute force would compute it: y_j ≥ x_i − d is not
	// the same test in floating point.
	count, j := 0, 0
	for _, xi := range x {
		for j < len(y) && xi-y[j] > d {
			j++
		}
		count += len(y) - j
	}
	return count
}

// smallestAbove is the smallest difference x_i − y_j greater than d
// (+Inf when there is none).
func smallestAbove(x, y []float64, d float64) float64 {
	best := math.Inf(1)
	// For each x_i the smallest difference above d uses the largest y_j
	// with x_i − y_j > d; as x_i grows that position only moves right.
	j := 0
	for _, xi := range x {
		for j < len(y) && xi-y[j] > d {
			j++
		}
		if j > 0 {
			if diff := xi - y[j-1]; diff > d && diff < best {
				best = diff
			}
		}
	}
	return best
}

// kthDifference is the k-th smallest (1-based) of the differences x_i − y_j.
func kthDifference(x, y []float64, k int) float64 {
	lo := x[0] - y[len(y)-1] // the smallest difference
	if countAtMost(x, y, lo) >= k {
		return lo
	}
	hi := x[len(x)-1] - y[0] // the largest; count(≤ hi) = n ≥ k
	// Invariant: count(≤ lo) < k ≤ count(≤ hi).
	for {
		c := smallestAbove(x, y, lo)
		if countAtMost(x, y, c) >= k {
			// Nothing lies strictly between lo and c, so c is the k-th.
			return c
		}
		lo = c
		if mid := lo + (hi-lo)/2; mid > lo && mid < hi {
			if countAtMost(x, y, mid) >= k {
				hi = mid
			} else {
				lo = mid
			}
		}
	}
}

// quantile is the q-quantile of sorted values by linear interpolation
// between closest ranks (NumPy's default, Hyndman–Fan type 7).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (pos-float64(i))*(sorted[i+1]-sorted[i])
}

func sortedCopy(v []float64) []float64 {
	out := slices.Clone(v)
	slices.Sort(out)
	return out
}
