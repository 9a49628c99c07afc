package rightsize

import (
	"math"
	"testing"
	"time"
)

const minute = int64(60_000)

// series makes one point a minute from t0 with the values f gives.
func series(t0 int64, n int, f func(i int) float64) []Point {
	ps := make([]Point, n)
	for i := range ps {
		ps[i] = Point{TimestampMsec: t0 + int64(i)*minute, Value: f(i)}
	}
	return ps
}

func constant(v float64) func(int) float64 { return func(int) float64 { return v } }

func TestQuantileInterpolatesLikePrometheus(t *testing.T) {
	// 1..100 hundredths: rank 0.95 × 99 = 94.05, between 0.95 and 0.96.
	vs := make([]float64, 100)
	for i := range vs {
		vs[99-i] = float64(i+1) / 100
	}
	if got := Quantile(0.95, vs); math.Abs(got-0.9505) > 1e-12 {
		t.Errorf("p95 = %v, want 0.9505", got)
	}
	if got := Quantile(0.5, []float64{3, 1, 2, 4}); got != 2.5 {
		t.Errorf("median of 1..4 = %v, want 2.5", got)
	}
	if !math.IsNaN(Quantile(0.5, nil)) {
		t.Error("quantile of nothing is not NaN")
	}
}

func TestCounterRates(t *testing.T) {
	// A counter growing 30 core-seconds a minute, reset once (drop to 10).
	ps := []Point{{TimestampMsec: 0, Value: 100}, {TimestampMsec: 60_000, Value: 130}, {TimestampMsec: 120_000, Value: 10}, {TimestampMsec: 180_000, Value: 40}, {TimestampMsec: 210_000, Value: 55}, {TimestampMsec: 240_000, Value: 70}}
	got := CounterRates(ps, time.Minute)
	want := []Point{{TimestampMsec: 60_000, Value: 0.5}, {TimestampMsec: 120_000, Value: 10.0 / 60}, {TimestampMsec: 180_000, Value: 0.5}, {TimestampMsec: 240_000, Value: 0.5}}
	if len(got) != len(want) {
		t.Fatalf("rates = %v, want %v", got, want)
	}
	for i := range want {
		if got[i].TimestampMsec != want[i].TimestampMsec || math.Abs(got[i].Value-want[i].Value) > 1e-12 {
			t.Errorf("rate %d = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestSimpleHandComputed(t *testing.T) {
	c := &Container{
		Namespace: "shop", Kind: "Deployment", Workload: "api", Name: "app", Replicas: 2,
		Current: Resources{CPURequest: 2, CPULimit: 4, MemoryRequest: GiB, MemoryLimit: GiB},
		Pods: []Pod{
			// p95 of 0.01..1.00 is 0.9505 (see above), rounded up to 951m.
			{Name: "api-1", CPU: series(0, 100, func(i int) float64 { return float64((i*37)%100+1) / 100 }), Memory: series(0, 100, func(i int) float64 {
				if i == 50 {
					return 200*MiB + 1
				}
				return 100 * MiB
			})},
			{Name: "api-2", CPU: series(0, 100, constant(0.2)), Memory: series(0, 100, constant(150*MiB))},
		},
	}
	r := Simple{}.Recommend(c)
	check := func(res Resource, set Setting, cur, rec float64, sev Severity) {
		t.Helper()
		v, ok := r.Get(res, set)
		if !ok {
			t.Fatalf("no %s %s", res, set)
		}
		if v.Current != cur || math.Abs(v.Recommended-rec) > 1e-9 || v.Severity != sev || v.Skipped != "" {
			t.Errorf("%s %s = %v -> %v (%s, %q), want %v -> %v (%s)", res, set, v.Current, v.Recommended, v.Severity, v.Skipped, cur, rec, sev)
		}
	}
	check("cpu", "request", 2, 0.951, SeverityCritical)
	check("cpu", "limit", 4, 0, SeverityWarning) // no CPU limit
	// max 200 MiB + 1 byte × 1.15 = 230 MiB + 1.15 bytes, rounded up to 231 MiB.
	check("memory", "request", GiB, 231*MiB, SeverityCritical)
	check("memory", "limit", GiB, 231*MiB, SeverityCritical)
	if v, _ := r.Get("cpu", "request"); v.Evidence.Samples != 200 || v.Evidence.Pods != 2 || v.Evidence.HistorySeconds != 99*60 || math.Abs(v.Evidence.Value-0.9505) > 1e-12 {
		t.Errorf("cpu evidence = %+v", v.Evidence)
	}
	if Quantity("cpu", 0.951) != "951m" || Quantity("memory", 231*MiB) != "231Mi" || Quantity("memory", 628694953) != "628694953" {
		t.Error("quantities misformatted")
	}

	// The last OOM kill's limit × 1.25 beats usage: 256 MiB × 1.25 = 320 MiB.
	c.OOMKills = []OOMKill{{Pod: "api-1", TimestampMsec: 10 * minute, Limit: 128 * MiB}, {Pod: "api-2", TimestampMsec: 20 * minute, Limit: 256 * MiB}}
	r = Simple{}.Recommend(c)
	check("memory", "request", GiB, 320*MiB, SeverityCritical)
	// (2 - 0.951) cores × 0.031611 $/core-h + (1 - 0.3125) GiB × 0.004237 $/GiB-h,
	// × 730 h × 2 replicas (Python decimal: 52.66639969).
	if got := r.MonthlySaving.String(); got != "52.66639969" {
		t.Errorf("monthly saving = %s, want 52.66639969", got)
	}
	if r.Severity != SeverityCritical {
		t.Errorf("severity = %s", r.Severity)
	}
}

func TestSimpleFloorsAndTooFewPoints(t *testing.T) {
	c := &Container{Name: "tiny", Pods: []Pod{{Name: "p", CPU: series(0, 100, constant(0.0004)), Memory: series(0, 100, constant(5*MiB))}}}
	r := Simple{}.Recommend(c)
	if v, _ := r.Get("cpu", "request"); v.Recommended != 0.010 || v.Severity != SeverityWarning {
		t.Errorf("cpu = %+v, want the 10m floor", v)
	}
	if v, _ := r.Get("memory", "request"); v.Recommended != 100*MiB {
		t.Errorf("memory = %v, want the 100 MiB floor", v.Recommended)
	}
	if !r.MonthlySaving.IsNegative() {
		t.Errorf("asking for a request where there was none saves %s", r.MonthlySaving)
	}

	c = &Container{Name: "young", Current: Resources{CPURequest: 1}, Pods: []Pod{{Name: "a", CPU: series(0, 50, constant(0.1)), Memory: series(0, 99, constant(MiB))}, {Name: "b", CPU: series(0, 49, constant(0.1))}}}
	r = Simple{}.Recommend(c)
	if v, _ := r.Get("cpu", "request"); v.Skipped != "not enough data: 99 CPU points, need 100" || v.Recommended != 1 || v.Severity != SeverityUnknown {
		t.Errorf("cpu with 99 points = %+v", v)
	}
	if v, _ := r.Get("memory", "limit"); v.Skipped == "" {
		t.Errorf("memory with 99 points = %+v", v)
	}
	if !r.MonthlySaving.IsZero() || r.Severity != SeverityUnknown {
		t.Errorf("skipped values priced %s, severity %s", r.MonthlySaving, r.Severity)
	}
}

// The worked values of rightsizing.md: 8 days of constant usage at one
// sample a minute.
func TestVPAWorkedValues(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 7, 13, 0, 0, time.UTC).UnixMilli()
	n := 8 * 24 * 60
	c := &Container{Name: "app", Pods: []Pod{{Name: "p", CPU: series(t0, n, constant(0.5)), Memory: series(t0, n, constant(500*MiB))}}}
	e, ok := VPA{}.Estimate(c)
	if !ok {
		t.Fatal("no estimate")
	}
	if e.CPUTarget != 587 || e.CPULower != 586 || e.CPUUpper != 660 {
		t.Errorf("cpu = %v, want target 587m, lower 586m, upper 660m", e)
	}
	if e.MemoryTarget != 628694953 {
		t.Errorf("memory target = %.0f, want 628694953", e.MemoryTarget)
	}
	r := VPA{}.Recommend(c)
	if v, _ := r.Get("cpu", "request"); Quantity("cpu", v.Recommended) != "587m" || *v.Evidence.LowerBound != 0.586 || *v.Evidence.UpperBound != 0.66 {
		t.Errorf("cpu request = %+v", v)
	}
	if v, _ := r.Get("memory", "request"); v.Recommended != 628694953 {
		t.Errorf("memory request = %v", v.Recommended)
	}
}

func TestVPADecayFavoursRecentUsage(t *testing.T) {
	// Six days at 1 core, then two at 0.2: with a 24 h half-life the last
	// two days weigh 3/4 of the total (1 - 2^-2), so p50 is in the recent
	// regime but p90 still sees the old one.
	t0 := int64(0)
	n := 8 * 24 * 60
	c := &Container{Name: "app", Pods: []Pod{{Name: "p", CPU: series(t0, n, func(i int) float64 {
		if i < 6*24*60 {
			return 1
		}
		return 0.2
	})}}}
	e, _ := VPA{}.Estimate(c)
	// 0.2 core is in bucket 14 (upper edge 0.01 × (1.05^15 - 1) / 0.05 =
	// 0.2158 → 215m), 1 core in 36 (upper edge 1.0163 → 1016m).
	if e.CPUP50 != 215 || e.CPUP90 != 1016 {
		t.Errorf("p50 = %v, p90 = %v, want 215 and 1016", e.CPUP50, e.CPUP90)
	}
}

func TestVPAFloorsAndOOM(t *testing.T) {
	n := 2 * 24 * 60
	c := &Container{Name: "side", PodContainers: 2, Current: Resources{MemoryRequest: 300 * MiB}, Pods: []Pod{{Name: "p", CPU: series(0, n, constant(0.001)), Memory: series(0, n, constant(20*MiB))}}}
	e, _ := VPA{}.Estimate(c)
	// Floors 25m and 250 MiB per pod, halved for two containers.
	if e.CPUTarget != 12 || e.MemoryTarget != 125*MiB {
		t.Errorf("floored estimate = %v, want 12m and 125 MiB", e)
	}
	// An OOM kill on the second day replaces that day's peak with
	// max(used + 100 MiB, used × 1.2), used = max(request, peak) = 300 MiB:
	// 400 MiB, in bucket 23 (upper edge 1e7 × (1.05^24 - 1) / 0.05 =
	// 445,019,988 bytes). The day-2 peak weighs twice the day-1 one, so p90
	// falls in its bucket: 445,019,988 × 1.15 = 511,772,986.
	c.OOMKills = []OOMKill{{Pod: "p", TimestampMsec: int64(30*60) * minute, Request: 300 * MiB}}
	e, _ = VPA{}.Estimate(c)
	want := 511772986.0
	if e.MemoryP95 != 445019988 || e.MemoryTarget != want {
		t.Errorf("after an OOM: memory p95 %v target %v, want target %v", e.MemoryP95, e.MemoryTarget, want)
	}
}

func TestKubecost(t *testing.T) {
	c := &Container{Name: "app", Replicas: 3, Current: Resources{CPURequest: 1, MemoryRequest: 2 * GiB},
		Pods: []Pod{
			{Name: "a", CPU: series(0, 10, constant(0.21)), Memory: series(0, 10, constant(100*MiB))},
			{Name: "b", CPU: series(0, 10, func(i int) float64 { return 0.1 * float64(i%4) }), Memory: series(0, 10, constant(70*MiB))},
		}}
	r := Kubecost{}.Recommend(c)
	// max 0.3 / 0.7 = 0.42857 → 429m; 100 MiB / 0.7 = 142.86 → 143 MiB.
	if v, _ := r.Get("cpu", "request"); math.Abs(v.Recommended-0.429) > 1e-12 {
		t.Errorf("cpu = %v, want 429m", v.Recommended)
	}
	if v, _ := r.Get("memory", "request"); v.Recommended != 143*MiB {
		t.Errorf("memory = %v, want 143 MiB", Quantity("memory", v.Recommended))
	}
	k, err := KubecostProfile("high-availability")
	if err != nil {
		t.Fatal(err)
	}
	r = k.Recommend(c)
	if v, _ := r.Get("cpu", "request"); math.Abs(v.Recommended-0.6) > 1e-12 {
		t.Errorf("HA cpu = %v, want 600m", v.Recommended)
	}
	if _, err := KubecostProfile("turbo"); err == nil {
		t.Error("unknown profile accepted")
	}
	// Floors: 10m and 20 MiB.
	c = &Container{Name: "idle", Pods: []Pod{{Name: "a", CPU: series(0, 10, constant(0.001)), Memory: series(0, 10, constant(MiB))}}}
	r = Kubecost{}.Recommend(c)
	if v, _ := r.Get("cpu", "request"); v.Recommended != 0.010 {
		t.Errorf("cpu floor = %v", v.Recommended)
	}
	if v, _ := r.Get("memory", "request"); v.Recommended != 20*MiB {
		t.Errorf("memory floor = %v", v.Recommended)
	}
}

func TestSelectQuantileMatchesSorting(t *testing.T) {
	rng := uint64(7)
	for n := 1; n < 300; n += 7 {
		vs := make([]float64, n)
		for i := range vs {
			rng = rng*6364136223846793005 + 1442695040888963407
			vs[i] = float64(rng>>40%50) / 7 // many ties
		}
		for _, phi := range []float64{0, 0.5, 0.9, 0.95, 0.99, 1} {
			want := Quantile(phi, vs)
			if got := selectQuantile(phi, append([]float64(nil), vs...)); got != want {
				t.Fatalf("n=%d phi=%v: select %v, sort %v", n, phi, got, want)
			}
		}
	}
}
