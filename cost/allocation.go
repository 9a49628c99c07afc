package cost

import (
	"sort"

	"github.com/shopspring/decimal"
)

// ResourcePrices are hourly unit prices of a node's resources.
type ResourcePrices struct {
	CPUCoreHour decimal.Decimal
	RAMGiBHour  decimal.Decimal
	GPUHour     decimal.Decimal
}

// DefaultResourcePrices are OpenCost's default unit prices, used as the
// ratios for splitting a whole-node price: CPU 0.031611 $/core-hour, RAM
// 0.004237 $/GiB-hour, GPU 0.95 $/GPU-hour.
var DefaultResourcePrices = ResourcePrices{
	CPUCoreHour: decimal.RequireFromString("0.031611"),
	RAMGiBHour:  decimal.RequireFromString("0.004237"),
	GPUHour:     decimal.RequireFromString("0.95"),
}

// Node is a machine's capacity and what it costs an hour.
type Node struct {
	Name       string
	CPUCores   decimal.Decimal
	RAMGiB     decimal.Decimal
	GPUs       decimal.Decimal
	HourlyCost decimal.Decimal // the whole node, e.g. its instance price
}

// Prices splits the node's hourly cost over its resources in the default
// price ratios, as OpenCost does when only a whole-node price is known.
func (n Node) Prices() ResourcePrices {
	d := DefaultResourcePrices
	weight := n.CPUCores.Mul(d.CPUCoreHour).Add(n.RAMGiB.Mul(d.RAMGiBHour)).Add(n.GPUs.Mul(d.GPUHour))
	if !weight.IsPositive() {
		return ResourcePrices{}
	}
	scale := n.HourlyCost.Div(weight)
	return ResourcePrices{CPUCoreHour: d.CPUCoreHour.Mul(scale), RAMGiBHour: d.RAMGiBHour.Mul(scale), GPUHour: d.GPUHour.Mul(scale)}
}

// Container is one container's requests and average usage over a window.
type Container struct {
	Namespace, Pod, Container, Node string
	Labels                          map[string]string
	Hours                           decimal.Decimal // how long it ran in the window
	CPURequest, CPUUsage            decimal.Decimal // cores
	RAMRequest, RAMUsage            decimal.Decimal // GiB
	GPUs                            decimal.Decimal // allocated
}

// Allocation is what a container (or an aggregate of them) is charged.
type Allocation struct {
	Name                                string // the aggregate's key, or namespace/pod/container
	CPUCoreHours, RAMGiBHours, GPUHours decimal.Decimal
	CPUCost, RAMCost, GPUCost           decimal.Decimal
	// SharedCost is this aggregate's part of the shared namespaces' cost.
	SharedCost decimal.Decimal
	// Usage-weighted resource hours, for efficiency (usage / charged).
	CPUUsedHours, RAMUsedHours decimal.Decimal
}

// Total is the allocation's cost.
func (a Allocation) Total() decimal.Decimal {
	return a.CPUCost.Add(a.RAMCost).Add(a.GPUCost).Add(a.SharedCost)
}

// CPUEfficiency is CPU used over CPU charged; 0 without charge.
func (a Allocation) CPUEfficiency() decimal.Decimal { return ratio(a.CPUUsedHours, a.CPUCoreHours) }

// RAMEfficiency is RAM used over RAM charged.
func (a Allocation) RAMEfficiency() decimal.Decimal { return ratio(a.RAMUsedHours, a.RAMGiBHours) }

func ratio(a, b decimal.Decimal) decimal.Decimal {
	if !b.IsPositive() {
		return decimal.Zero
	}
	return a.Div(b).Round(4)
}

func (a *Allocation) add(b Allocation) {
	a.CPUCoreHours, a.RAMGiBHours, a.GPUHours = a.CPUCoreHours.Add(b.CPUCoreHours), a.RAMGiBHours.Add(b.RAMGiBHours), a.GPUHours.Add(b.GPUHours)
	a.CPUCost, a.RAMCost, a.GPUCost = a.CPUCost.Add(b.CPUCost), a.RAMCost.Add(b.RAMCost), a.GPUCost.Add(b.GPUCost)
	a.CPUUsedHours, a.RAMUsedHours = a.CPUUsedHours.Add(b.CPUUsedHours), a.RAMUsedHours.Add(b.RAMUsedHours)
	a.SharedCost = a.SharedCost.Add(b.SharedCost)
}

// Idle and Unallocated are the names of the rows OpenCost users know.
const (
	Idle        = "__idle__"
	Unallocated = "__unallocated__"
)

// AllocationOptions say how idle and shared cost are handled.
type AllocationOptions struct {
	// ShareIdle spreads each node's idle cost over its allocations in
	// proportion to their cost of each resource, instead of an __idle__ row.
	ShareIdle bool
	// SharedNamespaces' cost is split over the other aggregates, evenly or
	// (SplitByCost) in proportion to their cost.
	SharedNamespaces []string
	SplitByCost      bool
	// AggregateBy groups allocations: "namespace", "pod", "node" or
	// "label:KEY"; a container without the label goes to __unallocated__.
	AggregateBy string
}

// Allocate charges containers for max(request, usage) of each resource
// times the hours it ran times the node's unit price (OpenCost's rule),
// adds each node's idle cost (capacity x window hours - allocated, clamped
// at zero per resource) as its own row or shared, splits shared namespaces,
// and aggregates. windowHours is the window's length.
func Allocate(containers []Container, nodes map[string]Node, windowHours decimal.Decimal, o AllocationOptions) []Allocation {
	type nodeUse struct{ cpu, ram, gpu decimal.Decimal } // allocated resource hours
	used := map[string]*nodeUse{}
	per := make([]Allocation, len(containers))
	for i, c := range containers {
		p := nodes[c.Node].Prices()
		a := Allocation{Name: c.Namespace + "/" + c.Pod + "/" + c.Container}
		a.CPUCoreHours = decimal.Max(c.CPURequest, c.CPUUsage).Mul(c.Hours)
		a.RAMGiBHours = decimal.Max(c.RAMRequest, c.RAMUsage).Mul(c.Hours)
		a.GPUHours = c.GPUs.Mul(c.Hours)
		a.CPUUsedHours, a.RAMUsedHours = c.CPUUsage.Mul(c.Hours), c.RAMUsage.Mul(c.Hours)
		a.CPUCost, a.RAMCost, a.GPUCost = a.CPUCoreHours.Mul(p.CPUCoreHour), a.RAMGiBHours.Mul(p.RAMGiBHour), a.GPUHours.Mul(p.GPUHour)
		per[i] = a
		u := used[c.Node]
		if u == nil {
			u = &nodeUse{}
			used[c.Node] = u
		}
		u.cpu, u.ram, u.gpu = u.cpu.Add(a.CPUCoreHours), u.ram.Add(a.RAMGiBHours), u.gpu.Add(a.GPUHours)
	}

	// Idle per node and resource.
	idle := Allocation{Name: Idle}
	names := make([]string, 0, len(nodes))
	for n := range nodes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		n, u := nodes[name], used[name]
		if u == nil {
			u = &nodeUse{}
		}
		p := n.Prices()
		ni := Allocation{Name: Idle}
		ni.CPUCoreHours = decimal.Max(n.CPUCores.Mul(windowHours).Sub(u.cpu), decimal.Zero)
		ni.RAMGiBHours = decimal.Max(n.RAMGiB.Mul(windowHours).Sub(u.ram), decimal.Zero)
		ni.GPUHours = decimal.Max(n.GPUs.Mul(windowHours).Sub(u.gpu), decimal.Zero)
		ni.CPUCost, ni.RAMCost, ni.GPUCost = ni.CPUCoreHours.Mul(p.CPUCoreHour), ni.RAMGiBHours.Mul(p.RAMGiBHour), ni.GPUHours.Mul(p.GPUHour)
		if !o.ShareIdle {
			idle.add(ni)
			continue
		}
		// Share this node's idle over its containers by their cost of each
		// resource.
		var cpuSum, ramSum, gpuSum decimal.Decimal
		for i, c := range containers {
			if c.Node == name {
				cpuSum, ramSum, gpuSum = cpuSum.Add(per[i].CPUCost), ramSum.Add(per[i].RAMCost), gpuSum.Add(per[i].GPUCost)
			}
		}
		for i, c := range containers {
			if c.Node != name {
				continue
			}
			per[i].CPUCost = per[i].CPUCost.Add(share(ni.CPUCost, per[i].CPUCost, cpuSum))
			per[i].RAMCost = per[i].RAMCost.Add(share(ni.RAMCost, per[i].RAMCost, ramSum))
			per[i].GPUCost = per[i].GPUCost.Add(share(ni.GPUCost, per[i].GPUCost, gpuSum))
		}
	}

	// Aggregate.
	groups := map[string]*Allocation{}
	shared := map[string]bool{}
	for _, ns := range o.SharedNamespaces {
		shared[ns] = true
	}
	var sharedCost Allocation
	for i, c := range containers {
		if shared[c.Namespace] {
			sharedCost.add(per[i])
			continue
		}
		key := aggregateKey(c, o.AggregateBy)
		g := groups[key]
		if g == nil {
			g = &Allocation{Name: key}
			groups[key] = g
		}
		g.add(per[i])
	}
	out := make([]Allocation, 0, len(groups)+1)
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// Shared cost: evenly, or by each aggregate's cost.
	var total decimal.Decimal
	for _, k := range keys {
		total = total.Add(groups[k].Total())
	}
	sharedTotal := sharedCost.Total()
	for _, k := range keys {
		g := *groups[k]
		if sharedTotal.IsPositive() && len(keys) > 0 {
			var part decimal.Decimal
			if o.SplitByCost && total.IsPositive() {
				part = sharedTotal.Mul(g.Total()).Div(total)
			} else {
				part = sharedTotal.Div(decimal.NewFromInt(int64(len(keys))))
			}
			g.SharedCost = g.SharedCost.Add(part)
		}
		out = append(out, g)
	}
	if !o.ShareIdle && idle.Total().IsPositive() {
		out = append(out, idle)
	}
	return out
}

func share(amount, part, whole decimal.Decimal) decimal.Decimal {
	if !whole.IsPositive() {
		return decimal.Zero
	}
	return amount.Mul(part).Div(whole)
}

func aggregateKey(c Container, by string) string {
	switch {
	case by == "namespace":
		return c.Namespace
	case by == "pod":
		return c.Namespace + "/" + c.Pod
	case by == "node":
		return c.Node
	case len(by) > 6 && by[:6] == "label:":
		if v, ok := c.Labels[by[6:]]; ok && v != "" {
			return v
		}
		return Unallocated
	}
	return c.Namespace + "/" + c.Pod + "/" + c.Container
}
