package drift

import "math"

// kolmogorovSF is P(D_n ≥ x) for the one-sample two-sided Kolmogorov
// statistic D_n, following SciPy's kstwo.sf (scipy/stats/_ksstats.py,
// after Simard & L'Ecuyer 2011): exact formulas at the ends, the
// Durbin–Marsaglia–Tsang–Wang matrix method for small n·x, twice the
// one-sided Smirnov tail where it is accurate, and the Pelz–Good expansion
// in between. SciPy uses Pomeranz's recursion for n ≤ 140 and
// 0.754693 < n·x² ≤ 4; the Durbin matrix is exact there too, so it is used
// instead and the two agree to rounding.
func kolmogorovSF(n int, x float64) float64 {
	if n <= 0 || math.IsNaN(x) {
		return math.NaN()
	}
	if x >= 1 {
		return 0
	}
	if x <= 0 {
		return 1
	}
	fn := float64(n)
	t := fn * x
	if t <= 1 { // Ruben–Gambino: P(D_n ≤ x) = n!/n^n (2t−1)^n
		if t <= 0.5 {
			return 1
		}
		lg, _ := math.Lgamma(fn + 1)
		cdf := math.Exp(lg - fn*math.Log(fn) + fn*math.Log(2*t-1))
		return clamp01(1 - cdf)
	}
	if t >= fn-1 { // Ruben–Gambino
		return clamp01(2 * math.Pow(1-x, fn))
	}
	if x >= 0.5 {
		return clamp01(2 * smirnovSF(n, x))
	}
	nx2 := t * x
	if n <= 140 {
		if nx2 <= 4 {
			return clamp01(1 - durbinCDF(n, x))
		}
		return clamp01(2 * smirnovSF(n, x))
	}
	if nx2 >= 370 {
		return 0
	}
	if nx2 >= 2.2 {
		return clamp01(2 * smirnovSF(n, x))
	}
	if n <= 100000 && fn*math.Pow(x, 1.5) <= 1.4 {
		return clamp01(1 - durbinCDF(n, x))
	}
	return clamp01(pelzGoodSF(n, x))
}

// smirnovSF is the one-sided tail P(D⁺_n ≥ x), by the Birnbaum–Tingey sum
// x·Σ_{j=0}^{⌊n(1−x)⌋} C(n,j)(1−x−j/n)^{n−j}(x+j/n)^{j−1}; every term is
// positive, so summing them in log space loses nothing to cancellation.
func smirnovSF(n int, x float64) float64 {
	if x <= 0 {
		return 1
	}
	if x >= 1 {
		return 0
	}
	fn := float64(n)
	lgn, _ := math.Lgamma(fn + 1)
	jmax := int(math.Floor(fn * (1 - x)))
	sum := 0.0
	for j := 0; j <= jmax; j++ {
		fj := float64(j)
		a := 1 - x - fj/fn
		if a <= 0 {
			break
		}
		lj, _ := math.Lgamma(fj + 1)
		lnj, _ := math.Lgamma(fn - fj + 1)
		logTerm := lgn - lj - lnj + (fn-fj)*math.Log(a) + (fj-1)*math.Log(x+fj/fn)
		sum += math.Exp(logTerm)
	}
	return x * sum
}

// durbinCDF is P(D_n ≤ d) by Durbin's matrix method as Marsaglia, Tsang
// and Wang (2003) compute it: the (k,k) entry of H^n·n!/n^n, scaled by
// powers of two to stay in range (SciPy's _kolmogn_DMTW).
func durbinCDF(n int, d float64) float64 {
	if d >= 1 {
		return 1
	}
	fn := float64(n)
	nd := fn * d
	if nd <= 0.5 {
		return 0
	}
	k := int(math.Ceil(nd))
	h := float64(k) - nd
	m := 2*k - 1
	H := make([]float64, m*m)
	v := make([]float64, m)
	w := make([]float64, m)
	fac := 1.0
	for j := 1; j <= m; j++ {
		w[j-1] = fac
		fac /= float64(j)
		v[j-1] = (1 - math.Pow(h, float64(j))) * fac
	}
	tt := math.Pow(max(2*h-1, 0), float64(m)) - 2*math.Pow(h, float64(m))
	v[m-1] = (1 + tt) * fac
	for i := 1; i < m; i++ {
		for r := i - 1; r < m; r++ {
			H[r*m+i] = w[r-i+1]
		}
	}
	for r := 0; r < m; r++ {
		H[r*m] = v[r]
	}
	for c := 0; c < m; c++ {
		H[(m-1)*m+c] = v[m-1-c]
	}
	P := make([]float64, m*m)
	for i := 0; i < m; i++ {
		P[i*m+i] = 1
	}
	tmp := make([]float64, m*m)
	const scale = 128
	big := math.Ldexp(1, scale)
	expnt, hexpnt := 0, 0
	for nn := n; nn > 0; nn /= 2 {
		if nn%2 == 1 {
			matMul(tmp, P, H, m)
			P, tmp = tmp, P
			expnt += hexpnt
		}
		matMul(tmp, H, H, m)
		H, tmp = tmp, H
		hexpnt *= 2
		if math.Abs(H[(k-1)*m+k-1]) > big {
			for i := range H {
				H[i] /= big
			}
			hexpnt += scale
		}
	}
	p := P[(k-1)*m+k-1]
	small := math.Ldexp(1, -scale)
	for i := 1; i <= n; i++ {
		p = float64(i) * p / fn
		if math.Abs(p) < small {
			p *= big
			expnt -= scale
		}
	}
	if expnt != 0 {
		p = math.Ldexp(p, expnt)
	}
	return clamp01(p)
}

// matMul sets dst = a·b for m×m row-major matrices.
func matMul(dst, a, b []float64, m int) {
	for i := 0; i < m; i++ {
		row := dst[i*m : (i+1)*m]
		clear(row)
		for l := 0; l < m; l++ {
			ail := a[i*m+l]
			if ail == 0 {
				continue
			}
			bl := b[l*m : (l+1)*m]
			for j := range row {
				row[j] += ail * bl[j]
			}
		}
	}
}

// pelzGoodSF is 1 − the Pelz–Good (1976) expansion of P(D_n ≤ x) in
// powers of 1/√n, written for small z = x√n (SciPy's _kolmogn_PelzGood).
func pelzGoodSF(n int, x float64) float64 {
	const (
		pi2 = math.Pi * math.Pi
		pi4 = pi2 * pi2
		pi6 = pi4 * pi2
	)
	sqrt2pi := math.Sqrt(2 * math.Pi)
	fn := float64(n)
	z := math.Sqrt(fn) * x
	z2, z3, z4, z6 := z*z, z*z*z, z*z*z*z, math.Pow(z, 6)
	qlog := -pi2 / 8 / z2
	if qlog < -708 {
		return 1
	}
	q := math.Exp(qlog)
	k1a, k1b := -z2, pi2/4
	k2a := 6*z6 + 2*z4
	k2b := (2*z4 - 5*z2) * pi2 / 4
	k2c := pi4 * (1 - 2*z2) / 16
	k3d := pi6 * (5 - 30*z2) / 64
	k3c := pi4 * (-60*z2 + 212*z4) / 16
	k3b := pi2 * (135*z4 - 96*z6) / 4
	k3a := -30*z6 - 90*math.Pow(z, 8)
	var K [4]float64
	maxk := int(math.Ceil(16 * z / math.Pi))
	for k := maxk; k > 0; k-- {
		m := float64(2*k - 1)
		m2 := m * m
		m4 := m2 * m2
		m6 := m4 * m2
		qp := math.Pow(q, float64(8*k))
		c := [4]float64{1, k1a + k1b*m2, k2a + k2b*m2 + k2c*m4, k3a + k3b*m2 + k3c*m4 + k3d*m6}
		for i := range K {
			K[i] = K[i]*qp + c[i]
		}
	}
	div := [4]float64{z, 6 * z4, 72 * math.Pow(z, 7), 6480 * math.Pow(z, 10)}
	for i := range K {
		K[i] = K[i] * q * sqrt2pi / div[i]
	}
	q = math.Exp(-pi2 / 2 / z2)
	sqrt3z := math.Sqrt(3) * z
	var k2extra, k3extra float64
	for k := maxk; k > 0; k-- {
		fk := float64(k)
		ks2 := fk * fk
		qk := math.Pow(q, ks2)
		k2extra += ks2 * qk
		kspi := math.Pi * fk
		k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ks2 * qk
	}
	K[2] += k2extra * pi2 * sqrt2pi / (-36 * z3)
	K[3] += k3extra * pi2 * sqrt2pi / (216 * z6)
	sf := 1.0
	for i := range K {
		sf -= K[i] / math.Pow(fn, float64(i)/2)
	}
	return sf
}
