package rightsize

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/cost"
)

// GPU is one GPU's DCGM series over the history.
type GPU struct {
	ID    string // UUID or index
	Model string // DCGM's modelName, e.g. "NVIDIA A100-SXM4-80GB"
	// Util is DCGM_FI_DEV_GPU_UTIL (percent); FBUsed and FBFree are
	// DCGM_FI_DEV_FB_USED / _FREE (MiB).
	Util, FBUsed, FBFree []Point
}

// The thresholds of GPU advice. A replica that keeps p95 utilisation at or
// under 40% and its peak frame buffer (plus 20% headroom for KV-cache
// growth) within half the GPU can share it with a second replica and stay
// under 80% busy, the level past which time-slicing starts to hurt latency.
// A smaller GPU is only suggested at 30% or less, because smaller GPUs are
// also slower: an L4 or A10G has roughly a third of an A100's throughput.
const (
	GPUPackUtil        = 40.0 // p95 %
	GPUBusyCeiling     = 80.0 // % a shared GPU or slice may reach
	GPUMemoryHeadroom  = 1.2
	GPUSmallerUtil     = 30.0
	gpuSmallerMemoryGi = 24.0 // L4, A10G
)

// migProfiles are the MIG slices of each MIG-capable GPU: compute sevenths
// and memory in GiB, smallest first.
var migProfiles = map[string][]struct {
	name     string
	sevenths int
	memGiB   float64
}{
	"A100-40GB": {{"1g.5gb", 1, 5}, {"2g.10gb", 2, 10}, {"3g.20gb", 3, 20}, {"4g.20gb", 4, 20}},
	"A100-80GB": {{"1g.10gb", 1, 10}, {"2g.20gb", 2, 20}, {"3g.40gb", 3, 40}, {"4g.40gb", 4, 40}},
	"H100-80GB": {{"1g.10gb", 1, 10}, {"1g.20gb", 1, 20}, {"2g.20gb", 2, 20}, {"3g.40gb", 3, 40}, {"4g.40gb", 4, 40}},
	"A30-24GB":  {{"1g.6gb", 1, 6}, {"2g.12gb", 2, 12}},
}

// GPUModel normalises DCGM's modelName to the names price tables use
// (T4, A10G, L4, A100-40GB, A100-80GB, H100-80GB, A30-24GB).
func GPUModel(name string) string {
	n := strings.ToUpper(name)
	switch {
	case strings.Contains(n, "A100"):
		if strings.Contains(n, "80G") {
			return "A100-80GB"
		}
		return "A100-40GB"
	case strings.Contains(n, "H100"):
		return "H100-80GB"
	case strings.Contains(n, "A30"):
		return "A30-24GB"
	case strings.Contains(n, "A10G"):
		return "A10G"
	case strings.Contains(n, "L40S"):
		return "L40S"
	case strings.Contains(n, "L4"):
		return "L4"
	case strings.Contains(n, "T4"):
		return "T4"
	}
	return name
}

// GPUOption is one way to spend less on a GPU.
type GPUOption struct {
	Action string `json:"action"` // mig, pack or smaller-gpu
	Target string `json:"target"` // a MIG profile, "N replicas per GPU" or a GPU model
	// Fraction is the share of today's GPU the workload would pay for.
	Fraction      float64          `json:"fraction"`
	MonthlySaving *decimal.Decimal `json:"monthly_saving,omitempty"`
	Reason        string           `json:"reason"`
}

// GPUAdvice is the evidence and the options for one GPU.
type GPUAdvice struct {
	GPU           string      `json:"gpu"`
	Model         string      `json:"model"`
	UtilP95       float64     `json:"util_p95"`
	PeakMemoryMiB float64     `json:"peak_memory_mib"`
	MemoryMiB     float64     `json:"memory_mib"`
	Samples       int         `json:"samples"`
	Options       []GPUOption `json:"options"` // best saving first
}

// AdviseGPU grades one GPU's utilisation and frame-buffer use. prices
// finds a GPU model's hourly price (per GPU); nil or a missing model uses
// cost.DefaultResourcePrices.GPUHour, and a smaller GPU is then offered
// without a saving.
func AdviseGPU(g GPU, prices func(model string) (decimal.Decimal, bool)) GPUAdvice {
	a := GPUAdvice{GPU: g.ID, Model: GPUModel(g.Model), Samples: len(g.Util)}
	if len(g.Util) == 0 || len(g.FBUsed) == 0 {
		return a
	}
	a.UtilP95 = Quantile(0.95, values(g.Util, nil))
	for _, p := range g.FBUsed {
		a.PeakMemoryMiB = max(a.PeakMemoryMiB, p.Value)
	}
	// Total frame buffer: used + free at the same sample; take the largest.
	free := map[int64]float64{}
	for _, p := range g.FBFree {
		free[p.TimestampMsec] = p.Value
	}
	for _, p := range g.FBUsed {
		if f, ok := free[p.TimestampMsec]; ok {
			a.MemoryMiB = max(a.MemoryMiB, p.Value+f)
		}
	}
	if a.MemoryMiB == 0 {
		return a
	}
	hourly := cost.DefaultResourcePrices.GPUHour
	if prices != nil {
		if h, ok := prices(a.Model); ok {
			hourly = h
		}
	}
	saving := func(fraction float64) *decimal.Decimal {
		s := hourly.Mul(decimal.NewFromFloat(1 - fraction)).Mul(decimal.NewFromInt(HoursPerMonth)).Round(cost.MoneyPlaces)
		return &s
	}
	need := a.PeakMemoryMiB * GPUMemoryHeadroom

	// A MIG slice: the smallest with the memory and enough compute to stay
	// under the ceiling (utilisation measured on the whole GPU grows by
	// 7/sevenths on a slice).
	for _, p := range migProfiles[a.Model] {
		if p.memGiB*1024 >= need && a.UtilP95*7/float64(p.sevenths) <= GPUBusyCeiling {
			f := float64(p.sevenths) / 7
			a.Options = append(a.Options, GPUOption{Action: "mig", Target: p.name, Fraction: f, MonthlySaving: saving(f),
				Reason: fmt.Sprintf("p95 utilisation %.1f%% and peak memory %.0f MiB (+20%%) fit a %s slice", a.UtilP95, a.PeakMemoryMiB, p.name)})
			break
		}
	}
	// Packing replicas by time-slicing or MPS.
	if a.UtilP95 <= GPUPackUtil && need <= a.MemoryMiB/2 {
		k := int(math.Min(math.Floor(GPUBusyCeiling/math.Max(a.UtilP95, 1)), math.Floor(a.MemoryMiB/need)))
		if k >= 2 {
			f := 1 / float64(k)
			a.Options = append(a.Options, GPUOption{Action: "pack", Target: fmt.Sprintf("%d replicas per GPU", k), Fraction: f, MonthlySaving: saving(f),
				Reason: fmt.Sprintf("p95 utilisation %.1f%% ≤ %g%% and peak memory %.0f MiB (+20%%) ≤ half of %.0f MiB", a.UtilP95, GPUPackUtil, a.PeakMemoryMiB, a.MemoryMiB)})
		}
	}
	// A smaller GPU with 24 GiB.
	if a.UtilP95 <= GPUSmallerUtil && need <= gpuSmallerMemoryGi*1024 && a.MemoryMiB > 1.5*gpuSmallerMemoryGi*1024 {
		o := GPUOption{Action: "smaller-gpu", Target: "L4 or A10G (24 GiB)",
			Reason: fmt.Sprintf("p95 utilisation %.1f%% ≤ %g%% and peak memory %.0f MiB (+20%%) fit 24 GiB", a.UtilP95, GPUSmallerUtil, a.PeakMemoryMiB)}
		if prices != nil {
			if small, ok := prices("A10G"); ok && hourly.IsPositive() {
				f, _ := small.Div(hourly).Float64()
				if f < 1 {
					o.Fraction, o.MonthlySaving = f, saving(f)
					o.Target = "A10G (24 GiB)"
				}
			}
		}
		a.Options = append(a.Options, o)
	}
	sort.SliceStable(a.Options, func(i, j int) bool {
		si, sj := a.Options[i].MonthlySaving, a.Options[j].MonthlySaving
		if si == nil || sj == nil {
			return si != nil
		}
		return si.GreaterThan(*sj)
	})
	return a
}

// GPUPrices prices a GPU model from an instance table: the GPU's share of
// the cheapest instance type with that model, split by the default price
// ratios as allocation splits a node's price.
func GPUPrices(t cost.InstanceTable) func(model string) (decimal.Decimal, bool) {
	return func(model string) (decimal.Decimal, bool) {
		var best decimal.Decimal
		found := false
		for _, it := range t {
			if it.GPUs == 0 || GPUModel(it.GPUModel) != model {
				continue
			}
			n, err := it.Node("")
			if err != nil {
				continue
			}
			p := n.Prices().GPUHour
			if !found || p.LessThan(best) {
				best, found = p, true
			}
		}
		return best, found
	}
}
