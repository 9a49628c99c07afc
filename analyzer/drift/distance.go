package drift

import "math"

// The distances below take two share vectors over the same bins or
// categories, each summing to 1 (a vector with no mass gives NaN).

// PSI is the population stability index Σ (cur−ref)·ln(cur/ref). Shares
// must be positive; Shares with fillZeros gives Evidently's replacement of
// empty bins. Bands: < 0.1 stable, 0.1–0.25 moderate, > 0.25 significant.
func PSI(ref, cur []float64) float64 {
	s := 0.0
	for i := range ref {
		s += (cur[i] - ref[i]) * math.Log(cur[i]/ref[i])
	}
	return s
}

// JensenShannon is the Jensen–Shannon distance with natural logarithms,
// the square root of the divergence, as scipy.spatial.distance.jensenshannon
// (and so Evidently) computes it; it lies in [0, √ln2]. Empty bins are
// fine: 0·ln 0 counts as 0. Each vector is normalised to sum 1 first, as
// SciPy does.
func JensenShannon(ref, cur []float64) float64 {
	sr, sc := sum(ref), sum(cur)
	js := 0.0
	for i := range ref {
		p, q := ref[i]/sr, cur[i]/sc
		m := (p + q) / 2
		js += relEntr(p, m) + relEntr(q, m)
	}
	return math.Sqrt(max(js, 0) / 2)
}

func relEntr(x, y float64) float64 {
	if x == 0 {
		return 0
	}
	return x * math.Log(x/y)
}

// Hellinger is the Hellinger distance √(Σ(√p − √q)²)/√2, in [0, 1].
func Hellinger(ref, cur []float64) float64 {
	s := 0.0
	for i := range ref {
		d := math.Sqrt(ref[i]) - math.Sqrt(cur[i])
		s += d * d
	}
	return math.Sqrt(s) / math.Sqrt2
}

// LInf is the L-infinity distance max |ref − cur| over bins or categories,
// NannyML's measure for categorical columns.
func LInf(ref, cur []float64) float64 {
	m := 0.0
	for i := range ref {
		m = max(m, math.Abs(ref[i]-cur[i]))
	}
	return m
}

// ChiSquare is the chi-square goodness of fit of the current counts
// against the reference proportions scaled to the current size (SciPy's
// chisquare(cur, ref·n_cur/n_ref), as Evidently calls it). A category with
// current values but none in the reference makes the statistic +Inf and
// p = 0. With a single category there is nothing to test: 0 and p = 1.
func ChiSquare(ref, cur []float64) (stat, p float64, dof int) {
	nr, nc := sum(ref), sum(cur)
	k := nc / nr
	for i := range ref {
		e := ref[i] * k
		d := cur[i] - e
		switch {
		case e == 0 && d == 0:
			// A category in neither sample adds nothing.
		case e == 0:
			stat = math.Inf(1)
		default:
			stat += d * d / e
		}
	}
	dof = len(ref) - 1
	if dof <= 0 {
		return 0, 1, 0
	}
	return stat, chiSquareSF(stat, dof), dof
}

// ZTest is the two-sided Z-test for two independent proportions with a
// pooled variance: the share of rows equal to one category in the
// reference (refHits of refN) against the current (curHits of curN).
// When the pooled share is 0 or 1 both samples agree entirely: z = 0, p = 1.
func ZTest(refHits, refN, curHits, curN int) (z, p float64) {
	n1, n2 := float64(refN), float64(curN)
	p1, p2 := float64(refHits)/n1, float64(curHits)/n2
	pooled := float64(refHits+curHits) / (n1 + n2)
	v := pooled * (1 - pooled) * (1/n1 + 1/n2)
	if v <= 0 {
		return 0, 1
	}
	z = (p1 - p2) / math.Sqrt(v)
	return z, normalSF2(z)
}

// Wasserstein is the first Wasserstein (earth mover's) distance between
// two samples, ∫|F_ref − F_cur|, as scipy.stats.wasserstein_distance
// computes it. Both slices must be sorted ascending and non-empty.
//
// It walks the distinct values of both samples in order; between one and
// the next both ECDFs are flat, at i/n1 and j/n2. The walk compares the
// two heads once per value and divides only for the side that moved (the
// sums are the same terms in the same order as a walk that took the
// minimum and recomputed both fractions each step, so the result is the
// same to the bit).
func Wasserstein(ref, cur []float64) float64 {
	n1, n2 := len(ref), len(cur)
	f1, f2 := float64(n1), float64(n2)
	var i, j int
	var fi, fj, total float64
	prev := min(ref[0], cur[0])
	for i < n1 && j < n2 {
		a, c := ref[i], cur[j]
		switch {
		case a < c:
			total += math.Abs(fi-fj) * (a - prev)
			prev = a
			for i++; i < n1 && ref[i] <= a; i++ {
			}
			fi = float64(i) / f1
		case c < a:
			total += math.Abs(fi-fj) * (c - prev)
			prev = c
			for j++; j < n2 && cur[j] <= c; j++ {
			}
			fj = float64(j) / f2
		default:
			v := min(a, c)
			total += math.Abs(fi-fj) * (v - prev)
			prev = v
			for i++; i < n1 && ref[i] <= v; i++ {
			}
			for j++; j < n2 && cur[j] <= v; j++ {
			}
			fi, fj = float64(i)/f1, float64(j)/f2
		}
	}
	// One side is used up: its ECDF stays at 1.
	for i < n1 {
		a := ref[i]
		total += math.Abs(fi-fj) * (a - prev)
		prev = a
		for i++; i < n1 && ref[i] <= a; i++ {
		}
		fi = float64(i) / f1
	}
	for j < n2 {
		c := cur[j]
		total += math.Abs(fi-fj) * (c - prev)
		prev = c
		for j++; j < n2 && cur[j] <= c; j++ {
		}
		fj = float64(j) / f2
	}
	return total
}

// populationStd is the standard deviation with divisor n (numpy's
// default), by a two-pass sum for accuracy.
func populationStd(xs []float64) float64 {
	mean := sum(xs) / float64(len(xs))
	ss := 0.0
	for _, x := range xs {
		d := x - mean
		ss += d * d
	}
	return math.Sqrt(ss / float64(len(xs)))
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

// fillZeros replaces empty shares the way Evidently does before PSI and
// KL divergence, which are undefined for them: by 1e-4, or by a millionth
// of the smallest non-empty share when that is smaller still. It changes
// shares in place.
func fillZeros(shares []float64) {
	minNZ := math.Inf(1)
	for _, s := range shares {
		if s > 0 {
			minNZ = min(minNZ, s)
		}
	}
	fill := 1e-4
	if minNZ <= 1e-4 {
		fill = minNZ / 1e6
	}
	for i, s := range shares {
		if s == 0 {
			shares[i] = fill
		}
	}
}
