package cost

import (
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/shopspring/decimal"
)

// Joining cloud bills to Kubernetes workloads.
//
// A bill line is joined when its ResourceId names Kubernetes nodes that the
// ingested metrics know. kube-state-metrics' kube_node_info carries each
// node's name and provider_id (aws:///us-east-1a/i-0abc...,
// gce://project/zone/name, azure:///subscriptions/.../virtualMachineScaleSets/pool/virtualMachines/3);
// a ResourceId (compared ignoring case and the provider id's scheme) names
// a node when it is:
//
//  1. the node's name, or its provider id;
//  2. the same instance: the last path segment of the provider id equals
//     the ResourceId's last segment after '/' or ':' (AWS's i-0abc in an
//     ARN or alone, a GCE instance name); segments of digits only are not
//     instances (an Azure scale set's VM index), so they never match alone;
//  3. the scale set the node's VM belongs to: the provider id is the
//     ResourceId followed by /virtualmachines/N (AKS node pools are billed
//     per scale set), so the line is spread over every node of the set.
//
// A joined line's cost is split over the workloads running on its nodes in
// proportion to their allocated cost over the window (OpenCost's
// max(request, usage) x hours x unit price, Allocate), the nodes' idle
// capacity being a workload of its own (__idle__) unless idle is shared;
// shared namespaces are spread as Allocate spreads them. Splits are exact:
// each part is rounded to MoneyPlaces and what rounding leaves goes to the
// largest part, so the parts add up to the line. Lines that name no
// known node are returned unjoined, never guessed at. Cluster-wide lines
// (an EKS or AKS control plane) are not joined: node metrics do not carry
// the cluster's cloud id.

// MetricNodeInfo is kube-state-metrics' node info series, whose node and
// provider_id labels identify a node to its cloud.
const MetricNodeInfo = "kube_node_info"

// NodeIdentity is a node's name and its cloud provider id.
type NodeIdentity struct {
	Name, ProviderID string
}

// KubeNodeIdentities reads node identities from kube_node_info series,
// sorted by name.
func KubeNodeIdentities(series []MetricSeries) []NodeIdentity {
	seen := map[string]string{}
	for _, s := range series {
		if s.Name != MetricNodeInfo || s.Labels["node"] == "" {
			continue
		}
		if p := s.Labels["provider_id"]; p != "" || seen[s.Labels["node"]] == "" {
			seen[s.Labels["node"]] = p
		}
	}
	out := make([]NodeIdentity, 0, len(seen))
	for _, n := range slices.Sorted(maps.Keys(seen)) {
		out = append(out, NodeIdentity{Name: n, ProviderID: seen[n]})
	}
	return out
}

// normID lower-cases an id and drops a scheme and slashes at either end.
func normID(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if _, rest, ok := strings.Cut(s, "://"); ok {
		s = rest
	}
	return strings.Trim(s, "/")
}

// lastSegment is what follows the last '/' or ':'.
func lastSegment(s string) string {
	return s[strings.LastIndexAny(s, "/:")+1:]
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// MatchNodes returns the names of the nodes a bill line's ResourceId
// names, by the rules above, sorted.
func MatchNodes(resourceID string, nodes []NodeIdentity) []string {
	id := normID(resourceID)
	if id == "" {
		return nil
	}
	seg := lastSegment(id)
	var out []string
	for _, n := range nodes {
		pid := normID(n.ProviderID)
		switch {
		case id == strings.ToLower(n.Name), pid != "" && id == pid:
		case pid != "" && !allDigits(seg) && seg == lastSegment(pid):
		case pid != "" && strings.HasPrefix(pid, id+"/virtualmachines/") && !strings.Contains(pid[len(id)+len("/virtualmachines/"):], "/"):
		default:
			continue
		}
		out = append(out, n.Name)
	}
	return out
}

// BillResource is the bill lines of one resource in one currency, summed.
type BillResource struct {
	ResourceID    string
	Currency      string
	BilledCost    decimal.Decimal
	EffectiveCost decimal.Decimal
	Lines         uint64
}

// BillShare is the part of joined bills a workload aggregate is charged.
type BillShare struct {
	Name          string // the aggregate (namespace, pod, ...), or __idle__
	Currency      string
	BilledCost    decimal.Decimal
	EffectiveCost decimal.Decimal
	Lines         uint64 // bill lines that contributed
}

// BillJoin is what AttributeBills did: the shares, the resources joined and
// to which nodes, and the resources left unjoined.
type BillJoin struct {
	Shares   []BillShare // by name, then currency
	Joined   []JoinedResource
	Unjoined []BillResource // in the order given
}

// JoinedResource is a resource that named nodes.
type JoinedResource struct {
	BillResource
	Nodes []string
}

// AttributeBills splits the bills of resources that name known nodes over
// the workloads on those nodes (see the comment at the top of this file).
// containers and nodes are KubeInputs' for the same window; o aggregates
// the workloads as for Allocate.
func AttributeBills(bills []BillResource, ids []NodeIdentity, containers []Container, nodes map[string]Node, windowHours decimal.Decimal, o AllocationOptions) BillJoin {
	var join BillJoin
	weights := map[string][]Allocation{} // by the joined node set
	shares := map[[2]string]*BillShare{}
	for _, b := range bills {
		matched := MatchNodes(b.ResourceID, ids)
		if len(matched) == 0 {
			join.Unjoined = append(join.Unjoined, b)
			continue
		}
		join.Joined = append(join.Joined, JoinedResource{BillResource: b, Nodes: matched})
		key := strings.Join(matched, "\x00")
		allocs, ok := weights[key]
		if !ok {
			allocs = allocateOn(matched, containers, nodes, windowHours, o)
			weights[key] = allocs
		}
		w := make([]decimal.Decimal, len(allocs))
		for i, a := range allocs {
			w[i] = a.Total()
		}
		billed, effective := splitExact(b.BilledCost, w), splitExact(b.EffectiveCost, w)
		names := make([]string, len(allocs))
		for i, a := range allocs {
			names[i] = a.Name
		}
		if len(allocs) == 0 {
			// Nodes known by identity but with nothing measured on them:
			// the whole line is idle capacity.
			names, billed, effective = []string{Idle}, []decimal.Decimal{b.BilledCost}, []decimal.Decimal{b.EffectiveCost}
		}
		for i, name := range names {
			k := [2]string{name, b.Currency}
			s := shares[k]
			if s == nil {
				s = &BillShare{Name: name, Currency: b.Currency}
				shares[k] = s
			}
			s.BilledCost, s.EffectiveCost = s.BilledCost.Add(billed[i]), s.EffectiveCost.Add(effective[i])
			s.Lines += b.Lines
		}
	}
	for _, s := range shares {
		join.Shares = append(join.Shares, *s)
	}
	sort.Slice(join.Shares, func(i, j int) bool {
		if join.Shares[i].Name != join.Shares[j].Name {
			return join.Shares[i].Name < join.Shares[j].Name
		}
		return join.Shares[i].Currency < join.Shares[j].Currency
	})
	return join
}

// allocateOn allocates the given nodes' containers and idle capacity, the
// weights a joined line is split by. Aggregates with no cost are dropped.
func allocateOn(names []string, containers []Container, nodes map[string]Node, windowHours decimal.Decimal, o AllocationOptions) []Allocation {
	on := map[string]Node{}
	for _, n := range names {
		if node, ok := nodes[n]; ok {
			on[n] = node
		}
	}
	var cs []Container
	for _, c := range containers {
		for _, n := range names {
			if c.Node == n {
				cs = append(cs, c)
				break
			}
		}
	}
	var out []Allocation
	for _, a := range Allocate(cs, on, windowHours, o) {
		if a.Total().IsPositive() {
			out = append(out, a)
		}
	}
	return out
}

// splitExact splits amount in proportion to weights: each part rounded
// half-even to MoneyPlaces (to the nearest, so the last digits of weights
// that Allocate divided do not show), the remainder to the largest weight
// (the first of equals), so the parts sum to amount exactly. No positive
// weight: one part per weight, all zero but the remainder.
func splitExact(amount decimal.Decimal, weights []decimal.Decimal) []decimal.Decimal {
	out := make([]decimal.Decimal, len(weights))
	if len(weights) == 0 {
		return out
	}
	var total decimal.Decimal
	largest := 0
	for i, w := range weights {
		total = total.Add(w)
		if w.GreaterThan(weights[largest]) {
			largest = i
		}
	}
	rest := amount
	if total.IsPositive() {
		for i, w := range weights {
			out[i] = amount.Mul(w).DivRound(total, MoneyPlaces+4).RoundBank(MoneyPlaces)
			rest = rest.Sub(out[i])
		}
	}
	out[largest] = out[largest].Add(rest)
	return out
}
