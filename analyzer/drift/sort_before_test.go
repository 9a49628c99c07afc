package drift

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// numericSampleBefore is numericSample as it was on main before the sort
// by ranges (issue 19's second round): the
// finite values copied out to buf, then sorted by sortFloatsBefore with
// tmp (both reused, as a worker's scratch was).
func numericSampleBefore(xs, buf, tmp []float64) (sorted, tmp2 []float64, missing int) {
	sorted = buf[:0]
	for _, v := range xs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			missing++
			continue
		}
		sorted = append(sorted, v)
	}
	tmp = sortFloatsBefore(sorted, tmp)
	return sorted, tmp, missing
}

// sortFloatsBefore is sortFloats as it was then, the baseline of
// TestSortedFiniteMatchesBefore and BenchmarkSort: it sorts finite values
// ascending, using tmp (grown as needed and returned for reuse) as the
// radix sort's second buffer.
//
// Sorting is most of a numeric column's cost, so large slices get an LSD
// radix sort on the values' bits (11-bit digits, six passes, passes where
// every value shares the digit skipped), about three times faster than
// pdqsort on a million values.
func sortFloatsBefore(xs, tmp []float64) []float64 {
	if len(xs) < 512 {
		slices.Sort(xs)
		return tmp
	}
	const (
		bits   = 11
		radix  = 1 << bits
		mask   = radix - 1
		passes = (64 + bits - 1) / bits
	)
	var counts [passes][radix]int
	for _, x := range xs {
		k := sortKey(x)
		for p := range passes {
			counts[p][(k>>(p*bits))&mask]++
		}
	}
	if cap(tmp) < len(xs) {
		tmp = make([]float64, len(xs))
	}
	tmp = tmp[:len(xs)]
	src, dst := xs, tmp
	for p := range passes {
		c := &counts[p]
		// A digit every value shares moves nothing.
		if c[(sortKey(xs[0])>>(p*bits))&mask] == len(xs) {
			continue
		}
		offset := 0
		for d := range c {
			n := c[d]
			c[d] = offset
			offset += n
		}
		shift := p * bits
		for _, x := range src {
			d := (sortKey(x) >> shift) & mask
			dst[c[d]] = x
			c[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &xs[0] {
		copy(xs, src)
	}
	return tmp
}

// randomColumn is n values from a mix of generators chosen by rng:
// duplicates, ±0, NaN, ±Inf, subnormals, values near the float range's
// ends (when wide), and clusters that share all but their last bits.
func randomColumn(rng *rand.Rand, n int, wide bool) []float64 {
	gens := []func() float64{
		func() float64 { return rng.NormFloat64()*10 + 50 },
		func() float64 { return float64(rng.IntN(7)) },
		func() float64 { return math.Copysign(0, float64(rng.IntN(2))-0.5) },
		func() float64 { return math.NaN() },
		func() float64 { return math.Inf(1 - 2*rng.IntN(2)) },
		func() float64 { return math.Float64frombits(rng.Uint64N(1<<52)) * float64(1-2*rng.IntN(2)) },
		func() float64 { return rng.Float64() * 1e308 * float64(1-2*rng.IntN(2)) },
		func() float64 { return math.Float64frombits(math.Float64bits(1e6) + rng.Uint64N(64)) },
		func() float64 { return math.Float64frombits(rng.Uint64()) },
		func() float64 { return -rng.ExpFloat64() },
	}
	if !wide {
		// Without the two whose range overflows a float.
		gens = append(gens[:6], gens[7], gens[9])
	}
	// Most columns draw from one or two generators, some from all.
	use := gens
	if rng.IntN(4) != 0 {
		use = []func() float64{gens[rng.IntN(len(gens))], gens[rng.IntN(len(gens))]}
	}
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = use[rng.IntN(len(use))]()
	}
	return xs
}

// TestSortedFiniteMatchesBefore checks the sort against the one it
// replaced, to the bit, on randomized columns of 0 to 200,000 values.
func TestSortedFiniteMatchesBefore(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 7))
	var buf []float64
	var srt sorter
	for round := range 2000 {
		n := rng.IntN(3000)
		switch {
		case round%200 == 0:
			n = 100_000 + rng.IntN(100_000)
		case round%20 == 0:
			n = rng.IntN(30_000)
		}
		xs := randomColumn(rng, n, true)
		in := slices.Clone(xs)
		want, _, wantMissing := numericSampleBefore(xs, nil, nil)
		var got []float64
		var missing int
		got, missing = srt.sortedFinite(xs, buf)
		buf = got
		if !slices.EqualFunc(xs, in, sameBits) {
			t.Fatalf("round %d: the column changed", round)
		}
		if missing != wantMissing || len(got) != len(want) {
			t.Fatalf("round %d (n %d): %d values, %d missing; before %d, %d", round, n, len(got), missing, len(want), wantMissing)
		}
		for i := range got {
			if !sameBits(got[i], want[i]) {
				t.Fatalf("round %d (n %d): value %d is %v, before %v", round, n, i, got[i], want[i])
			}
		}
	}
}

func sameBits(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

// TestCompareColumnMatchesBefore checks every method's result on columns
// sorted by the new code against the same statistics on columns sorted
// as before, field by field and to the bit.
func TestCompareColumnMatchesBefore(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 8))
	for round := range 300 {
		n1, n2 := rng.IntN(1500), rng.IntN(1500)
		if round%30 == 0 {
			n1, n2 = 20_000+rng.IntN(40_000), 20_000+rng.IntN(40_000)
		}
		wide := round%10 == 0
		ref := NumericColumn("x", randomColumn(rng, n1, wide))
		cur := NumericColumn("x", randomColumn(rng, n2, wide))
		for _, m := range Methods {
			opts := Options{Method: m}.withDefaults()
			if rng.IntN(3) == 0 {
				opts.Bins = 1 + rng.IntN(40)
			}
			got := compareColumn(ref, cur, opts, &scratch{})
			want := compareColumnBefore(ref, cur, opts)
			if !sameResult(got, want) {
				t.Fatalf("round %d, %s: %+v\nbefore %+v", round, m, got, want)
			}
		}
	}
}

// compareColumnBefore is compareColumn on two numeric columns with their
// samples sorted as before issue 19.
func compareColumnBefore(ref, cur *Column, opts Options) ColumnResult {
	r, c := preparedBefore(ref), preparedBefore(cur)
	res := ColumnResult{Column: ref.Name, Kind: Numeric.String(), Method: opts.Method,
		Reference: r.counts0, Current: c.counts0, Statistic: Number(math.NaN())}
	if r.n < opts.MinSamples || c.n < opts.MinSamples {
		res.Status = StatusNotEnoughData
		if res.Method == MethodAuto {
			res.Method = ""
		}
		return res
	}
	if res.Method == MethodAuto {
		res.Method = autoMethod(r, c, Numeric)
	}
	if err := measure(&res, r, c, Numeric, opts.Bins); err != "" {
		res.Status = StatusNotApplicable
		return res
	}
	res.Status = StatusTested
	return res
}

func preparedBefore(c *Column) prepared {
	sorted, _, missing := numericSampleBefore(c.Floats, nil, nil)
	return prepared{sorted: sorted, n: len(sorted), counts0: Counts{Rows: c.Len(), Values: len(sorted), Missing: missing}}
}

// sameResult compares what compareColumnBefore computes, NaN equal to NaN.
func sameResult(a, b ColumnResult) bool {
	num := func(x, y *Number) bool {
		if x == nil || y == nil {
			return x == y
		}
		return sameBits(float64(*x), float64(*y)) || (math.IsNaN(float64(*x)) && math.IsNaN(float64(*y)))
	}
	return a.Status == b.Status && a.Method == b.Method && a.Reference == b.Reference && a.Current == b.Current &&
		num(&a.Statistic, &b.Statistic) && num(a.PValue, b.PValue) && num(a.Wasserstein, b.Wasserstein) &&
		a.DoF == b.DoF && a.Bins == b.Bins && a.Binning == b.Binning
}

// BenchmarkSort is one column of 1M (BenchmarkCompare100x1M's) made
// ready for the statistics, by the sort before issue 19 and now, side by
// side.
func BenchmarkSort(b *testing.B) {
	xs := benchColumns(1, 1_000_000, 1, 0)[0].Floats
	b.Run("before", func(b *testing.B) {
		var buf, tmp []float64
		start := cpuTime(b)
		for b.Loop() {
			buf, tmp, _ = numericSampleBefore(xs, buf, tmp)
		}
		reportCPU(b, start)
	})
	b.Run("now", func(b *testing.B) {
		var buf []float64
		var srt sorter
		start := cpuTime(b)
		for b.Loop() {
			buf, _ = srt.sortedFinite(xs, buf)
		}
		reportCPU(b, start)
	})
}
