package canary

import (
	"fmt"
	"math"
)

// ProportionResult is the outcome of a two-proportion z-test.
type ProportionResult struct {
	P1, P2 float64 // the observed proportions x1/n1 and x2/n2
	Pooled float64 // (x1+x2)/(n1+n2), the proportion under the null
	Z      float64
	P      float64
}

// TwoProportionZ tests whether x1 successes in n1 trials and x2 in n2 have
// the same underlying proportion, with the pooled standard error
// √(p̂(1−p̂)(1/n1+1/n2)) — statsmodels' proportions_ztest with its default
// prop_var=False. When every trial or none succeeded on both sides the
// samples cannot be told apart: Z is 0 and P is 1.
func TwoProportionZ(x1, n1, x2, n2 uint64, alt Alternative) (ProportionResult, error) {
	if n1 == 0 || n2 == 0 {
		return ProportionResult{}, fmt.Errorf("two-proportion test: need trials on both sides, got %d and %d", n1, n2)
	}
	if x1 > n1 || x2 > n2 {
		return ProportionResult{}, fmt.Errorf("two-proportion test: more events than trials (%d of %d, %d of %d)", x1, n1, x2, n2)
	}
	f1, f2 := float64(n1), float64(n2)
	r := ProportionResult{P1: float64(x1) / f1, P2: float64(x2) / f2, Pooled: float64(x1+x2) / (f1 + f2)}
	se := math.Sqrt(r.Pooled * (1 - r.Pooled) * (1/f1 + 1/f2))
	if se == 0 {
		r.P = 1
		return r, nil
	}
	r.Z = (r.P1 - r.P2) / se
	switch alt {
	case Greater:
		r.P = normSF(r.Z)
	case Less:
		r.P = normSF(-r.Z)
	default:
		r.P = math.Min(1, 2*normSF(math.Abs(r.Z)))
	}
	return r, nil
}
