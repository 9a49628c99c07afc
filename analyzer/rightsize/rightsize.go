// Package rightsize turns container usage history into resource and scaling
// recommendations: CPU and memory requests and limits by the formulas of
// Robusta KRR ("simple"), the Kubernetes VPA recommender and Kubecost's
// request sizing; GPU advice (a smaller GPU, a MIG slice or packing
// replicas) from DCGM series; and replica counts by the HPA rule. Patches
// turns recommendations into Kubernetes strategic-merge patches.
//
// The strategies are pure functions over per-container sample series, so
// they are tested on hand-computed series and benchmarked in memory; the
// Recommender reads those series from the store. Job advises on the
// workloads the config directory's rightsize: section names (Section), as
// rightsize.advice events the actions act on.
package rightsize

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/cost"
)

// Point is one sample: a time in Unix milliseconds and a value. It is the
// shape cost's Kubernetes allocation reads metrics in.
type Point = cost.Point

// Units used throughout: CPU in cores, memory in bytes.
const (
	MiB = 1 << 20
	GiB = 1 << 30
	// HoursPerMonth is the month savings are priced over (365 × 24 / 12).
	HoursPerMonth = 730
)

// Pod is one pod's usage of a container, oldest sample first.
type Pod struct {
	Name string
	// CPU is usage in cores (already a rate: see CounterRates).
	CPU []Point
	// Memory is the working set in bytes.
	Memory []Point
}

// OOMKill is a container killed for running out of memory, with the
// memory limit and request it had then (0 when unset).
type OOMKill struct {
	Pod           string
	TimestampMsec int64
	Limit         float64
	Request       float64
}

// Resources are a container's requests and limits; 0 means unset.
type Resources struct {
	CPURequest, CPULimit       float64 // cores
	MemoryRequest, MemoryLimit float64 // bytes
}

// Container is the usage history of one container of a workload, across
// the workload's pods: what every strategy takes.
type Container struct {
	Namespace string
	Kind      string // Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod or Unknown
	Workload  string
	Name      string // the container's name
	Pods      []Pod
	Current   Resources
	OOMKills  []OOMKill
	// Replicas is how many pods run the container now, for savings.
	Replicas int
	// PodContainers is how many containers the workload's pods have, for
	// the VPA's per-pod floors; 0 counts as 1.
	PodContainers int
	// Prices are the unit prices of the node the container runs on; zero
	// means cost.DefaultResourcePrices.
	Prices cost.ResourcePrices
}

// ID is namespace/kind/workload/container.
func (c *Container) ID() string {
	return c.Namespace + "/" + c.Kind + "/" + c.Workload + "/" + c.Name
}

// Severity says how far the current value is from the recommendation, as
// KRR grades it.
type Severity string

const (
	SeverityUnknown  Severity = "UNKNOWN"
	SeverityGood     Severity = "GOOD"
	SeverityOK       Severity = "OK"
	SeverityWarning  Severity = "WARNING"
	SeverityCritical Severity = "CRITICAL"
)

var severityRank = map[Severity]int{SeverityUnknown: 0, SeverityGood: 1, SeverityOK: 2, SeverityWarning: 3, SeverityCritical: 4}

// Worse returns the more severe of two severities.
func Worse(a, b Severity) Severity {
	if severityRank[b] > severityRank[a] {
		return b
	}
	return a
}

// severity grades |current - recommended| against KRR's thresholds
// (CPU 0.1 / 0.25 / 0.5 cores, memory 100 / 250 / 500 MiB). A value set on
// one side only is a warning, unset on both is good.
func severity(resource Resource, current, recommended float64) Severity {
	if current == 0 && recommended == 0 {
		return SeverityGood
	}
	if current == 0 || recommended == 0 {
		return SeverityWarning
	}
	t := [3]float64{0.1, 0.25, 0.5}
	if resource == Memory {
		t = [3]float64{100 * MiB, 250 * MiB, 500 * MiB}
	}
	d := math.Abs(current - recommended)
	switch {
	case d >= t[2]:
		return SeverityCritical
	case d >= t[1]:
		return SeverityWarning
	case d >= t[0]:
		return SeverityOK
	}
	return SeverityGood
}

// Evidence is what a recommended value was computed from.
type Evidence struct {
	// Statistic names what was taken, e.g. "max over pods of p95" or
	// "decaying histogram p90".
	Statistic string  `json:"statistic"`
	Value     float64 `json:"value"` // the statistic before margins and floors
	// Percentiles used, as fractions (0.95).
	Percentiles []float64 `json:"percentiles,omitempty"`
	Samples     int       `json:"samples"`
	Pods        int       `json:"pods"`
	// HistorySeconds is the time from the first to the last sample.
	HistorySeconds float64 `json:"history_seconds"`
	// Bounds are the VPA's lower and upper bounds, in the value's unit.
	LowerBound *float64 `json:"lower_bound,omitempty"`
	UpperBound *float64 `json:"upper_bound,omitempty"`
	OOMKills   int      `json:"oom_kills,omitempty"`
}

// Resource is a container resource Vigil sizes, named as Kubernetes
// names it.
type Resource string

const (
	CPU    Resource = "cpu"    // in cores
	Memory Resource = "memory" // in bytes
)

// Setting is which of a container's settings for a resource a value is.
type Setting string

const (
	Request Setting = "request"
	Limit   Setting = "limit"
)

// Value is one resource setting (a CPU or memory request or limit): its
// current and recommended values in cores or bytes, 0 meaning unset.
type Value struct {
	Resource Resource `json:"resource"`
	Setting  Setting  `json:"setting"`
	// Current and Recommended are cores or bytes; 0 is unset ("no CPU
	// limit" is a recommendation too).
	Current     float64 `json:"current"`
	Recommended float64 `json:"recommended"`
	// The same as Kubernetes quantities ("587m", "320Mi"); empty is unset.
	CurrentQuantity     string   `json:"current_quantity"`
	RecommendedQuantity string   `json:"recommended_quantity"`
	Severity            Severity `json:"severity"`
	Evidence            Evidence `json:"evidence"`
	// Skipped says why there is no recommendation (Recommended is then
	// the current value), e.g. too few samples.
	Skipped string `json:"skipped,omitempty"`
}

// Recommendation is one strategy's advice for one container.
type Recommendation struct {
	Namespace string  `json:"namespace"`
	Kind      string  `json:"kind"`
	Workload  string  `json:"workload"`
	Container string  `json:"container"`
	Strategy  string  `json:"strategy"`
	Replicas  int     `json:"replicas"`
	Values    []Value `json:"values"`
	// MonthlySaving is (current - recommended) requested resources ×
	// unit price × 730 h × replicas, in USD; negative when the
	// recommendation asks for more. Limits are not charged.
	MonthlySaving decimal.Decimal `json:"monthly_saving"`
	Severity      Severity        `json:"severity"`
	// GPUs is advice for the GPUs the container's pods used.
	GPUs []GPUAdvice `json:"gpus,omitempty"`
}

// Get returns the value for resource and setting.
func (r *Recommendation) Get(resource Resource, setting Setting) (Value, bool) {
	for _, v := range r.Values {
		if v.Resource == resource && v.Setting == setting {
			return v, true
		}
	}
	return Value{}, false
}

// finish grades the recommendation and prices it.
func (r *Recommendation) finish(c *Container) {
	r.Severity = SeverityUnknown
	for i := range r.Values {
		v := &r.Values[i]
		v.CurrentQuantity, v.RecommendedQuantity = Quantity(v.Resource, v.Current), Quantity(v.Resource, v.Recommended)
		r.Severity = Worse(r.Severity, v.Severity)
	}
	p := c.Prices
	if p.CPUCoreHour.IsZero() && p.RAMGiBHour.IsZero() {
		p = cost.DefaultResourcePrices
	}
	saving := decimal.Zero
	if v, ok := r.Get(CPU, Request); ok && v.Skipped == "" {
		saving = saving.Add(MonthlySaving(v.Current, v.Recommended, p.CPUCoreHour, r.Replicas))
	}
	if v, ok := r.Get(Memory, Request); ok && v.Skipped == "" {
		saving = saving.Add(MonthlySaving(v.Current/GiB, v.Recommended/GiB, p.RAMGiBHour, r.Replicas))
	}
	r.MonthlySaving = saving.Round(cost.MoneyPlaces)
}

// MonthlySaving is (current - recommended) × unit price × 730 h × replicas.
// A container with no current request is charged nothing today, so
// recommending one saves nothing (it costs the difference).
func MonthlySaving(current, recommended float64, unitHourly decimal.Decimal, replicas int) decimal.Decimal {
	if replicas < 1 {
		replicas = 1
	}
	d := decimal.NewFromFloat(current).Sub(decimal.NewFromFloat(recommended))
	return d.Mul(unitHourly).Mul(decimal.NewFromInt(HoursPerMonth * int64(replicas)))
}

func newRecommendation(c *Container, strategy string) Recommendation {
	replicas := c.Replicas
	if replicas < 1 {
		replicas = 1
	}
	return Recommendation{Namespace: c.Namespace, Kind: c.Kind, Workload: c.Workload, Container: c.Name, Strategy: strategy, Replicas: replicas}
}

// Quantity formats cores or bytes as a Kubernetes quantity: CPU in
// millicores ("587m"), memory in Mi when it is a whole number of MiB,
// otherwise in bytes.
func Quantity(resource Resource, v float64) string {
	if v == 0 {
		return ""
	}
	if resource == CPU {
		return strconv.FormatInt(int64(math.Round(v*1000)), 10) + "m"
	}
	b := int64(math.Round(v))
	if b%MiB == 0 {
		return strconv.FormatInt(b/MiB, 10) + "Mi"
	}
	return strconv.FormatInt(b, 10)
}

// ceilTo rounds v up to a multiple of unit, tolerating float noise just
// above a multiple (0.4 cores is 400m, not 401m).
func ceilTo(v, unit float64) float64 {
	q := v / unit
	if r := math.Round(q); math.Abs(q-r) < 1e-9 {
		return r * unit
	}
	return math.Ceil(q) * unit
}

// floorTo rounds v down to a multiple of unit, with ceilTo's tolerance.
func floorTo(v, unit float64) float64 {
	q := v / unit
	if r := math.Round(q); math.Abs(q-r) < 1e-9 {
		return r * unit
	}
	return math.Floor(q) * unit
}

// span is the time from the first to the last point over every series,
// and the number of points.
func span(series ...[]Point) (time.Duration, int) {
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	n := 0
	for _, ps := range series {
		if len(ps) == 0 {
			continue
		}
		n += len(ps)
		first = min(first, ps[0].TimestampMsec)
		last = max(last, ps[len(ps)-1].TimestampMsec)
	}
	if n == 0 {
		return 0, 0
	}
	return time.Duration(last-first) * time.Millisecond, n
}

// Quantile is Prometheus' quantile_over_time: the φ-quantile of values by
// linear interpolation between the closest ranks (rank φ×(n-1)). It sorts
// a copy; NaN for no values.
func Quantile(phi float64, values []float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), values...)
	sort.Float64s(s)
	return sortedQuantile(phi, s)
}

func sortedQuantile(phi float64, s []float64) float64 {
	n := float64(len(s))
	rank := phi * (n - 1)
	lo := math.Max(0, math.Floor(rank))
	hi := math.Min(n-1, lo+1)
	w := rank - lo
	return s[int(lo)]*(1-w) + s[int(hi)]*w
}

// selectQuantile is Quantile over vs, reordering vs in place: it selects
// the two ranks it needs (quickselect, linear time) instead of sorting.
func selectQuantile(phi float64, vs []float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	rank := phi * float64(len(vs)-1)
	lo := int(math.Max(0, math.Floor(rank)))
	if lo > len(vs)-1 {
		lo = len(vs) - 1
	}
	nthElement(vs, lo)
	a := vs[lo]
	w := rank - float64(lo)
	if w == 0 || lo == len(vs)-1 {
		return a
	}
	// The next rank is the smallest value after lo.
	b := vs[lo+1]
	for _, v := range vs[lo+2:] {
		b = min(b, v)
	}
	return a*(1-w) + b*w
}

// nthElement reorders vs so vs[k] is the value a sort would put there, with
// no larger value before it and no smaller one after it.
func nthElement(vs []float64, k int) {
	lo, hi := 0, len(vs)-1
	for lo < hi {
		// Median of three as the pivot keeps sorted input linear.
		mid := lo + (hi-lo)/2
		if vs[mid] < vs[lo] {
			vs[mid], vs[lo] = vs[lo], vs[mid]
		}
		if vs[hi] < vs[lo] {
			vs[hi], vs[lo] = vs[lo], vs[hi]
		}
		if vs[hi] < vs[mid] {
			vs[hi], vs[mid] = vs[mid], vs[hi]
		}
		pivot := vs[mid]
		i, j := lo, hi
		for i <= j {
			for vs[i] < pivot {
				i++
			}
			for vs[j] > pivot {
				j--
			}
			if i <= j {
				vs[i], vs[j] = vs[j], vs[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
}

func values(ps []Point, buf []float64) []float64 {
	if cap(buf) < len(ps) {
		buf = make([]float64, 0, len(ps))
	}
	buf = buf[:0]
	for _, p := range ps {
		buf = append(buf, p.Value)
	}
	return buf
}

// CounterRates turns a counter's samples into per-second rates over steps
// of at least step (KRR's rate over its 1.25-minute step): a rate is
// emitted at each sample that is step or more after the last emitted one,
// over the increase since then, counting a drop as a restart from zero as
// Prometheus does. step 0 rates every pair of samples.
func CounterRates(ps []Point, step time.Duration) []Point {
	if len(ps) < 2 {
		return nil
	}
	out := make([]Point, 0, len(ps)-1)
	stepMs := step.Milliseconds()
	base, inc := ps[0], 0.0
	for i := 1; i < len(ps); i++ {
		d := ps[i].Value - ps[i-1].Value
		if d < 0 {
			d = ps[i].Value
		}
		inc += d
		dt := ps[i].TimestampMsec - base.TimestampMsec
		if dt <= 0 || dt < stepMs {
			continue
		}
		out = append(out, Point{TimestampMsec: ps[i].TimestampMsec, Value: inc / (float64(dt) / 1000)})
		base, inc = ps[i], 0
	}
	return out
}

// Strategy computes one container's recommendation. Recommend must be
// safe for concurrent use: the Recommender computes containers in
// parallel.
type Strategy interface {
	Name() string
	Recommend(c *Container) Recommendation
}

// StrategyByName returns simple (KRR), vpa or kubecost with default
// settings; kubecost takes a profile after a colon (kubecost:production).
func StrategyByName(name string) (Strategy, error) {
	switch name {
	case "", "simple", "krr":
		return Simple{}, nil
	case "vpa":
		return VPA{}, nil
	case "kubecost":
		return Kubecost{}, nil
	}
	if p, ok := strings.CutPrefix(name, "kubecost:"); ok {
		k, err := KubecostProfile(p)
		if err != nil {
			return nil, err
		}
		return k, nil
	}
	return nil, fmt.Errorf("unknown strategy %q: want simple, vpa or kubecost", name)
}
