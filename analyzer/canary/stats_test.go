package canary

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Expected values below come from SciPy 1.10.1 (Debian's python3-scipy):
//
//	scipy.stats.mannwhitneyu(x, y, alternative=alt, method=method)
//
// printed with repr() and pasted here. The "shifted" sample is
// numpy.random.default_rng(7): round(normal(12, 3, 30), 1) and
// round(normal(10, 3, 25), 1).
var (
	smallX = []float64{1.1, 2.3, 3.7, 4.2, 5.9}
	smallY = []float64{2.0, 3.1, 6.4, 7.5, 8.8, 9.0}
	tiesX  = []float64{1, 2, 2, 3, 4, 4, 4, 5, 9, 10}
	tiesY  = []float64{2, 3, 3, 5, 6, 6, 7, 8, 8, 11, 12}
	// 5 values against 40: SciPy's auto goes exact when either side has
	// at most 8 values.
	oneSmallX = []float64{3, 17, 29, 41, 43}
	oneSmallY = func() []float64 {
		var y []float64
		for v := 0; v < 80; v += 2 {
			y = append(y, float64(v))
		}
		return y
	}()
	// 8 values against 300 (0, 1, ..., 299): a large exact table.
	eightX     = []float64{3.5, 50.5, 120.5, 180.5, 199.5, 240.5, 260.5, 299.5}
	threeHundY = func() []float64 {
		y := make([]float64, 300)
		for i := range y {
			y[i] = float64(i)
		}
		return y
	}()
	nineX    = []float64{0.5, 1.7, 2.9, 4.4, 6.1, 7.3, 8.8, 9.05, 12.5}
	twelveY  = []float64{1.2, 2.2, 3.3, 3.9, 5.0, 5.5, 6.6, 7.7, 8.1, 9.9, 10.4, 11.6}
	shiftedX = []float64{12.0, 12.9, 11.2, 9.3, 10.6, 9.0, 12.2, 16.0, 10.5, 10.1, 13.5, 13.1, 12.3, 9.2, 11.9, 14.1, 8.0, 10.6, 6.3, 8.1, 6.5, 11.3, 8.2, 12.8, 12.5, 11.4, 4.4, 10.4, 11.9, 12.3}
	shiftedY = []float64{5.4, 8.6, 7.1, 7.6, 13.2, 7.6, 9.9, 12.7, 8.2, 9.7, 10.3, 10.2, 6.3, 10.2, 14.1, 5.4, 12.6, 10.4, 8.1, 16.0, 12.3, 6.4, 10.2, 11.7, 9.4}
)

func TestMannWhitneyUMatchesSciPy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		x, y   []float64
		alt    Alternative
		method Method
		u1, p  float64
		used   Method
	}{
		{"small auto two-sided", smallX, smallY, TwoSided, Auto, 7, 0.17748917748917747, Exact},
		{"small asymptotic two-sided", smallX, smallY, TwoSided, Asymptotic, 7, 0.17090352023079747, Asymptotic},
		{"small auto greater", smallX, smallY, Greater, Auto, 7, 0.9372294372294373, Exact},
		{"small asymptotic greater", smallX, smallY, Greater, Asymptotic, 7, 0.9396545997362772, Asymptotic},
		{"small auto less", smallX, smallY, Less, Auto, 7, 0.08874458874458874, Exact},
		{"small asymptotic less", smallX, smallY, Less, Asymptotic, 7, 0.08545176011539873, Asymptotic},
		{"ties auto two-sided", tiesX, tiesY, TwoSided, Auto, 33.5, 0.13727109883786867, Asymptotic},
		{"ties greater", tiesX, tiesY, Greater, Asymptotic, 33.5, 0.9402402607196906, Asymptotic},
		{"ties less", tiesX, tiesY, Less, Asymptotic, 33.5, 0.06863554941893434, Asymptotic},
		{"one small auto two-sided", oneSmallX, oneSmallY, TwoSided, Auto, 69, 0.28005359485790576, Exact},
		{"one small asymptotic two-sided", oneSmallX, oneSmallY, TwoSided, Asymptotic, 69, 0.27066581341487195, Asymptotic},
		{"one small auto greater", oneSmallX, oneSmallY, Greater, Auto, 69, 0.8678945684050619, Exact},
		{"one small auto less", oneSmallX, oneSmallY, Less, Auto, 69, 0.14002679742895288, Exact},
		{"8x300 auto two-sided", eightX, threeHundY, TwoSided, Auto, 1359, 0.5306321452137452, Exact},
		{"8x300 auto greater", eightX, threeHundY, Greater, Auto, 1359, 0.2653160726068726, Exact},
		{"8x300 auto less", eightX, threeHundY, Less, Auto, 1359, 0.735985321644717, Exact},
		{"9x12 auto two-sided", nineX, twelveY, TwoSided, Auto, 50, 0.803566416196146, Asymptotic},
		{"9x12 exact two-sided", nineX, twelveY, TwoSided, Exact, 50, 0.8078045793216072, Exact},
		{"9x12 exact greater", nineX, twelveY, Greater, Exact, 50, 0.6228149559418911, Exact},
		{"9x12 exact less", nineX, twelveY, Less, Exact, 50, 0.4039022896608036, Exact},
		{"shifted two-sided", shiftedX, shiftedY, TwoSided, Auto, 470, 0.1100740462860355, Asymptotic},
		{"shifted greater", shiftedX, shiftedY, Greater, Auto, 470, 0.05503702314301775, Asymptotic},
		{"shifted less", shiftedX, shiftedY, Less, Auto, 470, 0.9468196342496664, Asymptotic},
	} {
		got, err := MannWhitneyU(tc.x, tc.y, tc.alt, tc.method)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got.U1 != tc.u1 || math.Abs(got.P-tc.p) > 1e-9 || got.Method != tc.used {
			t.Errorf("%s: got U1=%v p=%.17g (%v), want U1=%v p=%.17g (%v)", tc.name, got.U1, got.P, got.Method, tc.u1, tc.p, tc.used)
		}
	}
}

func TestMannWhitneyUEdges(t *testing.T) {
	// Every value equal: the variance is zero, nothing differs.
	got, err := MannWhitneyU([]float64{5, 5, 5}, []float64{5, 5}, TwoSided, Auto)
	if err != nil || got.P != 1 || got.U1 != 3 {
		t.Errorf("all equal: got %+v, %v; want p=1, U1=3", got, err)
	}
	// Complete separation, exact: U1 = n1·n2 and P(U ≥ 25) = 1/C(10,5).
	got, err = MannWhitneyU([]float64{6, 7, 8, 9, 10}, []float64{1, 2, 3, 4, 5}, Greater, Exact)
	if err != nil || got.U1 != 25 || math.Abs(got.P-1.0/252) > 1e-15 {
		t.Errorf("separated: got %+v, %v; want U1=25 p=1/252", got, err)
	}
	for _, tc := range []struct {
		name   string
		x, y   []float64
		method Method
	}{
		{"empty", nil, []float64{1}, Auto},
		{"NaN", []float64{math.NaN()}, []float64{1}, Auto},
		{"exact with ties", []float64{1, 2}, []float64{2, 3}, Exact},
		{"exact too large", make([]float64, 2000), make([]float64, 2000), Exact},
	} {
		if tc.name == "exact too large" {
			for i := range tc.x {
				tc.x[i], tc.y[i] = float64(2*i), float64(2*i+1)
			}
		}
		if _, err := MannWhitneyU(tc.x, tc.y, TwoSided, tc.method); err == nil {
			t.Errorf("%s: want an error", tc.name)
		}
	}
}

// The exact distribution must sum to one and be symmetric for sizes the
// brute-force enumeration can check.
func TestExactUSFAgainstEnumeration(t *testing.T) {
	for _, size := range [][2]int{{1, 1}, {2, 3}, {4, 4}, {3, 7}, {6, 5}} {
		n1, n2 := size[0], size[1]
		counts := make([]float64, n1*n2+1)
		total := 0.0
		// Every choice of which n1 of the n1+n2 ranks belong to x.
		for mask := 0; mask < 1<<(n1+n2); mask++ {
			if popcount(mask) != n1 {
				continue
			}
			u, ysBelow := 0, 0
			for pos := 0; pos < n1+n2; pos++ {
				if mask&(1<<pos) != 0 {
					u += ysBelow
				} else {
					ysBelow++
				}
			}
			counts[u]++
			total++
		}
		tail := 0.0
		for u := n1 * n2; u >= 0; u-- {
			tail += counts[u]
			if got := exactUSF(u, n1, n2); math.Abs(got-tail/total) > 1e-14 {
				t.Errorf("%dx%d: P(U ≥ %d) = %v, enumeration says %v", n1, n2, u, got, tail/total)
			}
		}
	}
}

func popcount(v int) int {
	n := 0
	for ; v != 0; v &= v - 1 {
		n++
	}
	return n
}

// Expected values: z = (p1−p2)/√(p̂(1−p̂)(1/n1+1/n2)) by hand in Python,
// p from scipy.stats.norm.sf (two-sided 2·sf(|z|), less norm.cdf(z)).
func TestTwoProportionZ(t *testing.T) {
	for _, tc := range []struct {
		x1, n1, x2, n2        uint64
		z, two, greater, less float64
	}{
		{30, 1000, 15, 1000, 2.261656365159503, 0.023718642632191457, 0.011859321316095729, 0.9881406786839043},
		{2, 60, 1, 80, 0.8424080110590785, 0.39955961039570576, 0.19977980519785288, 0.8002201948021471},
		{45, 5000, 40, 5000, 0.544645829170019, 0.585997128444991, 0.2929985642224955, 0.7070014357775045},
		// No errors anywhere: indistinguishable, p = 1 whatever the alternative.
		{0, 100, 0, 100, 0, 1, 1, 1},
	} {
		for alt, want := range map[Alternative]float64{TwoSided: tc.two, Greater: tc.greater, Less: tc.less} {
			got, err := TwoProportionZ(tc.x1, tc.n1, tc.x2, tc.n2, alt)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got.Z-tc.z) > 1e-9 || math.Abs(got.P-want) > 1e-9 {
				t.Errorf("%d/%d vs %d/%d %v: got z=%.17g p=%.17g, want z=%.17g p=%.17g", tc.x1, tc.n1, tc.x2, tc.n2, alt, got.Z, got.P, tc.z, want)
			}
		}
	}
	if _, err := TwoProportionZ(1, 0, 0, 10, TwoSided); err == nil {
		t.Error("no trials: want an error")
	}
	if _, err := TwoProportionZ(11, 10, 0, 10, TwoSided); err == nil {
		t.Error("more events than trials: want an error")
	}
}

// Expected values from numpy.median(numpy.subtract.outer(x, y)).
func TestHodgesLehmann(t *testing.T) {
	for _, tc := range []struct {
		name string
		x, y []float64
		want float64
	}{
		{"small", smallX, smallY, -3.0},
		{"ties", tiesX, tiesY, -2.0},
		{"shifted", shiftedX, shiftedY, 1.1999999999999993},
		{"one pair", []float64{3}, []float64{1}, 2},
	} {
		if got := HodgesLehmann(sortedCopy(tc.x), sortedCopy(tc.y)); got != tc.want {
			t.Errorf("%s: got %.17g, want %.17g", tc.name, got, tc.want)
		}
	}
}

// The bisection must agree with forming every difference, on random
// samples with and without ties.
func TestHodgesLehmannAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		n1, n2 := 1+rng.IntN(40), 1+rng.IntN(40)
		x, y := make([]float64, n1), make([]float64, n2)
		for i := range x {
			x[i] = rng.NormFloat64() * 10
			if trial%2 == 0 {
				x[i] = math.Round(x[i])
			}
		}
		for i := range y {
			y[i] = rng.NormFloat64()*10 + 3
			if trial%2 == 0 {
				y[i] = math.Round(y[i])
			}
		}
		var diffs []float64
		for _, a := range x {
			for _, b := range y {
				diffs = append(diffs, a-b)
			}
		}
		slices.Sort(diffs)
		want := quantile(diffs, 0.5)
		if got := HodgesLehmann(sortedCopy(x), sortedCopy(y)); got != want {
			t.Fatalf("trial %d (%dx%d): got %.17g, want %.17g", trial, n1, n2, got, want)
		}
	}
}

// Expected values from numpy.quantile (linear interpolation).
func TestQuantile(t *testing.T) {
	y := sortedCopy(smallY)
	x := sortedCopy(smallX)
	for _, tc := range []struct {
		v    []float64
		q    float64
		want float64
	}{{y, 0.5, 6.95}, {y, 0.95, 8.95}, {x, 0.95, 5.56}, {x, 0, 1.1}, {x, 1, 5.9}} {
		if got := quantile(tc.v, tc.q); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("quantile(%v, %v) = %v, want %v", tc.v, tc.q, got, tc.want)
		}
	}
}
