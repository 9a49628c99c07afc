package canary

import (
	"fmt"
	"time"
)

// Classification is Kayenta's per-metric outcome.
type Classification string

const (
	// High: the canary is significantly and materially above the baseline.
	High Classification = "High"
	// Low: significantly and materially below.
	Low Classification = "Low"
	// Pass: no difference that is both significant and material.
	Pass Classification = "Pass"
	// NoData: too few samples on a side to judge.
	NoData Classification = "NoData"
)

// Verdict is the overall outcome.
type Verdict string

const (
	VerdictPass     Verdict = "pass"
	VerdictMarginal Verdict = "marginal"
	VerdictFail     Verdict = "fail"
	// VerdictInconclusive: not enough data; the caller should wait or ask
	// a human, never promote.
	VerdictInconclusive Verdict = "inconclusive"
)

// Metric names.
const (
	MetricLatency   = "latency"
	MetricErrorRate = "error_rate"
)

// MetricPolicy weighs one metric in the score.
type MetricPolicy struct {
	Weight float64 `json:"weight"`
	// Critical: failing this metric fails the canary whatever the score.
	Critical bool `json:"critical"`
}

// Config tunes the judgement. The zero value of a field means its default.
type Config struct {
	// MinSamples is the fewest requests each side needs before a metric is
	// judged (default 50). Below it the metric is NoData. 50 is where the
	// normal approximation to U is already good and a handful of slow
	// requests cannot decide alone; raise it for noisy services.
	MinSamples int `json:"min_samples"`
	// Alpha is the significance level of both tests (default 0.05, i.e.
	// Kayenta's 95% confidence).
	Alpha float64 `json:"alpha"`
	// LatencyTolerance is the Hodges–Lehmann shift, as a fraction of the
	// baseline median, that a significant difference must exceed to count
	// (default 0.10: a canary 10% slower or less passes).
	LatencyTolerance float64 `json:"latency_tolerance"`
	// ErrorRateTolerance is the difference in error rate (a fraction, not
	// percent) that a significant difference must exceed (default 0.001,
	// a tenth of a percentage point).
	ErrorRateTolerance float64 `json:"error_rate_tolerance"`
	// PassScore and MarginalScore are Kayenta's thresholds on the 0–100
	// score (defaults 95 and 75).
	PassScore     float64 `json:"pass_score"`
	MarginalScore float64 `json:"marginal_score"`
	// Latency and ErrorRate weigh the metrics. Defaults: latency weight 1,
	// not critical; error rate weight 1, critical — a canary that errors
	// more is rolled back whatever its latency. With two metrics of equal
	// weight a single failing metric scores 50, so "marginal" needs
	// weights that make one metric worth less than a quarter.
	Latency   MetricPolicy `json:"latency"`
	ErrorRate MetricPolicy `json:"error_rate"`
}

// DefaultConfig is Config{} with every default filled in.
func DefaultConfig() Config { return Config{}.withDefaults() }

func (c Config) withDefaults() Config {
	if c.MinSamples <= 0 {
		c.MinSamples = 50
	}
	if c.Alpha <= 0 {
		c.Alpha = 0.05
	}
	if c.LatencyTolerance <= 0 {
		c.LatencyTolerance = 0.10
	}
	if c.ErrorRateTolerance <= 0 {
		c.ErrorRateTolerance = 0.001
	}
	if c.PassScore <= 0 {
		c.PassScore = 95
	}
	if c.MarginalScore <= 0 {
		c.MarginalScore = 75
	}
	if c.Latency == (MetricPolicy{}) {
		c.Latency = MetricPolicy{Weight: 1}
	}
	if c.ErrorRate == (MetricPolicy{}) {
		c.ErrorRate = MetricPolicy{Weight: 1, Critical: true}
	}
	return c
}

// Validate reports the first setting that cannot be used.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Alpha >= 1:
		return fmt.Errorf("alpha %v: want a level in (0, 1), e.g. 0.05", c.Alpha)
	case c.MarginalScore > c.PassScore || c.PassScore > 100:
		return fmt.Errorf("scores: want marginal_score ≤ pass_score ≤ 100, got %v and %v", c.MarginalScore, c.PassScore)
	case c.Latency.Weight < 0 || c.ErrorRate.Weight < 0:
		return fmt.Errorf("metric weights must not be negative")
	case c.Latency.Weight+c.ErrorRate.Weight == 0:
		return fmt.Errorf("metric weights: at least one must be positive")
	}
	return nil
}

// Side is what was observed of one deployment over the window.
type Side struct {
	// Latencies are durations of successful requests — all of them or a
	// random sample. Failed requests stay out: a canary that fails fast
	// must not look faster; its errors are the error-rate metric's.
	Latencies []time.Duration
	// Requests and Errors count every request in the window.
	Requests, Errors uint64
}

// Result is a judgement with its evidence.
type Result struct {
	Verdict Verdict `json:"verdict"`
	// Score is 0–100, the weighted share of metrics that passed; absent
	// when inconclusive.
	Score   *float64       `json:"score,omitempty"`
	Reason  string         `json:"reason"`
	Metrics []MetricResult `json:"metrics"`
	Config  Config         `json:"config"`
}

// MetricResult is one metric's judgement.
type MetricResult struct {
	Name           string         `json:"name"`
	Classification Classification `json:"classification"`
	// Failed: the classification counts against the canary. Both metrics
	// are worse when higher, so only High fails; Low is reported.
	Failed    bool             `json:"failed"`
	Weight    float64          `json:"weight"`
	Critical  bool             `json:"critical"`
	Reason    string           `json:"reason"`
	Latency   *LatencyEvidence `json:"latency,omitempty"`
	ErrorRate *ErrorEvidence   `json:"error_rate,omitempty"`
}

// LatencyEvidence is what the latency judgement rests on. Times are in
// milliseconds.
type LatencyEvidence struct {
	CanaryN          int     `json:"canary_n"`
	BaselineN        int     `json:"baseline_n"`
	CanaryMedianMS   float64 `json:"canary_median_ms"`
	BaselineMedianMS float64 `json:"baseline_median_ms"`
	CanaryP95MS      float64 `json:"canary_p95_ms"`
	BaselineP95MS    float64 `json:"baseline_p95_ms"`
	// U is the canary's Mann–Whitney statistic (SciPy's U1); P is
	// two-sided.
	U      float64 `json:"u"`
	Z      float64 `json:"z"`
	P      float64 `json:"p"`
	Method string  `json:"method"`
	// ShiftMS is the Hodges–Lehmann estimate of how much slower the
	// canary is; RelativeShift divides it by the baseline median, and is
	// what LatencyTolerance bounds.
	ShiftMS       float64 `json:"shift_ms"`
	RelativeShift float64 `json:"relative_shift"`
	MedianRatio   float64 `json:"median_ratio"`
}

// ErrorEvidence is what the error-rate judgement rests on.
type ErrorEvidence struct {
	CanaryRequests   uint64  `json:"canary_requests"`
	CanaryErrors     uint64  `json:"canary_errors"`
	BaselineRequests uint64  `json:"baseline_requests"`
	BaselineErrors   uint64  `json:"baseline_errors"`
	CanaryRate       float64 `json:"canary_rate"`
	BaselineRate     float64 `json:"baseline_rate"`
	// Difference is CanaryRate − BaselineRate, what ErrorRateTolerance
	// bounds.
	Difference float64 `json:"difference"`
	Z          float64 `json:"z"`
	P          float64 `json:"p"` // two-sided
}

// Evaluate judges canary against baseline. cfg must pass Validate.
func Evaluate(canary, baseline Side, cfg Config) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	cfg = cfg.withDefaults()
	lat, err := judgeLatency(canary, baseline, cfg)
	if err != nil {
		return Result{}, err
	}
	errRate, err := judgeErrors(canary, baseline, cfg)
	if err != nil {
		return Result{}, err
	}
	res := Result{Metrics: []MetricResult{lat, errRate}, Config: cfg}
	score(&res, cfg)
	return res, nil
}

// score applies Kayenta's rule: a failed critical metric fails the canary;
// otherwise the score is the weighted share of metrics that passed.
// Vigil adds that any metric without data makes the whole judgement
// inconclusive: a score over the metrics that happen to have data would
// let a canary with no traffic pass.
func score(res *Result, cfg Config) {
	var total, passed float64
	var noData []string
	for _, m := range res.Metrics {
		if m.Failed && m.Critical {
			zero := 0.0
			res.Verdict, res.Score = VerdictFail, &zero
			res.Reason = fmt.Sprintf("critical metric %s failed: %s", m.Name, m.Reason)
			return
		}
		if m.Classification == NoData {
			noData = append(noData, m.Name)
			continue
		}
		total += m.Weight
		if !m.Failed {
			passed += m.Weight
		}
	}
	if len(noData) > 0 {
		res.Verdict = VerdictInconclusive
		res.Reason = fmt.Sprintf("not enough data for %v (at least %d requests a side are needed)", noData, cfg.MinSamples)
		return
	}
	s := 100 * passed / total
	res.Score = &s
	switch {
	case s >= cfg.PassScore:
		res.Verdict = VerdictPass
	case s >= cfg.MarginalScore:
		res.Verdict = VerdictMarginal
	default:
		res.Verdict = VerdictFail
	}
	var failed []string
	for _, m := range res.Metrics {
		if m.Failed {
			failed = append(failed, m.Name+": "+m.Reason)
		}
	}
	res.Reason = fmt.Sprintf("score %.1f (pass ≥ %g, marginal ≥ %g)", s, cfg.PassScore, cfg.MarginalScore)
	if len(failed) > 0 {
		res.Reason += fmt.Sprintf("; failed %v", failed)
	}
}

func millis(sorted []float64, q float64) float64 { return quantile(sorted, q) / 1e6 }

func judgeLatency(canary, baseline Side, cfg Config) (MetricResult, error) {
	m := MetricResult{Name: MetricLatency, Weight: cfg.Latency.Weight, Critical: cfg.Latency.Critical}
	c, b := nanos(canary.Latencies), nanos(baseline.Latencies)
	if len(c) < cfg.MinSamples || len(b) < cfg.MinSamples {
		m.Classification = NoData
		m.Reason = fmt.Sprintf("%d successful canary and %d baseline requests; %d a side are needed", len(c), len(b), cfg.MinSamples)
		return m, nil
	}
	mw, err := MannWhitneyU(c, b, TwoSided, Auto)
	if err != nil {
		return m, fmt.Errorf("latency: %w", err)
	}
	ev := &LatencyEvidence{
		CanaryN: len(c), BaselineN: len(b),
		CanaryMedianMS: millis(c, 0.5), BaselineMedianMS: millis(b, 0.5),
		CanaryP95MS: millis(c, 0.95), BaselineP95MS: millis(b, 0.95),
		U: mw.U1, Z: mw.Z, P: mw.P, Method: mw.Method.String(),
		ShiftMS: HodgesLehmann(c, b) / 1e6,
	}
	if ev.BaselineMedianMS > 0 {
		ev.RelativeShift = ev.ShiftMS / ev.BaselineMedianMS
		ev.MedianRatio = ev.CanaryMedianMS / ev.BaselineMedianMS
	}
	m.Latency = ev
	significant := mw.P < cfg.Alpha
	// A zero baseline median makes the relative shift meaningless; any
	// significant positive shift then counts.
	material := ev.BaselineMedianMS <= 0 && ev.ShiftMS != 0 ||
		ev.RelativeShift > cfg.LatencyTolerance || ev.RelativeShift < -cfg.LatencyTolerance
	switch {
	case significant && material && ev.ShiftMS > 0:
		m.Classification, m.Failed = High, true
		m.Reason = fmt.Sprintf("canary is slower by %.3g ms (%.1f%% of the baseline median, tolerance %.1f%%), p = %.3g", ev.ShiftMS, 100*ev.RelativeShift, 100*cfg.LatencyTolerance, mw.P)
	case significant && material && ev.ShiftMS < 0:
		m.Classification = Low
		m.Reason = fmt.Sprintf("canary is faster by %.3g ms, p = %.3g", -ev.ShiftMS, mw.P)
	case significant:
		m.Classification = Pass
		m.Reason = fmt.Sprintf("a shift of %.3g ms (%.1f%%) is significant (p = %.3g) but within the %.1f%% tolerance", ev.ShiftMS, 100*ev.RelativeShift, mw.P, 100*cfg.LatencyTolerance)
	default:
		m.Classification = Pass
		m.Reason = fmt.Sprintf("no significant difference (p = %.3g ≥ %g)", mw.P, cfg.Alpha)
	}
	return m, nil
}

// nanos converts durations to sorted float64 nanoseconds; float64 holds
// integers exactly up to 2⁵³ ns, about 104 days.
func nanos(d []time.Duration) []float64 {
	out := make([]float64, len(d))
	for i, v := range d {
		out[i] = float64(v)
	}
	return sortedCopy(out)
}

func judgeErrors(canary, baseline Side, cfg Config) (MetricResult, error) {
	m := MetricResult{Name: MetricErrorRate, Weight: cfg.ErrorRate.Weight, Critical: cfg.ErrorRate.Critical}
	min := uint64(cfg.MinSamples)
	if canary.Requests < min || baseline.Requests < min {
		m.Classification = NoData
		m.Reason = fmt.Sprintf("%d canary and %d baseline requests; %d a side are needed", canary.Requests, baseline.Requests, cfg.MinSamples)
		return m, nil
	}
	z, err := TwoProportionZ(canary.Errors, canary.Requests, baseline.Errors, baseline.Requests, TwoSided)
	if err != nil {
		return m, fmt.Errorf("error rate: %w", err)
	}
	ev := &ErrorEvidence{
		CanaryRequests: canary.Requests, CanaryErrors: canary.Errors,
		BaselineRequests: baseline.Requests, BaselineErrors: baseline.Errors,
		CanaryRate: z.P1, BaselineRate: z.P2, Difference: z.P1 - z.P2, Z: z.Z, P: z.P,
	}
	m.ErrorRate = ev
	significant := z.P < cfg.Alpha
	switch {
	case significant && ev.Difference > cfg.ErrorRateTolerance:
		m.Classification, m.Failed = High, true
		m.Reason = fmt.Sprintf("canary error rate %.3g%% against %.3g%% (tolerance %.3g points), p = %.3g", 100*ev.CanaryRate, 100*ev.BaselineRate, 100*cfg.ErrorRateTolerance, z.P)
	case significant && ev.Difference < -cfg.ErrorRateTolerance:
		m.Classification = Low
		m.Reason = fmt.Sprintf("canary error rate %.3g%% is below the baseline's %.3g%%, p = %.3g", 100*ev.CanaryRate, 100*ev.BaselineRate, z.P)
	case significant:
		m.Classification = Pass
		m.Reason = fmt.Sprintf("error rates %.3g%% and %.3g%% differ significantly (p = %.3g) but within %.3g points", 100*ev.CanaryRate, 100*ev.BaselineRate, z.P, 100*cfg.ErrorRateTolerance)
	default:
		m.Classification = Pass
		m.Reason = fmt.Sprintf("no significant difference in error rate (%.3g%% vs %.3g%%, p = %.3g)", 100*ev.CanaryRate, 100*ev.BaselineRate, z.P)
	}
	return m, nil
}
