package drift

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func repeat(v float64, n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = v
	}
	return xs
}

func labels(spec ...any) *Column {
	// labels("a", 3, "b", 2) is a categorical column a a a b b.
	var ls []string
	for i := 0; i < len(spec); i += 2 {
		for range spec[i+1].(int) {
			ls = append(ls, spec[i].(string))
		}
	}
	return CategoricalColumn("c", ls, func(row int) bool { return ls[row] == "" })
}

func ramp(n int, shift float64) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = float64(i%97) + shift
	}
	return xs
}

func TestEdgeCases(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	withMissing := append(ramp(100, 0), nan, nan, inf, -inf)
	for _, c := range []struct {
		name      string
		ref, cur  *Column
		opts      Options
		status    Status
		method    Method
		stat      float64 // NaN: not checked
		p         float64 // NaN: not checked
		drifted   bool
		refMiss   int
		binning   string
		reasonHas string
	}{
		{name: "NaN and ±Inf are dropped and counted",
			ref: NumericColumn("x", withMissing), cur: NumericColumn("x", ramp(100, 0)),
			opts: Options{Method: MethodKS}, status: StatusTested, method: MethodKS, stat: 0, p: 1, refMiss: 4},
		{name: "same constant: KS defined, no drift",
			ref: NumericColumn("x", repeat(3, 50)), cur: NumericColumn("x", repeat(3, 40)),
			opts: Options{Method: MethodKS}, status: StatusTested, method: MethodKS, stat: 0, p: 1},
		{name: "same constant: Wasserstein over the 0.001 floor is 0",
			ref: NumericColumn("x", repeat(3, 50)), cur: NumericColumn("x", repeat(3, 40)),
			opts: Options{Method: MethodWasserstein}, status: StatusTested, method: MethodWasserstein, stat: 0, p: nan},
		{name: "same constant: chi-square has nothing to test",
			ref: NumericColumn("x", repeat(3, 50)), cur: NumericColumn("x", repeat(3, 40)),
			opts: Options{Method: MethodChiSquare}, status: StatusTested, method: MethodChiSquare, stat: 0, p: 1},
		{name: "same constant: auto picks the Z-test, p 1",
			ref: NumericColumn("x", repeat(3, 50)), cur: NumericColumn("x", repeat(3, 40)),
			status: StatusTested, method: MethodZTest, stat: 0, p: 1},
		{name: "constant moved: Wasserstein divided by the floor",
			ref: NumericColumn("x", repeat(3, 50)), cur: NumericColumn("x", repeat(4, 40)),
			opts: Options{Method: MethodWasserstein}, status: StatusTested, method: MethodWasserstein, stat: 1000, p: nan, drifted: true},
		{name: "constant moved: JS is √ln2",
			ref: NumericColumn("x", repeat(3, 50)), cur: NumericColumn("x", repeat(4, 40)),
			opts: Options{Method: MethodJensenShannon}, status: StatusTested, method: MethodJensenShannon, stat: math.Sqrt(math.Ln2), p: nan, drifted: true, binning: "per-value"},
		{name: "constant, large reference: Sturges on one value does not crash",
			ref: NumericColumn("x", repeat(3, 50)), cur: NumericColumn("x", repeat(3, 40)),
			opts: Options{Method: MethodPSI, Bins: 0}, status: StatusTested, method: MethodPSI, stat: 0, p: nan, binning: "per-value"},
		{name: "unseen category: chi-square +Inf, p 0",
			ref: labels("a", 30, "b", 30), cur: labels("a", 30, "b", 29, "c", 1),
			opts: Options{Method: MethodChiSquare}, status: StatusTested, method: MethodChiSquare, stat: inf, p: 0, drifted: true, binning: "categories"},
		{name: "unseen category: PSI finite through the 1e-4 fill",
			ref: labels("a", 30, "b", 30), cur: labels("a", 30, "b", 29, "c", 1),
			opts: Options{Method: MethodPSI}, status: StatusTested, method: MethodPSI,
			stat: (29.0/60-0.5)*math.Log(29.0/30) + (1.0/60-1e-4)*math.Log(1.0/60/1e-4), p: nan},
		{name: "missing labels are counted",
			ref: labels("a", 30, "b", 30, "", 5), cur: labels("a", 30, "b", 30),
			opts: Options{Method: MethodLInf}, status: StatusTested, method: MethodLInf, stat: 0, p: nan, refMiss: 5},
		{name: "tiny sample: not enough data",
			ref: NumericColumn("x", ramp(100, 0)), cur: NumericColumn("x", []float64{1, 2, 3, nan}),
			status: StatusNotEnoughData, stat: nan, p: nan, reasonHas: "have 100 reference and 3 current"},
		{name: "tiny sample allowed by MinSamples",
			ref: NumericColumn("x", ramp(100, 0)), cur: NumericColumn("x", []float64{1, 2, 3, 4, 5, 6}),
			opts: Options{MinSamples: 5}, status: StatusTested, method: MethodKS, stat: 0.9, p: nan, drifted: true},
		{name: "all missing: not enough data",
			ref: NumericColumn("x", repeat(nan, 50)), cur: NumericColumn("x", ramp(50, 0)),
			status: StatusNotEnoughData, stat: nan, p: nan, refMiss: 50},
		{name: "KS on labels does not apply",
			ref: labels("a", 30, "b", 30), cur: labels("a", 30, "b", 30),
			opts: Options{Method: MethodKS}, status: StatusNotApplicable, method: MethodKS, stat: nan, p: nan, reasonHas: "needs numeric"},
		{name: "Z-test on three categories does not apply",
			ref: labels("a", 30, "b", 30, "c", 3), cur: labels("a", 30, "b", 30),
			opts: Options{Method: MethodZTest}, status: StatusNotApplicable, method: MethodZTest, stat: nan, p: nan, reasonHas: "has 3"},
		{name: "numbers on one side, labels on the other: compared as labels",
			ref: NumericColumn("c", append(repeat(1, 30), repeat(2, 30)...)), cur: labels("1", 30, "2", 30),
			opts: Options{Method: MethodChiSquare}, status: StatusTested, method: MethodChiSquare, stat: 0, p: 1, binning: "categories"},
		{name: "explicit bins are honoured",
			ref: NumericColumn("x", ramp(200, 0)), cur: NumericColumn("x", ramp(200, 0.5)),
			opts: Options{Method: MethodPSI, Bins: 4}, status: StatusTested, method: MethodPSI, stat: nan, p: nan, binning: "fixed"},
		{name: "explicit threshold",
			ref: NumericColumn("x", ramp(200, 0)), cur: NumericColumn("x", ramp(200, 0.5)),
			opts: Options{Method: MethodWasserstein, Threshold: 0.01}, status: StatusTested, method: MethodWasserstein, stat: nan, p: nan, drifted: true},
		{name: "large reference, rich numeric: auto picks Wasserstein",
			ref: NumericColumn("x", ramp(1001, 0)), cur: NumericColumn("x", ramp(300, 0)),
			status: StatusTested, method: MethodWasserstein, stat: nan, p: nan},
		{name: "large reference, labels: auto picks Jensen–Shannon",
			ref: labels("a", 600, "b", 401, "c", 1), cur: labels("a", 30, "b", 30),
			status: StatusTested, method: MethodJensenShannon, stat: nan, p: nan},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := CompareColumn(c.ref, c.cur, c.opts)
			if r.Status != c.status || r.Method != c.method {
				t.Fatalf("status %s method %q (%s), want %s %q", r.Status, r.Method, r.Reason, c.status, c.method)
			}
			if !math.IsNaN(c.stat) && !near(float64(r.Statistic), c.stat, 1e-9) {
				t.Errorf("statistic %v, want %v", r.Statistic, c.stat)
			}
			if !math.IsNaN(c.p) && (r.PValue == nil || !near(float64(*r.PValue), c.p, 1e-9)) {
				t.Errorf("p-value %v, want %v", r.PValue, c.p)
			}
			if r.Drifted != c.drifted {
				t.Errorf("drifted %v, want %v (statistic %v, threshold %v)", r.Drifted, c.drifted, r.Statistic, r.Threshold)
			}
			if r.Reference.Missing != c.refMiss {
				t.Errorf("reference missing %d, want %d", r.Reference.Missing, c.refMiss)
			}
			if c.binning != "" && r.Binning != c.binning {
				t.Errorf("binning %q, want %q", r.Binning, c.binning)
			}
			if c.opts.Bins > 0 && r.Bins != c.opts.Bins {
				t.Errorf("%d bins, want %d", r.Bins, c.opts.Bins)
			}
			if !strings.Contains(r.Reason, c.reasonHas) {
				t.Errorf("reason %q, want it to say %q", r.Reason, c.reasonHas)
			}
			// Every result must encode, infinities and NaN included.
			if _, err := json.Marshal(r); err != nil {
				t.Errorf("json: %v", err)
			}
		})
	}
}

func TestReport(t *testing.T) {
	same := NumericColumn("same", ramp(200, 0))
	moved := NumericColumn("moved", ramp(200, 30))
	tiny := NumericColumn("tiny", []float64{1, 2})
	ref := []*Column{NumericColumn("same", ramp(200, 0)), NumericColumn("moved", ramp(200, 0)), tiny, NumericColumn("gone", ramp(200, 0))}
	cur := []*Column{moved, same, NumericColumn("tiny", ramp(200, 0)), NumericColumn("new", ramp(200, 0))}
	rep := Compare(ref, cur, Options{})
	if len(rep.Columns) != 3 || rep.Columns[0].Column != "same" || rep.Columns[2].Status != StatusNotEnoughData {
		t.Fatalf("columns %+v", rep.Columns)
	}
	if rep.Tested != 2 || rep.Drifted != 1 || rep.Share != 0.5 || !rep.DatasetDrift || rep.Status != StatusTested {
		t.Errorf("verdict %+v", rep)
	}
	if strings.Join(rep.OnlyInReference, ",") != "gone" || strings.Join(rep.OnlyInCurrent, ",") != "new" {
		t.Errorf("unmatched %v %v", rep.OnlyInReference, rep.OnlyInCurrent)
	}
	// A stricter share: one of two is not enough.
	if rep := Compare(ref, cur, Options{DriftShare: 0.75}); rep.DatasetDrift {
		t.Errorf("share 0.5 drifted at threshold 0.75")
	}
	// Nothing testable: no verdict either way.
	rep = Compare([]*Column{tiny}, []*Column{tiny}, Options{})
	if rep.Status != StatusNotEnoughData || rep.DatasetDrift {
		t.Errorf("tiny only: %+v", rep)
	}
}

func TestParseMethod(t *testing.T) {
	for _, m := range Methods {
		if got, err := ParseMethod(string(m)); err != nil || got != m {
			t.Errorf("ParseMethod(%q) = %q, %v", m, got, err)
		}
	}
	if m, err := ParseMethod(""); err != nil || m != MethodAuto {
		t.Errorf("empty method: %q %v", m, err)
	}
	if _, err := ParseMethod("kl"); err == nil || !strings.Contains(err.Error(), "jensenshannon") {
		t.Errorf("unknown method: %v", err)
	}
}

func TestNumberJSON(t *testing.T) {
	in := []Number{1.5, Number(math.Inf(1)), Number(math.Inf(-1)), Number(math.NaN())}
	b, err := json.Marshal(in)
	if err != nil || string(b) != `[1.5,"+Inf","-Inf",null]` {
		t.Fatalf("marshal: %s %v", b, err)
	}
	var out []Number
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out[0] != 1.5 || !math.IsInf(float64(out[1]), 1) || !math.IsInf(float64(out[2]), -1) || !math.IsNaN(float64(out[3])) {
		t.Errorf("round trip: %v", out)
	}
}
