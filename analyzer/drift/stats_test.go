package drift

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// close reports whether got is within tol of want, treating equal
// infinities as equal.
func near(got, want, tol float64) bool {
	if math.IsInf(want, 0) {
		return got == want
	}
	return math.Abs(got-want) <= tol
}

func TestChiSquareSF(t *testing.T) {
	// scipy.stats.chi2.sf(x, k), SciPy 1.10.1.
	for _, c := range []struct {
		x    float64
		k    int
		want float64
	}{
		{3.84, 1, 0.05004352124870519},
		{10, 5, 0.07523524614651217},
		{0.5, 3, 0.9188914116546758},
		{100, 50, 3.454931382984871e-05},
		{1e-3, 2, 0.9995001249791693},
		{30, 30, 0.4656537089440098},
		{0, 4, 1},
		{math.Inf(1), 4, 0},
	} {
		if got := chiSquareSF(c.x, c.k); !near(got, c.want, 1e-12) {
			t.Errorf("chiSquareSF(%v, %d) = %.17g, want %.17g", c.x, c.k, got, c.want)
		}
	}
}

func TestKolmogorovSF(t *testing.T) {
	// scipy.stats.kstwo.sf(x, n), SciPy 1.10.1: one case per branch of
	// SciPy's _kolmogn (Ruben–Gambino ends, Smirnov tail, Durbin matrix,
	// Pelz–Good).
	for _, c := range []struct {
		n    int
		x    float64
		want float64
	}{
		{10, 0.08, 0.9999978058034054},
		{10, 0.95, 1.9531250000000172e-13},
		{10, 0.6, 0.0005681672000000003},
		{100, 0.05, 0.9532159710635725},
		{100, 0.1, 0.2526927570063874},
		{100, 0.3, 1.7719869892662917e-08},
		{141, 0.1, 0.11128445516467944},
		{1000, 0.02, 0.8108971656895577},
		{1000, 0.05, 0.013012074781090332},
		{5000, 0.01, 0.6954557253913853},
		{50000, 0.002, 0.9880386605338913},
		{200000, 0.003, 0.0545369786611305},
		{200000, 0.0005, 0.999999999766341},
		{1000000, 0.0012, 0.11215991901443556},
	} {
		if got := kolmogorovSF(c.n, c.x); !near(got, c.want, 1e-10) {
			t.Errorf("kolmogorovSF(%d, %v) = %.17g, want %.17g", c.n, c.x, got, c.want)
		}
	}
}

func TestKS2SampModes(t *testing.T) {
	gen := func(n, mult int, pow float64) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = math.Pow(float64(i*mult%n)/float64(n), pow)
		}
		slices.Sort(xs)
		return xs
	}
	// stats.ks_2samp(a, b) with the same generators in NumPy, SciPy 1.10.1.
	for _, c := range []struct {
		name  string
		a, b  []float64
		d, p  float64
		exact bool
	}{
		{"exact, unequal sizes", gen(101, 37, 1), gen(211, 53, 1.3), 0.10065224531931866, 0.4555612095989217, true},
		{"asymptotic, n > 10000", gen(12007, 7919, 1), gen(15013, 104729, 1.05), 0.01800287561778935, 0.02616808577235563, false},
		{"asymptotic, no drift", gen(12007, 7919, 1), gen(15013, 104729, 1.01), 0.0037269828795166715, 0.9999839246220211, false},
		// n·m/(n+m) = 5000.5: NumPy rounds it to 5000, not 5001 (p 0.58848).
		{"asymptotic, half rounds to even", gen(10001, 7919, 1), gen(10001, 104729, 1.03), 0.010898910108989135, 0.5886061772431572, false},
	} {
		r := KS2Samp(c.a, c.b)
		if !near(r.D, c.d, 1e-12) || !near(r.P, c.p, 1e-9) || r.Exact != c.exact {
			t.Errorf("%s: got D=%.17g p=%.17g exact=%v, want %.17g %.17g %v", c.name, r.D, r.P, r.Exact, c.d, c.p, c.exact)
		}
	}
}

func TestPSIWorkedExample(t *testing.T) {
	// drift.md: ref [0.2, 0.5, 0.3] vs current [0.1, 0.6, 0.3] → 0.0875469.
	if got := PSI([]float64{0.2, 0.5, 0.3}, []float64{0.1, 0.6, 0.3}); !near(got, 0.08754687373538998, 1e-12) {
		t.Errorf("PSI = %.17g", got)
	}
}

func TestFillZeros(t *testing.T) {
	s := []float64{0, 0.5, 0.5}
	fillZeros(s)
	if s[0] != 1e-4 {
		t.Errorf("fill = %v, want 1e-4", s[0])
	}
	s = []float64{0, 1e-5, 1 - 1e-5}
	fillZeros(s)
	if !near(s[0], 1e-11, 1e-20) {
		t.Errorf("fill = %v, want a millionth of the smallest share", s[0])
	}
}

func TestEqualEdgesLikeNumpy(t *testing.T) {
	// numpy.histogram_bin_edges(np.concatenate([a, b]), bins='sturges'):
	// 16 values → log2(16)+1 = 5 bins exactly, the case where a careless
	// ceil(ptp/(ptp/5)) could give 6.
	a := []float64{0, 1, 2, 3, 4, 5, 6, 7}
	b := []float64{8, 9, 10, 11, 12, 13, 14, 15}
	e := equalEdges(a, b, 0)
	if len(e) != 6 || e[0] != 0 || e[5] != 15 || e[1] != 3 {
		t.Errorf("edges = %v", e)
	}
	// Constant data: one bin of width 1 around the value, as numpy.
	e = equalEdges([]float64{2, 2}, []float64{2}, 0)
	if !slices.Equal(e, []float64{1.5, 2.5}) {
		t.Errorf("constant edges = %v", e)
	}
	// Values on an inner edge go right, the maximum into the last bin.
	if got := histogram([]float64{0, 3, 3, 15}, []float64{0, 3, 6, 9, 12, 15}); !slices.Equal(got, []float64{1, 2, 0, 0, 1}) {
		t.Errorf("histogram = %v", got)
	}
}

// TestWassersteinMatchesBefore checks the walk that moves one side at a
// time against the walk it replaced, to the bit, on randomized sorted
// samples: ties within and across the samples, ±0, one side entirely
// below or above the other, single values, and ranges whose width
// overflows to +Inf.
func TestWassersteinMatchesBefore(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 6))
	gens := []func() float64{
		func() float64 { return rng.NormFloat64() },
		func() float64 { return float64(rng.IntN(7)) },
		func() float64 { return math.Copysign(0, float64(rng.IntN(2))-0.5) },
		func() float64 { return rng.Float64() * 1e308 * float64(1-2*rng.IntN(2)) },
		func() float64 { return math.Round(rng.NormFloat64()*100) / 8 },
	}
	for round := range 3000 {
		n1, n2 := 1+rng.IntN(60), 1+rng.IntN(60)
		if round%100 == 0 {
			n1, n2 = 1+rng.IntN(20000), 1+rng.IntN(20000)
		}
		g1, g2 := gens[rng.IntN(len(gens))], gens[rng.IntN(len(gens))]
		shift := []float64{0, 0, 3, -1000}[rng.IntN(4)]
		ref, cur := make([]float64, n1), make([]float64, n2)
		for i := range ref {
			ref[i] = g1()
		}
		for i := range cur {
			cur[i] = g2() + shift
		}
		slices.Sort(ref)
		slices.Sort(cur)
		got, want := Wasserstein(ref, cur), wassersteinBefore(ref, cur)
		if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("round %d (n %d, %d): %v, before %v", round, n1, n2, got, want)
		}
	}
}

// BenchmarkWasserstein compares the two walks on one sorted column of 1M
// against another (BenchmarkCompare100x1M's), side by side.
func BenchmarkWasserstein(b *testing.B) {
	ref := slices.Clone(benchColumns(1, 1_000_000, 1, 0)[0].Floats)
	cur := slices.Clone(benchColumns(1, 1_000_000, 2, 5)[0].Floats)
	slices.Sort(ref)
	slices.Sort(cur)
	for _, f := range []struct {
		name string
		f    func(a, b []float64) float64
	}{{"before", wassersteinBefore}, {"now", Wasserstein}} {
		b.Run(f.name, func(b *testing.B) {
			start := cpuTime(b)
			for b.Loop() {
				f.f(ref, cur)
			}
			reportCPU(b, start)
		})
	}
}
