package cost

import (
	"testing"
)

// A node priced at exactly the default weights (1 GPU, 4 cores, 16 GiB:
// 0.95 + 4 x 0.031611 + 16 x 0.004237 = 1.144236 $/h) has the default unit
// prices, so every figure below is hand-computable.
func allocationFixture() ([]Container, map[string]Node) {
	nodes := map[string]Node{"n1": {Name: "n1", CPUCores: d("4"), RAMGiB: d("16"), GPUs: d("1"), HourlyCost: d("1.144236")}}
	cs := []Container{
		// chat: charged its CPU request (1 > 0.5), its RAM usage (3 > 2), the GPU.
		{Namespace: "chat", Pod: "vllm-0", Container: "vllm", Node: "n1", Hours: d("2"), CPURequest: d("1"), CPUUsage: d("0.5"), RAMRequest: d("2"), RAMUsage: d("3"), GPUs: d("1"), Labels: map[string]string{"team": "chat"}},
		// search: its CPU usage (1 > 0.5), its RAM request (4 > 1).
		{Namespace: "search", Pod: "api-0", Container: "api", Node: "n1", Hours: d("2"), CPURequest: d("0.5"), CPUUsage: d("1"), RAMRequest: d("4"), RAMUsage: d("1")},
		// kube-system, shared.
		{Namespace: "kube-system", Pod: "dns", Container: "coredns", Node: "n1", Hours: d("2"), CPURequest: d("1"), CPUUsage: d("0.2"), RAMRequest: d("2"), RAMUsage: d("1")},
	}
	return cs, nodes
}

func TestNodePriceSplit(t *testing.T) {
	p := Node{CPUCores: d("4"), RAMGiB: d("16"), GPUs: d("1"), HourlyCost: d("1.144236")}.Prices()
	if !p.CPUCoreHour.Equal(d("0.031611")) || !p.RAMGiBHour.Equal(d("0.004237")) || !p.GPUHour.Equal(d("0.95")) {
		t.Errorf("%+v", p)
	}
	// Twice the price, twice every unit price.
	p = Node{CPUCores: d("4"), RAMGiB: d("16"), GPUs: d("1"), HourlyCost: d("2.288472")}.Prices()
	if !p.GPUHour.Equal(d("1.9")) {
		t.Errorf("%+v", p)
	}
}

func TestAllocateByNamespace(t *testing.T) {
	cs, nodes := allocationFixture()
	got := Allocate(cs, nodes, d("2"), AllocationOptions{AggregateBy: "namespace", SharedNamespaces: []string{"kube-system"}})
	// chat: 2 core-h x 0.031611 + 6 GiB-h x 0.004237 + 2 GPU-h x 0.95 = 1.988644,
	// search: 2 x 0.031611 + 8 x 0.004237 = 0.097118; kube-system's 0.08017
	// split evenly; idle: 2 core-h and 14 GiB-h unallocated = 0.12254.
	want := map[string]string{"chat": "2.028729", "search": "0.137203", Idle: "0.12254"}
	if len(got) != 3 {
		t.Fatalf("%d rows: %+v", len(got), got)
	}
	sum := d("0")
	for _, a := range got {
		if !a.Total().Equal(d(want[a.Name])) {
			t.Errorf("%s = %s, want %s", a.Name, a.Total(), want[a.Name])
		}
		sum = sum.Add(a.Total())
	}
	// Everything the node cost over the window is accounted for.
	if !sum.Equal(d("2.288472")) {
		t.Errorf("sum %s, want the node's 2.288472", sum)
	}
	if got[0].Name != "chat" || !got[0].CPUEfficiency().Equal(d("0.5")) || !got[0].RAMEfficiency().Equal(d("1")) {
		t.Errorf("chat efficiency: cpu %s ram %s", got[0].CPUEfficiency(), got[0].RAMEfficiency())
	}
}

func TestAllocateShareIdleAndLabels(t *testing.T) {
	cs, nodes := allocationFixture()
	got := Allocate(cs, nodes, d("2"), AllocationOptions{AggregateBy: "label:team", ShareIdle: true, SplitByCost: true})
	sum := d("0")
	names := ""
	for _, a := range got {
		sum = sum.Add(a.Total())
		names += a.Name + " "
	}
	if names != "__unallocated__ chat " {
		t.Errorf("rows %q", names)
	}
	if !sum.Round(9).Equal(d("2.288472")) {
		t.Errorf("shared idle lost cost: %s", sum)
	}
	// A node that costs less than its allocations is never negative idle.
	over := map[string]Node{"n1": {CPUCores: d("1"), RAMGiB: d("1"), HourlyCost: d("1")}}
	for _, a := range Allocate(cs, over, d("2"), AllocationOptions{AggregateBy: "namespace"}) {
		if a.Total().IsNegative() {
			t.Errorf("negative %s: %s", a.Name, a.Total())
		}
	}
}

func TestInstanceTable(t *testing.T) {
	table := DefaultInstances()
	it, ok := table.Lookup("G5.XLARGE")
	if !ok || it.GPUs != 1 {
		t.Fatalf("%+v %v", it, ok)
	}
	n, err := it.Node("node-a")
	if err != nil {
		t.Fatal(err)
	}
	// 1.006 $/h split 4 x 0.031611 : 16 x 0.004237 : 0.95 -> the GPU's share.
	p := n.Prices()
	gpuShare := p.GPUHour.Div(n.HourlyCost).Round(6)
	if !gpuShare.Equal(d("0.830248")) { // 0.95 / 1.144236 = 0.8302483...
		t.Errorf("GPU share %s", gpuShare)
	}
	if err := table.Load([]byte("instances:\n  - type: custom\n    cpu_cores: 8\n    ram_gib: 32\n    hourly: cheap\n")); err == nil || err.Error() != `instances[0].hourly: instance type custom: hourly "cheap" is not a number` {
		t.Errorf("bad row: %v", err)
	}
}
