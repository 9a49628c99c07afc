package canary

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Alternative is the alternative hypothesis of a test, stated for the first
// sample (the canary) against the second (the baseline).
type Alternative int

const (
	// TwoSided: the samples differ in either direction.
	TwoSided Alternative = iota
	// Greater: the first sample is stochastically greater (slower, more errors).
	Greater
	// Less: the first sample is stochastically less.
	Less
)

func (a Alternative) String() string {
	switch a {
	case Greater:
		return "greater"
	case Less:
		return "less"
	}
	return "two-sided"
}

// Method says how a Mann–Whitney p-value is computed.
type Method int

const (
	// Auto follows SciPy's method='auto': the exact distribution when one
	// sample has at most 8 values and there are no ties, else the normal
	// approximation. Vigil adds one bound SciPy lacks: above
	// MaxExactPairs pairs the normal approximation is used, where it is
	// accurate and the exact table would cost memory.
	Auto Method = iota
	// Asymptotic is the normal approximation with tie and continuity
	// corrections.
	Asymptotic
	// Exact is the exact null distribution of U, valid without ties.
	Exact
)

func (m Method) String() string {
	switch m {
	case Asymptotic:
		return "asymptotic"
	case Exact:
		return "exact"
	}
	return "auto"
}

// MaxExactPairs bounds n1·n2 for the exact distribution: its table has
// n1·n2+1 entries and takes min(n1,n2) passes over it.
const MaxExactPairs = 1 << 20

// autoExactMax is SciPy's size under which 'auto' goes exact.
const autoExactMax = 8

// MannWhitneyResult is the outcome of a Mann–Whitney U test.
type MannWhitneyResult struct {
	// U1 is the statistic of the first sample, as SciPy returns it:
	// R1 − n1(n1+1)/2, the number of pairs (x, y) with x > y, ties counting ½.
	U1 float64
	// U is the statistic the p-value is read from: max(U1, U2) for
	// two-sided, U1 for greater, U2 for less.
	U float64
	// Z is the standardised U of the normal approximation (0 for exact).
	Z      float64
	P      float64
	Method Method // Asymptotic or Exact: what was used
	Ties   bool   // some value occurs more than once in the pooled samples
}

var errNaN = errors.New("sample contains NaN")

// MannWhitneyU tests whether x and y come from the same distribution
// against alt, computing the p-value as SciPy's
// mannwhitneyu(x, y, alternative=alt, method=method, use_continuity=True).
func MannWhitneyU(x, y []float64, alt Alternative, method Method) (MannWhitneyResult, error) {
	n1, n2 := len(x), len(y)
	if n1 == 0 || n2 == 0 {
		return MannWhitneyResult{}, fmt.Errorf("mann-whitney: need values on both sides, got %d and %d", n1, n2)
	}
	pooled := make([]float64, 0, n1+n2)
	pooled = append(append(pooled, x...), y...)
	for _, v := range pooled {
		if math.IsNaN(v) {
			return MannWhitneyResult{}, fmt.Errorf("mann-whitney: %w", errNaN)
		}
	}
	r1, tieTerm := rankSum(pooled, n1)
	fn1, fn2 := float64(n1), float64(n2)
	res := MannWhitneyResult{U1: r1 - fn1*(fn1+1)/2, Ties: tieTerm > 0}
	u2 := fn1*fn2 - res.U1
	factor := 1.0
	switch alt {
	case Greater:
		res.U = res.U1
	case Less:
		res.U = u2
	default:
		res.U, factor = math.Max(res.U1, u2), 2
	}

	res.Method = method
	if method == Auto {
		res.Method = Asymptotic
		if min(n1, n2) <= autoExactMax && !res.Ties && n1*n2 <= MaxExactPairs {
			res.Method = Exact
		}
	}
	switch res.Method {
	case Exact:
		if res.Ties {
			return MannWhitneyResult{}, errors.New("mann-whitney: the exact distribution assumes no ties, and the samples have some; use the asymptotic method")
		}
		if n1*n2 > MaxExactPairs {
			return MannWhitneyResult{}, fmt.Errorf("mann-whitney: %d×%d pairs is too many for the exact distribution (at most %d); use the asymptotic method", n1, n2, MaxExactPairs)
		}
		res.P = exactUSF(int(res.U), n1, n2)
	case Asymptotic:
		n := fn1 + fn2
		sd := math.Sqrt(fn1 * fn2 / 12 * ((n + 1) - tieTerm/(n*(n-1))))
		if sd == 0 {
			// Every value is the same: nothing to tell the samples apart.
			res.P = 1
			break
		}
		// SciPy reads the survival function at U, so subtracting ½ is
		// always the continuity correction towards the null.
		res.Z = (res.U - fn1*fn2/2 - 0.5) / sd
		res.P = normSF(res.Z)
	default:
		return MannWhitneyResult{}, fmt.Errorf("mann-whitney: unknown method %d", method)
	}
	res.P = math.Min(1, math.Max(0, res.P*factor))
	return res, nil
}

// rankSum ranks the pooled values (ties get their average rank) and
// returns the sum of the ranks of the first n1 and Σ(t³−t) over groups of
// t tied values.
func rankSum(pooled []float64, n1 int) (r1, tieTerm float64) {
	idx := make([]int32, len(pooled))
	for i := range idx {
		idx[i] = int32(i)
	}
	sort.Slice(idx, func(a, b int) bool { return pooled[idx[a]] < pooled[idx[b]] })
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && pooled[idx[j]] == pooled[idx[i]] {
			j++
		}
		// Positions i..j-1 hold equal values: ranks i+1..j, average (i+1+j)/2.
		rank := float64(i+1+j) / 2
		for _, k := range idx[i:j] {
			if int(k) < n1 {
				r1 += rank
			}
		}
		if t := float64(j - i); t > 1 {
			tieTerm += t*t*t - t
		}
		i = j
	}
	return r1, tieTerm
}

// exactUSF is P(U ≥ u) under the null for samples of n1 and n2 values
// without ties.
//
// The number of arrangements with U = k is the coefficient of q^k in the
// Gaussian binomial [n1+n2 choose m] = Π_{i=1..m} (1 − q^(n+i)) / (1 − q^i)
// with m = min(n1,n2), n = max(n1,n2). Each factor is applied in place
// (a multiplication by 1 − q^a is a shifted subtraction, a division by
// 1 − q^i a running sum), so the cost is m passes over m·n+1 counts. After
// each pair the table holds [n+i choose i], whose coefficients are
// non-negative; the rounding of the float64 counts is relative to the
// total, so probabilities are good to about 1e-15.
func exactUSF(u, n1, n2 int) float64 {
	m, n := min(n1, n2), max(n1, n2)
	top := m * n
	if u <= 0 {
		return 1
	}
	if u > top {
		return 0
	}
	c := make([]float64, top+1)
	c[0] = 1
	for i := 1; i <= m; i++ {
		// Degree before this factor is (i-1)·n; after it, i·n.
		hi := i * n
		a := n + i
		for k := hi; k >= a; k-- {
			c[k] -= c[k-a]
		}
		for k := i; k <= hi; k++ {
			c[k] += c[k-i]
		}
	}
	var total, tail float64
	for k, v := range c {
		total += v
		if k >= u {
			tail += v
		}
	}
	return tail / total
}

// normSF is the standard normal survival function 1 − Φ(z).
func normSF(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }
