package drift

import "math"

// ksExactMaxN is SciPy's MAX_AUTO_N: ks_2samp with method='auto' computes
// the exact p-value when both samples have at most this many values and
// falls back to the asymptotic distribution otherwise. Matching the switch
// point keeps p-values comparable with SciPy's.
const ksExactMaxN = 10000

// KSResult is a two-sample Kolmogorov–Smirnov test.
type KSResult struct {
	D     float64 // max |F_ref(x) − F_cur(x)|
	P     float64 // two-sided p-value
	Exact bool    // P from the exact distribution (else asymptotic)
}

// KS2Samp is SciPy's ks_2samp(ref, cur, alternative='two-sided',
// method='auto'): the statistic, and the p-value exactly when
// max(len) ≤ 10000, asymptotically (the Kolmogorov distribution of
// round(n·m/(n+m))) otherwise. Both slices must be sorted ascending, free
// of NaN and non-empty.
func KS2Samp(ref, cur []float64) KSResult {
	n1, n2 := len(ref), len(cur)
	if n1 == 0 || n2 == 0 {
		return KSResult{D: math.NaN(), P: math.NaN()}
	}
	// The ECDF gap at each distinct value, in units of 1/(n1·n2), kept as
	// an integer so that D is exact and the lattice distance h below needs
	// no rounding.
	var i, j int
	var maxGap int64
	for i < n1 || j < n2 {
		var v float64
		switch {
		case i == n1:
			v = cur[j]
		case j == n2:
			v = ref[i]
		default:
			v = min(ref[i], cur[j])
		}
		for i < n1 && ref[i] <= v {
			i++
		}
		for j < n2 && cur[j] <= v {
			j++
		}
		gap := int64(i)*int64(n2) - int64(j)*int64(n1)
		if gap < 0 {
			gap = -gap
		}
		maxGap = max(maxGap, gap)
	}
	d := float64(maxGap) / (float64(n1) * float64(n2))
	if max(n1, n2) <= ksExactMaxN {
		g := gcd(n1, n2)
		// D·lcm(n1,n2) is an integer: the gap in lattice steps.
		h := int(maxGap / int64(g))
		if p, ok := ksExactP(n1, n2, g, h); ok {
			return KSResult{D: d, P: p, Exact: true}
		}
	}
	m, n := float64(max(n1, n2)), float64(min(n1, n2))
	// numpy.round rounds halves to even.
	en := math.RoundToEven(m * n / (m + n))
	return KSResult{D: d, P: clamp01(kolmogorovSF(int(en), d))}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func clamp01(p float64) float64 {
	return max(0, min(1, p))
}

// ksExactP is the exact two-sided p-value P(D ≥ h/lcm) of SciPy's
// _attempt_exact_2kssamp; ok is false when the computation is not a
// probability (SciPy then falls back to the asymptotic one).
func ksExactP(n1, n2, g, h int) (p float64, ok bool) {
	if h == 0 {
		return 1, true
	}
	if n1 == n2 {
		p = probOutsideSquare(n1, h)
	} else {
		p = outerProbInside(n1, n2, g, h)
	}
	if math.IsNaN(p) || math.IsInf(p, 0) || p < 0 || p > 1 {
		return p, false
	}
	return p, true
}

// probOutsideSquare is the share of lattice paths from (0,0) to (n,n) that
// touch |x−y| ≥ h: 2·Σ_k (−1)^(k+1) C(2n, n−kh)/C(2n, n), summed
// Horner-style to avoid cancellation (SciPy's _compute_prob_outside_square).
func probOutsideSquare(n, h int) float64 {
	P := 0.0
	for k := n / h; k >= 0; k-- {
		p1 := 1.0
		for j := 0; j < h; j++ {
			p1 = float64(n-k*h-j) * p1 / float64(n+k*h+j+1)
		}
		P = p1 * (1 - P)
	}
	return 2 * P
}

// outerProbInside is 1 − the share of lattice paths from (0,0) to (m,n)
// staying strictly inside |x/m − y/n| < h/lcm(m,n), computed column by
// column as a probability (Hodges 1958, with Viehmann's 2021 recursion for
// 1−p that SciPy's _compute_outer_prob_inside_method uses).
func outerProbInside(m, n, g, h int) float64 {
	if m < n {
		m, n = n, m
	}
	mg, ng := m/g, n/g
	minj, maxj := 0, min(ceilDiv(h, mg), n+1)
	curlen := maxj - minj
	lenA := min(2*maxj+2, n+1)
	A := make([]float64, lenA)
	for k := range A {
		A[k] = 1
	}
	for k := minj; k < maxj; k++ {
		A[k] = 0
	}
	for i := 1; i <= m; i++ {
		lastminj, lastlen := minj, curlen
		minj = max(floorDiv(ng*i-h, mg)+1, 0)
		minj = min(minj, n)
		maxj = min(ceilDiv(ng*i+h, mg), n+1)
		if maxj <= minj {
			return 1
		}
		val := 1.0
		if minj == 0 {
			val = 0
		}
		fi := float64(i)
		for jj := 0; jj < maxj-minj; jj++ {
			j := jj + minj
			val = (A[jj+minj-lastminj]*fi + val*float64(j)) / (fi + float64(j))
			A[jj] = val
		}
		curlen = maxj - minj
		if lastlen > curlen {
			for k := maxj - minj; k < min(maxj-minj+(lastlen-curlen), len(A)); k++ {
				A[k] = 1
			}
		}
	}
	return A[maxj-minj-1]
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func ceilDiv(a, b int) int {
	return -floorDiv(-a, b)
}
