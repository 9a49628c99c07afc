package api

import (
	"net/http"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/store"
)

type billShareRow struct {
	Name          string `json:"name"`
	Currency      string `json:"currency"`
	BilledCost    string `json:"billed_cost"`
	EffectiveCost string `json:"effective_cost"`
	Lines         uint64 `json:"lines"`
}

type joinedRow struct {
	ResourceID string   `json:"resource_id"`
	Nodes      []string `json:"nodes"`
	Currency   string   `json:"currency"`
	BilledCost string   `json:"billed_cost"`
	Lines      uint64   `json:"lines"`
}

type unjoinedRow struct {
	Currency      string `json:"currency"`
	BilledCost    string `json:"billed_cost"`
	EffectiveCost string `json:"effective_cost"`
	Lines         uint64 `json:"lines"`
	Resources     int    `json:"resources"`
}

// billAllocation answers /api/v1/cost/allocation?source=bill: the imported
// bill lines of [from, to) whose ResourceId names Kubernetes nodes, split
// over the workloads on those nodes by their allocation over the same
// window (cost.AttributeBills says the rule), with the lines that name no
// node summed per currency. One allocation over the window weighs every
// line in it, so ask for windows the cluster kept its shape in (a day).
func (a *API) billAllocation(r *http.Request, org string, from, to time.Time, opts cost.AllocationOptions) (any, error) {
	series, err := a.readSeries(r, org, append(append([]string(nil), cost.KubeMetricNames...), cost.MetricNodeInfo), from, to)
	if err != nil {
		return nil, err
	}
	instances := a.Instances
	if instances == nil {
		instances = cost.DefaultInstances()
	}
	containers, nodes := cost.KubeInputs(series, from, to, instances)
	// Bills summed per resource and currency: a month of hourly lines is
	// one row per resource, not millions of lines.
	groups, err := a.Store.CostTotals(r.Context(), store.CostQuery{Tenant: org, Start: from, End: to}, []store.CostDimension{store.DimResource})
	if err != nil {
		return nil, err
	}
	bills := make([]cost.BillResource, len(groups))
	for i, g := range groups {
		bills[i] = cost.BillResource{ResourceID: g.Keys[0], Currency: g.Currency, BilledCost: g.BilledCost, EffectiveCost: g.EffectiveCost, Lines: g.Lines}
	}
	join := cost.AttributeBills(bills, cost.KubeNodeIdentities(series), containers, nodes, decimal.NewFromFloat(to.Sub(from).Hours()), opts)

	shares := make([]billShareRow, len(join.Shares))
	for i, s := range join.Shares {
		shares[i] = billShareRow{Name: s.Name, Currency: s.Currency, BilledCost: s.BilledCost.String(), EffectiveCost: s.EffectiveCost.String(), Lines: s.Lines}
	}
	joined := make([]joinedRow, len(join.Joined))
	for i, j := range join.Joined {
		joined[i] = joinedRow{ResourceID: j.ResourceID, Nodes: j.Nodes, Currency: j.Currency, BilledCost: j.BilledCost.String(), Lines: j.Lines}
	}
	type sum struct {
		billed, effective decimal.Decimal
		lines             uint64
		resources         int
	}
	unjoined := map[string]*sum{}
	for _, u := range join.Unjoined {
		s := unjoined[u.Currency]
		if s == nil {
			s = &sum{}
			unjoined[u.Currency] = s
		}
		s.billed, s.effective = s.billed.Add(u.BilledCost), s.effective.Add(u.EffectiveCost)
		s.lines += u.Lines
		s.resources++
	}
	rest := make([]unjoinedRow, 0, len(unjoined))
	for cur, s := range unjoined {
		rest = append(rest, unjoinedRow{Currency: cur, BilledCost: s.billed.String(), EffectiveCost: s.effective.String(), Lines: s.lines, Resources: s.resources})
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].Currency < rest[j].Currency })
	return map[string]any{"from": from, "to": to, "source": "bill", "aggregate": opts.AggregateBy,
		"allocations": shares, "joined": joined, "unjoined": rest}, nil
}
