package api

import (
	"net/http"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/store"
)

type allocationRow struct {
	Name          string `json:"name"`
	CPUCoreHours  string `json:"cpu_core_hours"`
	RAMGiBHours   string `json:"ram_gib_hours"`
	GPUHours      string `json:"gpu_hours"`
	CPUCost       string `json:"cpu_cost"`
	RAMCost       string `json:"ram_cost"`
	GPUCost       string `json:"gpu_cost"`
	SharedCost    string `json:"shared_cost"`
	TotalCost     string `json:"total_cost"`
	CPUEfficiency string `json:"cpu_efficiency"`
	RAMEfficiency string `json:"ram_efficiency"`
}

// allocation answers Kubernetes cost allocation over [from, to) from the
// container and node metrics Vigil ingested (scraped or remote-written
// cAdvisor and kube-state-metrics series), by OpenCost's rules:
// aggregate=namespace|pod|node|label:KEY, idle=separate|share,
// shared_namespaces=a,b and split=even|cost. Amounts are USD.
func (a *API) allocation(r *http.Request, org string) (any, error) {
	q := r.URL.Query()
	from, err := apiTime(q.Get("from"), "from")
	if err != nil {
		return nil, err
	}
	to, err := apiTime(q.Get("to"), "to")
	if err != nil {
		return nil, err
	}
	if !to.After(from) {
		return nil, badRequest("to must be after from")
	}
	opts := cost.AllocationOptions{AggregateBy: q.Get("aggregate"), SharedNamespaces: splitList(q.Get("shared_namespaces"))}
	if opts.AggregateBy == "" {
		opts.AggregateBy = "namespace"
	}
	switch q.Get("idle") {
	case "", "separate":
	case "share":
		opts.ShareIdle = true
	default:
		return nil, badRequest("idle %q: want separate or share", q.Get("idle"))
	}
	switch q.Get("split") {
	case "", "even":
	case "cost":
		opts.SplitByCost = true
	default:
		return nil, badRequest("split %q: want even or cost", q.Get("split"))
	}
	var series []cost.MetricSeries
	for _, name := range cost.KubeMetricNames {
		m, _ := store.NewMatcher(store.MatchEqual, store.MetricNameLabel, name)
		ss, err := a.Metrics.Series(r.Context(), org, []*store.Matcher{m})
		if err != nil {
			return nil, err
		}
		if len(ss) == 0 {
			continue
		}
		fps := make([]uint64, len(ss))
		idx := make(map[uint64]int, len(ss))
		base := len(series)
		for i, s := range ss {
			fps[i], idx[s.Fingerprint] = s.Fingerprint, base+i
			labels := map[string]string{}
			for _, l := range s.Labels {
				labels[l.Key] = l.Value
			}
			series = append(series, cost.MetricSeries{Name: s.Name, Labels: labels})
		}
		samples, err := a.Metrics.Samples(r.Context(), org, fps, from, to)
		if err != nil {
			return nil, err
		}
		for _, sm := range samples {
			i := idx[sm.Fingerprint]
			series[i].Points = append(series[i].Points, cost.Point{TimestampMsec: sm.TimestampMsec, Value: sm.Value})
		}
	}
	instances := a.Instances
	if instances == nil {
		instances = cost.DefaultInstances()
	}
	containers, nodes := cost.KubeInputs(series, from, to, instances)
	allocs := cost.Allocate(containers, nodes, decimal.NewFromFloat(to.Sub(from).Hours()), opts)
	rows := make([]allocationRow, 0, len(allocs))
	money := func(d decimal.Decimal) string { return d.Round(cost.MoneyPlaces).String() }
	for _, al := range allocs {
		rows = append(rows, allocationRow{
			Name: al.Name, CPUCoreHours: al.CPUCoreHours.Round(6).String(), RAMGiBHours: al.RAMGiBHours.Round(6).String(), GPUHours: al.GPUHours.Round(6).String(),
			CPUCost: money(al.CPUCost), RAMCost: money(al.RAMCost), GPUCost: money(al.GPUCost), SharedCost: money(al.SharedCost), TotalCost: money(al.Total()),
			CPUEfficiency: al.CPUEfficiency().String(), RAMEfficiency: al.RAMEfficiency().String(),
		})
	}
	return map[string]any{"from": from, "to": to, "window_hours": to.Sub(from).Hours(), "aggregate": opts.AggregateBy, "allocations": rows}, nil
}
