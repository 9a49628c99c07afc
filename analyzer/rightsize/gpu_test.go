package rightsize

import (
	"testing"

	"github.com/vigil-dev/vigil/cost"
)

func gpu(model string, util, usedMiB, totalMiB float64) GPU {
	n := 200
	return GPU{ID: "GPU-1", Model: model,
		Util:   series(0, n, func(i int) float64 { return util * float64(i%10+1) / 10 }), // peaks at util
		FBUsed: series(0, n, constant(usedMiB)), FBFree: series(0, n, constant(totalMiB-usedMiB))}
}

func TestAdviseGPU(t *testing.T) {
	prices := GPUPrices(cost.DefaultInstances())
	// The reference's example: 30% and 18 GiB on an 80 GiB A100.
	a := AdviseGPU(gpu("NVIDIA A100-SXM4-80GB", 30, 18*1024, 80*1024), prices)
	if a.Model != "A100-80GB" || a.UtilP95 != 30 || a.PeakMemoryMiB != 18*1024 || a.MemoryMiB != 80*1024 {
		t.Fatalf("evidence = %+v", a)
	}
	got := map[string]string{}
	for _, o := range a.Options {
		got[o.Action] = o.Target
	}
	// 18 GiB × 1.2 = 21.6 GiB needs a 40 GiB slice (3g.40gb: 30% × 7/3 =
	// 70% ≤ 80%); two replicas fit (80/30 = 2.67, 80/21.6 = 3.7); 21.6 GiB
	// fits a 24 GiB GPU and 30% ≤ 30%.
	if got["mig"] != "3g.40gb" || got["pack"] != "2 replicas per GPU" || got["smaller-gpu"] == "" {
		t.Errorf("options = %+v", a.Options)
	}
	// A100-80GB is not in the built-in instance table: the default GPU
	// price, 0.95 $/h; a 3/7 slice saves 4/7 of it over 730 h.
	for _, o := range a.Options {
		if o.Action == "mig" && o.MonthlySaving.StringFixed(2) != "396.29" {
			t.Errorf("mig saving = %s, want 0.95 × 4/7 × 730 = 396.29", o.MonthlySaving)
		}
	}

	// A busy GPU gets no options.
	if a := AdviseGPU(gpu("NVIDIA H100 80GB HBM3", 90, 70*1024, 80*1024), prices); len(a.Options) != 0 {
		t.Errorf("busy GPU options = %+v", a.Options)
	}
	// A T4 cannot be sliced, nor is there a smaller GPU; 10% and 2 GiB pack
	// min(80/10, 15360/(2048 × 1.2)) = min(8, 6.25) = 6.
	a = AdviseGPU(gpu("Tesla T4", 10, 2048, 15360), prices)
	if len(a.Options) != 1 || a.Options[0].Target != "6 replicas per GPU" {
		t.Errorf("T4 options = %+v", a.Options)
	}
	// The T4's price comes from g4dn.xlarge's GPU share.
	if p, ok := prices("T4"); !ok || !p.IsPositive() {
		t.Errorf("T4 price = %s, %v", p, ok)
	}
}

func TestReplicasHPARule(t *testing.T) {
	// 4 replicas; 400 req/s with p95 200 ms (SLO 300 ms) → 100 req/s per
	// replica is the target. Load drops to 150 for 10 minutes, then 420.
	var thr, lat []Point
	for i := 0; i < 30; i++ {
		v, l := 400.0, 0.2
		switch {
		case i >= 10 && i < 20:
			v, l = 150, 0.1
		case i >= 20:
			v, l = 420, 0.35 // over the SLO: not evidence of capacity
		}
		thr = append(thr, Point{TimestampMsec: int64(i) * minute, Value: v})
		lat = append(lat, Point{TimestampMsec: int64(i) * minute, Value: l})
	}
	r := Replicas(ReplicaInput{Current: 4, Throughput: thr, Latency: lat, SLO: 0.3})
	// At 150 the HPA wants 2, held at 4 for the 5-minute window; at 420
	// from 2 replicas: ceil(2 × 210/100) = 5; then 420/5 = 84 per replica,
	// ratio 0.84 is outside the 10% band: ceil(5 × 0.84) = 5 (stays).
	if r.Target != 100 || r.Recommended != 5 || r.Peak != 5 {
		t.Errorf("replicas = %+v", r)
	}
	// Tolerance: 105 per replica (ratio 1.05) keeps 4.
	r = Replicas(ReplicaInput{Current: 4, Throughput: []Point{{TimestampMsec: 0, Value: 420}}, Target: 100})
	if r.Recommended != 4 {
		t.Errorf("within tolerance: %+v", r)
	}
	if r := Replicas(ReplicaInput{Current: 4, Throughput: thr, Latency: lat, SLO: 0.01}); r.Skipped == "" {
		t.Error("no sample met the SLO, yet a recommendation")
	}
}
