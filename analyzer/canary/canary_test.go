package canary

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// spread returns n latencies base, base+step, ... cycling over width
// distinct values, so samples are deterministic and tie-heavy like real
// millisecond-rounded traces.
func spread(n int, base, step time.Duration, width int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = base + time.Duration(i%width)*step
	}
	return out
}

func scaled(d []time.Duration, num, den int64) []time.Duration {
	out := make([]time.Duration, len(d))
	for i, v := range d {
		out[i] = v * time.Duration(num) / time.Duration(den)
	}
	return out
}

func TestEvaluate(t *testing.T) {
	stable := spread(400, 100*time.Millisecond, time.Millisecond, 100) // 100–199 ms
	side := func(lat []time.Duration, requests, errors uint64) Side {
		return Side{Latencies: lat, Requests: requests, Errors: errors}
	}
	for _, tc := range []struct {
		name           string
		canary, stable Side
		cfg            Config
		verdict        Verdict
		score          float64 // -1: no score
		latency, errs  Classification
	}{
		{"same", side(stable, 400, 4), side(stable, 400, 4), Config{}, VerdictPass, 100, Pass, Pass},
		{"too few", side(stable[:30], 30, 0), side(stable, 400, 0), Config{}, VerdictInconclusive, -1, NoData, NoData},
		// stable[:30] is 100–129 ms: faster, which never fails.
		{"min samples lowered", side(stable[:30], 30, 0), side(stable, 400, 0), Config{MinSamples: 20}, VerdictPass, 100, Low, Pass},
		// 50% slower: latency High; error rate equal; 1 of 2 equal weights.
		{"slower", side(scaled(stable, 3, 2), 400, 4), side(stable, 400, 4), Config{}, VerdictFail, 50, High, Pass},
		// 3% slower over 4,000 requests a side: significant (the whole
		// distribution moved) but inside the 10% tolerance.
		{"slightly slower", side(scaled(spread(4000, 100*time.Millisecond, time.Millisecond, 100), 103, 100), 4000, 0),
			side(spread(4000, 100*time.Millisecond, time.Millisecond, 100), 4000, 0), Config{}, VerdictPass, 100, Pass, Pass},
		{"slightly slower, tight tolerance", side(scaled(spread(4000, 100*time.Millisecond, time.Millisecond, 100), 103, 100), 4000, 0),
			side(spread(4000, 100*time.Millisecond, time.Millisecond, 100), 4000, 0), Config{LatencyTolerance: 0.01}, VerdictFail, 50, High, Pass},
		{"faster", side(scaled(stable, 1, 2), 400, 4), side(stable, 400, 4), Config{}, VerdictPass, 100, Low, Pass},
		// 10% errors against 1%: the critical metric fails the canary.
		{"erroring", side(stable, 400, 40), side(stable, 400, 4), Config{}, VerdictFail, 0, Pass, High},
		// Every canary request failed: no latency to judge, but the
		// critical error metric still fails it.
		{"all errors", side(nil, 400, 400), side(stable, 400, 4), Config{}, VerdictFail, 0, NoData, High},
		// 1.05% against 1.00% over a million requests a side: z ≈ 3.5 but
		// half the 0.1-point tolerance.
		{"error rate within tolerance", side(stable, 1_000_000, 10_500), side(stable, 1_000_000, 10_000), Config{}, VerdictPass, 100, Pass, Pass},
		{"marginal", side(scaled(stable, 3, 2), 400, 4), side(stable, 400, 4),
			Config{Latency: MetricPolicy{Weight: 0.2}, ErrorRate: MetricPolicy{Weight: 0.8}}, VerdictMarginal, 80, High, Pass},
		{"critical latency", side(scaled(stable, 3, 2), 400, 4), side(stable, 400, 4),
			Config{Latency: MetricPolicy{Weight: 1, Critical: true}}, VerdictFail, 0, High, Pass},
	} {
		res, err := Evaluate(tc.canary, tc.stable, tc.cfg)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		got := []any{res.Verdict, res.Metrics[0].Classification, res.Metrics[1].Classification}
		want := []any{tc.verdict, tc.latency, tc.errs}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: got %v, want %v (%s)", tc.name, got, want, res.Reason)
				break
			}
		}
		switch {
		case tc.score < 0 && res.Score != nil:
			t.Errorf("%s: score %v, want none", tc.name, *res.Score)
		case tc.score >= 0 && (res.Score == nil || *res.Score != tc.score):
			t.Errorf("%s: score %v, want %v", tc.name, res.Score, tc.score)
		}
		if res.Reason == "" {
			t.Errorf("%s: no reason", tc.name)
		}
	}
}

func TestEvaluateEvidence(t *testing.T) {
	stable := spread(400, 100*time.Millisecond, time.Millisecond, 100)
	res, err := Evaluate(Side{Latencies: scaled(stable, 3, 2), Requests: 400, Errors: 8}, Side{Latencies: stable, Requests: 400, Errors: 4}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	l := res.Metrics[0].Latency
	// Baseline 100..199 ms four times: median 149.5, p95 at rank 379.05 of
	// 0..399 → 194 + 0.05 = 194.05 ms. The canary is the same times 1.5.
	if l.BaselineN != 400 || l.CanaryN != 400 || !near(l.BaselineMedianMS, 149.5) || !near(l.CanaryMedianMS, 224.25) ||
		!near(l.BaselineP95MS, 194.05) || !near(l.CanaryP95MS, 291.075) || !near(l.MedianRatio, 1.5) {
		t.Errorf("latency evidence: %+v", l)
	}
	if l.P >= 1e-10 || l.ShiftMS < 50 || l.ShiftMS > 100 || l.Method != "asymptotic" {
		t.Errorf("latency test: %+v", l)
	}
	e := res.Metrics[1].ErrorRate
	if e.CanaryErrors != 8 || e.BaselineErrors != 4 || !near(e.CanaryRate, 0.02) || !near(e.BaselineRate, 0.01) || !near(e.Difference, 0.01) || e.P < 0.05 {
		t.Errorf("error evidence: %+v", e)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"verdict":"fail"`, `"score":50`, `"classification":"High"`, `"canary_median_ms":224.25`, `"min_samples":50`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s: %s", key, b)
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{
		{Alpha: 1.5},
		{PassScore: 50, MarginalScore: 60},
		{PassScore: 120},
		{Latency: MetricPolicy{Weight: -1}},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: want an error", c)
		}
		if _, err := Evaluate(Side{}, Side{}, c); err == nil {
			t.Errorf("Evaluate with %+v: want an error", c)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
