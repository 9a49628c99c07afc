package drift

import "math"

// chiSquareSF is the survival function of the chi-square distribution with
// dof degrees of freedom: P(X ≥ x) = Q(dof/2, x/2).
func chiSquareSF(x float64, dof int) float64 {
	switch {
	case math.IsNaN(x) || dof <= 0:
		return math.NaN()
	case math.IsInf(x, 1):
		return 0
	case x <= 0:
		return 1
	}
	return gammaQ(float64(dof)/2, x/2)
}

// gammaQ is the regularized upper incomplete gamma function Q(a, x) =
// Γ(a, x)/Γ(a), by the power series of P for x < a+1 and Lentz's continued
// fraction for Q otherwise (Numerical Recipes §6.2), each accurate to about
// 1e-15 relative.
func gammaQ(a, x float64) float64 {
	if x <= 0 {
		return 1
	}
	lg, _ := math.Lgamma(a)
	prefix := a*math.Log(x) - x - lg
	if x < a+1 {
		// P(a,x) = e^{-x} x^a / Γ(a+1) · Σ x^n / ((a+1)…(a+n))
		sum, term := 1/a, 1/a
		for n := 1; n < 10000; n++ {
			term *= x / (a + float64(n))
			sum += term
			if math.Abs(term) < math.Abs(sum)*1e-17 {
				break
			}
		}
		return 1 - sum*math.Exp(prefix)
	}
	const tiny = 1e-300
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < 10000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-16 {
			break
		}
	}
	return math.Exp(prefix) * h
}

// normalSF2 is the two-sided tail of the standard normal, 2·(1 − Φ(|z|)),
// through erfc so that small p-values keep their precision.
func normalSF2(z float64) float64 {
	return math.Erfc(math.Abs(z) / math.Sqrt2)
}
