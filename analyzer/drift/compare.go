package drift

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Method is a drift test or distance.
type Method string

const (
	MethodAuto          Method = "auto"
	MethodKS            Method = "ks"
	MethodChiSquare     Method = "chisquare"
	MethodZTest         Method = "ztest"
	MethodPSI           Method = "psi"
	MethodJensenShannon Method = "jensenshannon"
	MethodWasserstein   Method = "wasserstein"
	MethodHellinger     Method = "hellinger"
	MethodLInf          Method = "linf"
)

// Methods lists every method, auto first.
var Methods = []Method{MethodAuto, MethodKS, MethodChiSquare, MethodZTest, MethodPSI,
	MethodJensenShannon, MethodWasserstein, MethodHellinger, MethodLInf}

// ParseMethod checks a method name.
func ParseMethod(s string) (Method, error) {
	m := Method(strings.ToLower(s))
	if m == "" {
		return MethodAuto, nil
	}
	if !slices.Contains(Methods, m) {
		names := make([]string, len(Methods))
		for i, m := range Methods {
			names[i] = string(m)
		}
		return "", fmt.Errorf("unknown drift method %q (want one of %s)", s, strings.Join(names, ", "))
	}
	return m, nil
}

// isPValue says whether the method's statistic is judged by its p-value
// (drift when p is below the threshold) rather than by a distance (drift
// when it reaches the threshold).
func (m Method) isPValue() bool {
	return m == MethodKS || m == MethodChiSquare || m == MethodZTest
}

// DefaultThreshold is Evidently's default for each method: a p-value of
// 0.05 for the tests, 0.1 for the distances. Evidently has no L∞; 0.1 (ten
// points of share moving between categories) keeps it in line with PSI's
// "moderate" band.
func (m Method) DefaultThreshold() float64 {
	if m.isPValue() {
		return 0.05
	}
	return 0.1
}

// DefaultMinSamples is the fewest non-missing values each side must have
// before a column gets a verdict. Thirty is the usual floor for the normal
// approximations behind the chi-square and Z tests, and below it a single
// value moves a share by more than 3 points, enough to trip the distance
// thresholds on noise.
const DefaultMinSamples = 30

// DefaultDriftShare is Evidently's share of drifted columns at which the
// whole dataset counts as drifted.
const DefaultDriftShare = 0.5

// Options tune a comparison; the zero value is Evidently's defaults.
type Options struct {
	Method     Method  // "" or MethodAuto chooses per column, as Evidently
	Threshold  float64 // 0: the method's DefaultThreshold
	Bins       int     // numeric bins for the binned measures; 0: per value or Sturges
	MinSamples int     // 0: DefaultMinSamples
	DriftShare float64 // 0: DefaultDriftShare
}

func (o Options) withDefaults() Options {
	if o.Method == "" {
		o.Method = MethodAuto
	}
	if o.MinSamples <= 0 {
		o.MinSamples = DefaultMinSamples
	}
	if o.DriftShare <= 0 {
		o.DriftShare = DefaultDriftShare
	}
	return o
}

// Status is whether a column or dataset got a verdict.
type Status string

const (
	// StatusTested: the statistic was computed and compared.
	StatusTested Status = "tested"
	// StatusNotEnoughData: a side had fewer than MinSamples values.
	StatusNotEnoughData Status = "not_enough_data"
	// StatusNotApplicable: the method does not apply to the column (KS or
	// Wasserstein on labels, a Z-test on more than two categories).
	StatusNotApplicable Status = "not_applicable"
)

// Number is a float64 that survives JSON: ±Inf (a chi-square against an
// unseen category) encode as the strings "+Inf" and "-Inf", NaN as null.
type Number float64

// MarshalJSON implements json.Marshaler.
func (n Number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	switch {
	case math.IsNaN(f):
		return []byte("null"), nil
	case math.IsInf(f, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Inf"`), nil
	}
	return json.Marshal(f)
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Number) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "null":
		*n = Number(math.NaN())
		return nil
	case `"+Inf"`:
		*n = Number(math.Inf(1))
		return nil
	case `"-Inf"`:
		*n = Number(math.Inf(-1))
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Number(f)
	return nil
}

// Counts are one side's rows.
type Counts struct {
	Rows    int `json:"rows"`    // rows read
	Values  int `json:"values"`  // rows with a usable value
	Missing int `json:"missing"` // empty, NA/NaN/null, or ±Inf: dropped
}

// ColumnResult is one column's comparison.
type ColumnResult struct {
	Column    string  `json:"column"`
	Kind      string  `json:"type"` // numeric or categorical, as compared
	Method    Method  `json:"method"`
	Status    Status  `json:"status"`
	Reason    string  `json:"reason,omitempty"` // why there is no verdict
	Statistic Number  `json:"statistic"`        // D, χ², z, or the distance
	PValue    *Number `json:"p_value,omitempty"`
	// Threshold: drift when the p-value is below it (KS: at or below), or
	// when the distance reaches it.
	Threshold float64 `json:"threshold"`
	Drifted   bool    `json:"drifted"`
	// Wasserstein is the raw distance when Statistic is its normed form.
	Wasserstein *Number `json:"wasserstein,omitempty"`
	DoF         int     `json:"dof,omitempty"`     // chi-square degrees of freedom
	Bins        int     `json:"bins,omitempty"`    // bins or categories compared
	Binning     string  `json:"binning,omitempty"` // per-value, sturges, fixed or categories
	Reference   Counts  `json:"reference"`
	Current     Counts  `json:"current"`
}

// prepared is one side of a column made ready for the statistics.
type prepared struct {
	sorted  []float64      // numeric: finite values, ascending
	counts  map[string]int // categorical: rows per label
	n       int
	counts0 Counts
}

func prepare(c *Column, kind Kind, buf *[]float64, s *scratch) prepared {
	p := prepared{counts0: Counts{Rows: c.Len()}}
	if kind == Numeric {
		var missing int
		p.sorted, missing = numericSample(c, *buf, s)
		*buf = p.sorted
		p.n = len(p.sorted)
		p.counts0.Missing = missing
	} else {
		var missing int
		p.counts, p.n, missing = categoryCounts(c)
		p.counts0.Missing = missing
	}
	p.counts0.Values = p.n
	return p
}

// CompareColumn compares one column of the reference with the same column
// of the current sample. The column is numeric when it is numeric on both
// sides, else its values are compared as labels.
func CompareColumn(ref, cur *Column, opts Options) ColumnResult {
	return compareColumn(ref, cur, opts.withDefaults(), &scratch{})
}

func compareColumn(ref, cur *Column, opts Options, s *scratch) ColumnResult {
	kind := Numeric
	if ref.Kind != Numeric || cur.Kind != Numeric {
		kind = Categorical
	}
	r, c := prepare(ref, kind, &s.ref, s), prepare(cur, kind, &s.cur, s)
	res := ColumnResult{Column: ref.Name, Kind: kind.String(), Method: opts.Method,
		Reference: r.counts0, Current: c.counts0, Statistic: Number(math.NaN())}
	if r.n < opts.MinSamples || c.n < opts.MinSamples {
		res.Status = StatusNotEnoughData
		res.Reason = fmt.Sprintf("need at least %d values on each side, have %d reference and %d current", opts.MinSamples, r.n, c.n)
		if res.Method == MethodAuto {
			res.Method = ""
		}
		return res
	}
	if res.Method == MethodAuto {
		res.Method = autoMethod(r, c, kind)
	}
	res.Threshold = opts.Threshold
	if res.Threshold == 0 {
		res.Threshold = res.Method.DefaultThreshold()
	}
	if err := measure(&res, r, c, kind, opts.Bins); err != "" {
		res.Status = StatusNotApplicable
		res.Reason = err
		return res
	}
	res.Status = StatusTested
	switch {
	case res.Method == MethodKS:
		res.Drifted = float64(*res.PValue) <= res.Threshold
	case res.Method.isPValue():
		res.Drifted = float64(*res.PValue) < res.Threshold
	default:
		res.Drifted = float64(res.Statistic) >= res.Threshold
	}
	return res
}

// autoMethod is Evidently's default test: by the size of the reference,
// and whether the column is numeric with more than 5 distinct values over
// both samples.
func autoMethod(r, c prepared, kind Kind) Method {
	rich := false
	distinct := 0
	if kind == Numeric {
		distinct = distinctUnion(r.sorted, c.sorted, 6)
		rich = distinct > 5
	} else {
		distinct = len(r.counts)
		for l := range c.counts {
			if _, ok := r.counts[l]; !ok {
				distinct++
			}
		}
	}
	switch {
	case r.n <= 1000 && rich:
		return MethodKS
	case r.n <= 1000 && distinct > 2:
		return MethodChiSquare
	case r.n <= 1000:
		return MethodZTest
	case rich:
		return MethodWasserstein
	}
	return MethodJensenShannon
}

// measure computes res.Method's statistic; it returns why the method does
// not apply, or "".
func measure(res *ColumnResult, r, c prepared, kind Kind, bins int) string {
	switch res.Method {
	case MethodKS, MethodWasserstein:
		if kind != Numeric {
			return fmt.Sprintf("%s needs numeric values; this column has labels", res.Method)
		}
		if res.Method == MethodKS {
			ks := KS2Samp(r.sorted, c.sorted)
			res.Statistic = Number(ks.D)
			p := Number(ks.P)
			res.PValue = &p
			return ""
		}
		w := Wasserstein(r.sorted, c.sorted)
		raw := Number(w)
		res.Wasserstein = &raw
		// Evidently norms by the reference's population standard
		// deviation, floored so a constant reference gives a finite value.
		res.Statistic = Number(w / max(populationStd(r.sorted), 0.001))
		return ""
	}
	var rc, cc []float64
	if kind == Numeric {
		var b binning
		rc, cc, b = numericBins(r.sorted, c.sorted, bins)
		res.Binning = b.rule
	} else {
		rc, cc = alignCounts(r.counts, c.counts)
		res.Binning = "categories"
	}
	res.Bins = len(rc)
	switch res.Method {
	case MethodChiSquare:
		stat, p, dof := ChiSquare(rc, cc)
		res.Statistic, res.DoF = Number(stat), dof
		pn := Number(p)
		res.PValue = &pn
	case MethodZTest:
		if len(rc) > 2 {
			return fmt.Sprintf("ztest compares two categories; this column has %d", len(rc))
		}
		// The first category in order (the smaller value, or the
		// alphabetically first label), as Evidently picks it.
		hitsR, hitsC := int(rc[0]), int(cc[0])
		z, p := ZTest(hitsR, r.n, hitsC, c.n)
		res.Statistic = Number(z)
		pn := Number(p)
		res.PValue = &pn
	case MethodPSI:
		rs, cs := shares(rc), shares(cc)
		fillZeros(rs)
		fillZeros(cs)
		res.Statistic = Number(PSI(rs, cs))
	case MethodJensenShannon:
		res.Statistic = Number(JensenShannon(shares(rc), shares(cc)))
	case MethodHellinger:
		res.Statistic = Number(Hellinger(shares(rc), shares(cc)))
	case MethodLInf:
		res.Statistic = Number(LInf(shares(rc), shares(cc)))
	default:
		return fmt.Sprintf("unknown method %q", res.Method)
	}
	return ""
}

// alignCounts puts two label counts on the same, sorted, list of labels.
func alignCounts(r, c map[string]int) (rc, cc []float64) {
	var labels []string
	for l := range r {
		labels = append(labels, l)
	}
	for l := range c {
		if _, ok := r[l]; !ok {
			labels = append(labels, l)
		}
	}
	slices.Sort(labels)
	rc = make([]float64, len(labels))
	cc = make([]float64, len(labels))
	for i, l := range labels {
		rc[i], cc[i] = float64(r[l]), float64(c[l])
	}
	return rc, cc
}
