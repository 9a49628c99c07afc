package api

import (
	"net/http"
	"strings"
	"time"

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
// shared_namespaces=a,b and split=even|cost. Amounts are USD. With
// source=bill it splits imported bill lines over the workloads instead.
func (a *API) allocation(r *http.Request, org string) (any, error) {
	q := r.URL.Query()
	from, to, err := timeRange(q)
	if err != nil {
		return nil, err
	}
	opts := cost.AllocationOptions{AggregateBy: q.Get("aggregate"), SharedNamespaces: splitList(q.Get("shared_namespaces"))}
	switch agg := opts.AggregateBy; {
	case agg == "", agg == "container", agg == "namespace", agg == "pod", agg == "node":
	case strings.HasPrefix(agg, "label:") && len(agg) > len("label:"):
	default:
		return nil, badRequest("aggregate %q: want container (the default), namespace, pod, node or label:KEY", agg)
	}
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
	switch q.Get("source") {
	case "", "metrics":
	case "bill":
		return a.billAllocation(r, org, from, to, opts)
	default:
		return nil, badRequest("source %q: want metrics (the cluster's own cost) or bill (imported bill lines joined to workloads)", q.Get("source"))
	}
	series, err := a.readSeries(r, org, cost.KubeMetricNames, from, to)
	if err != nil {
		return nil, err
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

// readSeries reads every series of the named metrics with its samples in
// [from, to).
func (a *API) readSeries(r *http.Request, org string, names []string, from, to time.Time, extra ...*store.Matcher) ([]cost.MetricSeries, error) {
	var series []cost.MetricSeries
	for _, name := range names {
		m, _ := store.NewMatcher(store.MatchEqual, store.MetricNameLabel, name)
		ss, err := a.Store.Series(r.Context(), org, append([]*store.Matcher{m}, extra...))
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
		samples, err := a.Store.Samples(r.Context(), org, fps, from, to)
		if err != nil {
			return nil, err
		}
		for _, sm := range samples {
			i := idx[sm.Fingerprint]
			series[i].Points = append(series[i].Points, cost.Point{TimestampMsec: sm.TimestampMsec, Value: sm.Value})
		}
	}
	return series, nil
}

// selfHosted answers the unit cost of a self-hosted vLLM deployment over
// [from, to): its spend is hourly x the window's hours, split between input
// and output tokens by prefill and decode time (or, without timings, with
// one output token costing 2.5 input tokens), over the tokens vLLM's
// counters say it served. selector narrows the series, e.g.
// {job="vllm",model_name="llama-3-70b"}.
func (a *API) selfHosted(r *http.Request, org string) (any, error) {
	q := r.URL.Query()
	from, to, err := timeRange(q)
	if err != nil {
		return nil, err
	}
	hourly, err := decimal.NewFromString(q.Get("hourly"))
	if err != nil || !hourly.IsPositive() {
		return nil, badRequest("hourly %q: want the deployment's cost per hour, e.g. 3.20", q.Get("hourly"))
	}
	var extra []*store.Matcher
	if sel := q.Get("selector"); sel != "" {
		ms, err := store.ParseSelector(sel)
		if err != nil {
			return nil, badRequest("selector: %v", err)
		}
		for _, m := range ms {
			if m.Name != store.MetricNameLabel {
				extra = append(extra, m)
			}
		}
	}
	series, err := a.readSeries(r, org, cost.VLLMMetricNames, from, to, extra...)
	if err != nil {
		return nil, err
	}
	spend := hourly.Mul(decimal.NewFromFloat(to.Sub(from).Hours()))
	sh := cost.SelfHostedFromVLLM(series, spend)
	method := "prefill/decode time"
	if sh.PrefillSeconds.Add(sh.DecodeSeconds).IsZero() {
		method = "2.5x output:input fallback"
	}
	u, err := sh.PerMillion(cost.DefaultOutputMultiplier)
	if err != nil {
		return nil, badRequest("no vLLM token counters in the window: %v", err)
	}
	round := func(d decimal.Decimal) string { return d.Round(6).String() }
	return map[string]any{
		"from": from, "to": to, "spend": spend.String(), "split": method,
		"prompt_tokens": sh.PromptTokens, "generated_tokens": sh.GeneratedTokens, "prefix_cache_hit_tokens": sh.CacheHitTokens,
		"cost_per_1m_tokens": round(u.Blended), "cost_per_1m_input_tokens": round(u.Input), "cost_per_1m_output_tokens": round(u.Output),
	}, nil
}
