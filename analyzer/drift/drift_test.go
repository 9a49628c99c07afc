package drift

import (
	"math"
	"os"
	"testing"
)

// counted builds a numeric column holding value i+1 counts[i] times.
func counted(name string, counts []int) *Column {
	var xs []float64
	for i, c := range counts {
		for range c {
			xs = append(xs, float64(i+1))
		}
	}
	return NumericColumn(name, xs)
}

func compare(t *testing.T, ref, cur *Column, m Method) ColumnResult {
	t.Helper()
	r := CompareColumn(ref, cur, Options{Method: m})
	if r.Status != StatusTested {
		t.Fatalf("%s on %s: status %s (%s)", m, ref.Name, r.Status, r.Reason)
	}
	return r
}

type want struct {
	method Method
	stat   float64
	p      float64 // NaN: no p-value
}

func check(t *testing.T, label string, r ColumnResult, w want) {
	t.Helper()
	if !near(float64(r.Statistic), w.stat, 1e-6) {
		t.Errorf("%s %s: statistic %.10g, want %.10g", label, w.method, float64(r.Statistic), w.stat)
	}
	if math.IsNaN(w.p) {
		if r.PValue != nil {
			t.Errorf("%s %s: p-value %v, want none", label, w.method, *r.PValue)
		}
		return
	}
	if r.PValue == nil || !near(float64(*r.PValue), w.p, 1e-6) {
		t.Errorf("%s %s: p-value %v, want %.10g", label, w.method, r.PValue, w.p)
	}
}

// The count fixtures of drift.md ("Known answers"). Full-precision figures
// from SciPy 1.10.1 on np.repeat(np.arange(1, 7), counts): stats.chisquare
// (cur, ref·n_cur/n_ref), stats.ks_2samp, stats.wasserstein_distance (and
// / np.std(ref)), scipy.spatial.distance.jensenshannon on the shares, PSI
// and Hellinger written out in NumPy; drift.md's rounded figures are in the
// comments.
func TestKnownCounts(t *testing.T) {
	nan := math.NaN()
	ref := counted("x", []int{16, 18, 16, 14, 12, 12})
	for _, c := range []struct {
		cur   []int
		wants []want
	}{
		{[]int{16, 16, 16, 16, 16, 8}, []want{
			{MethodChiSquare, 3.1746031746031744, 0.6730876006966301}, // 3.174603, p 0.67309
			{MethodHellinger, 0.06812774370983354, nan},               // 0.06812
			{MethodPSI, 0.037218381577290835, nan},                    // 0.037218
			{MethodJensenShannon, 0.06804819617703867, nan},           // 0.068048
			{MethodKS, 0.045454545454545456, 0.9999926089855543},      // D 0.045455
			{MethodWasserstein, 0.054433105395181744, nan},            // normed 0.054433
			{MethodLInf, 0.04545454545454547, nan},
		}},
		{[]int{10, 10, 24, 24, 10, 10}, []want{
			{MethodChiSquare, 17.615079365079364, 0.0034695933899891625}, // p 0.003470
			{MethodPSI, 0.19187826356885646, nan},                        // 0.191878
			{MethodJensenShannon, 0.1540444863238474, nan},               // 0.154044
			{MethodKS, 0.1590909090909091, 0.21610828144075794},          // D 0.159091
			{MethodHellinger, 0.15445499756593986, nan},
			{MethodWasserstein, 0.21773242158072692, nan},
			{MethodLInf, 0.11363636363636362, nan},
		}},
	} {
		cur := counted("x", c.cur)
		for _, w := range c.wants {
			r := compare(t, ref, cur, w.method)
			check(t, "counts", r, w)
			if w.method == MethodChiSquare && r.DoF != 5 {
				t.Errorf("chi-square dof %d, want 5", r.DoF)
			}
		}
	}
	// drift.md: raw Wasserstein 0.090909 for the first fixture.
	r := compare(t, ref, counted("x", []int{16, 16, 16, 16, 16, 8}), MethodWasserstein)
	if r.Wasserstein == nil || !near(float64(*r.Wasserstein), 0.09090909090909094, 1e-9) {
		t.Errorf("raw Wasserstein %v", r.Wasserstein)
	}
}

func readTitanic(t *testing.T) (ref, cur map[string]*Column) {
	t.Helper()
	read := func(path string) map[string]*Column {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cols, err := ReadCSV(path, f, nil)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]*Column{}
		for _, c := range cols {
			m[c.Name] = c
		}
		return m
	}
	return read("testdata/titanic_reference.csv"), read("testdata/titanic_analysis.csv")
}

// The Titanic figures of the shared testdata README (SciPy 1.10 / pandas),
// and more computed the same way: pandas.read_csv, dropna, then the SciPy
// calls above; JS and PSI of numeric columns on
// numpy.histogram_bin_edges(concat, bins='sturges').
func TestTitanic(t *testing.T) {
	nan := math.NaN()
	ref, cur := readTitanic(t)
	for _, c := range []struct {
		col     string
		kind    Kind
		auto    Method
		refN    int
		refMiss int
		curN    int
		curMiss int
		wants   []want
		wassRaw float64
		binsJS  int
	}{
		{"Age", Numeric, MethodKS, 714, 177, 332, 86, []want{
			{MethodKS, 0.04595693699166414, 0.7023427077378919}, // D 0.045957, p 0.702343
			{MethodWasserstein, 0.0724035865403487, nan},        // normed 0.072404
			{MethodJensenShannon, 0.07967319215005864, nan},
			{MethodPSI, 0.05103836809630211, nan},
			{MethodHellinger, 0.079772668078954, nan},
		}, 1.0510337146906958, 12},
		{"Fare", Numeric, MethodKS, 891, 0, 417, 1, []want{
			{MethodKS, 0.039370523782993806, 0.7512564942991772}, // D 0.039371, p 0.751256
			{MethodWasserstein, 0.08304724016789208, nan},        // normed 0.083047
			{MethodJensenShannon, 0.06895933765559718, nan},
			{MethodPSI, 0.039343955506237586, nan},
			{MethodHellinger, 0.06953351187002539, nan},
		}, 4.124585567101872, 12},
		{"Embarked", Categorical, MethodChiSquare, 889, 2, 418, 0, []want{
			{MethodChiSquare, 12.905209259224232, 0.0015764108504478977}, // 12.905209, p 0.00157641
			{MethodJensenShannon, 0.05981557814267018, nan},
			{MethodPSI, 0.028679704193389544, nan},
			{MethodLInf, 0.07847643446483066, nan},
		}, nan, 3},
		{"Sex", Categorical, MethodZTest, 891, 0, 418, 0, []want{
			// Evidently's proportions_diff_z_stat_ind on "female".
			{MethodZTest, -0.3953778782489642, 0.6925640325233144},
			{MethodChiSquare, 0.23071233814260012, 0.6309961428368815},
			{MethodJensenShannon, 0.008276912214783255, nan},
			{MethodPSI, 0.0005480751140788299, nan},
			{MethodLInf, 0.01122334455667795, nan},
		}, nan, 2},
		{"Pclass", Numeric, MethodChiSquare, 891, 0, 418, 0, []want{
			{MethodChiSquare, 1.4953516850214612, 0.47346568378430576},
			{MethodJensenShannon, 0.02107987376098577, nan},
			{MethodPSI, 0.0035554608017563175, nan},
			{MethodLInf, 0.0295351172544156, nan},
		}, nan, 3},
	} {
		r, k := ref[c.col], cur[c.col]
		if r == nil || k == nil {
			t.Fatalf("column %s not read", c.col)
		}
		if r.Kind != c.kind {
			t.Errorf("%s read as %s, want %s", c.col, r.Kind, c.kind)
		}
		auto := compare(t, r, k, MethodAuto)
		if auto.Method != c.auto {
			t.Errorf("%s: auto chose %s, want %s", c.col, auto.Method, c.auto)
		}
		if auto.Reference != (Counts{Rows: 891, Values: c.refN, Missing: c.refMiss}) ||
			auto.Current != (Counts{Rows: 418, Values: c.curN, Missing: c.curMiss}) {
			t.Errorf("%s: counts %+v %+v", c.col, auto.Reference, auto.Current)
		}
		for _, w := range c.wants {
			res := compare(t, r, k, w.method)
			check(t, c.col, res, w)
			if w.method == MethodWasserstein && !near(float64(*res.Wasserstein), c.wassRaw, 1e-6) {
				t.Errorf("%s: raw Wasserstein %v, want %v", c.col, *res.Wasserstein, c.wassRaw)
			}
			if w.method == MethodJensenShannon && res.Bins != c.binsJS {
				t.Errorf("%s: %d bins, want %d", c.col, res.Bins, c.binsJS)
			}
		}
	}
}
