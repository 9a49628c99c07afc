package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/analyzer/rightsize"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/backend"
)

type recommendOptions struct {
	strategy, profile, output, server, tenant string
	namespace, kind, workload, container      string
	history                                   time.Duration
}

func newRecommendCmd(g *globalOptions) *cobra.Command {
	o := &recommendOptions{}
	cmd := &cobra.Command{
		Use:   "recommend",
		Short: "Recommend container requests and limits from the ingested usage history",
		Long: `Runs a right-sizing strategy over the container metrics in the store
(container_cpu_usage_seconds_total, container_memory_working_set_bytes,
kube-state-metrics requests, limits and OOM kills, DCGM GPU series) for the
last --history, and prints one recommendation per workload container.

--output yaml prints Kubernetes strategic-merge patches of the containers'
resources, one document per workload, ready for
kubectl patch --type strategic --patch-file. The embedded store can be open
in one process only: while vigil serve runs on it, pass --server to ask its
API instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch o.output {
			case "table", "json", "yaml":
			default:
				return fmt.Errorf("--output %q: want table, json or yaml", o.output)
			}
			recs, err := o.fetch(cmd.Context(), g)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			switch o.output {
			case "json":
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(recs)
			case "yaml":
				return writePatches(w, recs)
			}
			return writeTable(w, recs)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.strategy, "strategy", "simple", "simple (Robusta KRR), vpa (Kubernetes VPA recommender) or kubecost")
	f.StringVar(&o.profile, "profile", "", "kubecost target-utilisation profile: development, production, high-availability (default 0.7)")
	f.StringVar(&o.output, "output", "table", "table, json or yaml (strategic-merge patches)")
	f.StringVar(&o.server, "server", "", "URL of a running vigil web role (http://host:8080) to ask instead of opening the store")
	f.StringVar(&o.tenant, "tenant", "", "tenant to read; empty for the default tenant")
	f.StringVar(&o.namespace, "namespace", "", "only this namespace")
	f.StringVar(&o.kind, "kind", "", "only this workload kind (Deployment, StatefulSet, ...)")
	f.StringVar(&o.workload, "workload", "", "only this workload")
	f.StringVar(&o.container, "container", "", "only this container")
	f.DurationVar(&o.history, "history", rightsize.DefaultHistory, "how much usage history to read")
	withEnvHelp(cmd)
	return cmd
}

func (o *recommendOptions) fetch(ctx context.Context, g *globalOptions) ([]rightsize.Recommendation, error) {
	end := time.Now().UTC()
	start := end.Add(-o.history)
	if o.server != "" {
		return o.fetchAPI(ctx, start, end)
	}
	name := o.strategy
	if o.profile != "" {
		if name != "kubecost" {
			return nil, fmt.Errorf("--profile applies to --strategy kubecost only")
		}
		name += ":" + o.profile
	}
	strategy, err := rightsize.StrategyByName(name)
	if err != nil {
		return nil, fmt.Errorf("--strategy: %w", err)
	}
	openCtx, cancel := context.WithTimeout(ctx, time.Minute)
	st, err := backend.Open(openCtx, g.storeURL, g.dataDir)
	cancel()
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return nil, fmt.Errorf("%w (is vigil serve running on %s? pass --server to ask its API)", err, g.dataDir)
		}
		return nil, err
	}
	defer st.Close()
	tenantID := o.tenant
	if tenantID == "" {
		tenantID = store.DefaultTenant
	}
	r := &rightsize.Recommender{Metrics: st}
	return r.Recommend(ctx, rightsize.Query{Tenant: tenantID, Start: start, End: end, Strategy: strategy,
		Namespace: o.namespace, Kind: o.kind, Workload: o.workload, Container: o.container})
}

// fetchAPI asks a running vigil for the recommendations.
func (o *recommendOptions) fetchAPI(ctx context.Context, start, end time.Time) ([]rightsize.Recommendation, error) {
	q := url.Values{"strategy": {o.strategy}, "from": {start.Format(time.RFC3339Nano)}, "to": {end.Format(time.RFC3339Nano)}}
	for k, v := range map[string]string{"profile": o.profile, "namespace": o.namespace, "kind": o.kind, "workload": o.workload, "container": o.container} {
		if v != "" {
			q.Set(k, v)
		}
	}
	u := strings.TrimSuffix(o.server, "/") + "/api/v1/recommendations?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("--server %q: %w", o.server, err)
	}
	if o.tenant != "" {
		req.Header.Set("X-Scope-OrgID", o.tenant)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot ask %s: %w", o.server, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("cannot read the answer of %s: %w", o.server, err)
	}
	var out struct {
		Error           string                     `json:"error"`
		Recommendations []rightsize.Recommendation `json:"recommendations"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("%s answered %s, not recommendations: %.200s", o.server, resp.Status, body)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s: %s", o.server, resp.Status, out.Error)
	}
	return out.Recommendations, nil
}

func writeTable(w io.Writer, recs []rightsize.Recommendation) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tKIND\tWORKLOAD\tCONTAINER\tCPU REQUEST\tCPU LIMIT\tMEMORY REQUEST\tMEMORY LIMIT\tSEVERITY\tSAVING/MONTH")
	cell := func(r *rightsize.Recommendation, res, setting string) string {
		v, ok := r.Get(res, setting)
		if !ok {
			return "-"
		}
		q := func(s string) string {
			if s == "" {
				return "unset"
			}
			return s
		}
		if v.Skipped != "" {
			return q(v.CurrentQuantity) + " -> ?"
		}
		return q(v.CurrentQuantity) + " -> " + q(v.RecommendedQuantity)
	}
	for i := range recs {
		r := &recs[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t$%s\n", r.Namespace, r.Kind, r.Workload, r.Container,
			cell(r, "cpu", "request"), cell(r, "cpu", "limit"), cell(r, "memory", "request"), cell(r, "memory", "limit"),
			r.Severity, r.MonthlySaving.StringFixed(2))
	}
	return tw.Flush()
}

// patchTarget is where a kind keeps its pod template, and its API group.
var patchTarget = map[string]struct {
	apiVersion string
	path       []string
}{
	"Deployment":  {"apps/v1", []string{"spec", "template", "spec"}},
	"StatefulSet": {"apps/v1", []string{"spec", "template", "spec"}},
	"DaemonSet":   {"apps/v1", []string{"spec", "template", "spec"}},
	"ReplicaSet":  {"apps/v1", []string{"spec", "template", "spec"}},
	"CronJob":     {"batch/v1", []string{"spec", "jobTemplate", "spec", "template", "spec"}},
}

// writePatches prints one strategic-merge patch per workload: the
// containers' requests and limits, merged by container name; a limit the
// strategy drops (KRR's CPU limit) is null, which deletes it.
func writePatches(w io.Writer, recs []rightsize.Recommendation) error {
	type wl struct{ ns, kind, name string }
	var order []wl
	byWorkload := map[wl][]rightsize.Recommendation{}
	for _, r := range recs {
		k := wl{r.Namespace, r.Kind, r.Workload}
		if _, ok := byWorkload[k]; !ok {
			order = append(order, k)
		}
		byWorkload[k] = append(byWorkload[k], r)
	}
	first := true
	for _, k := range order {
		t, ok := patchTarget[k.kind]
		if !ok {
			fmt.Fprintf(w, "# %s/%s (%s): no pod template to patch\n", k.ns, k.name, k.kind)
			continue
		}
		var containers []any
		for _, r := range byWorkload[k] {
			res := map[string]map[string]any{}
			for _, v := range r.Values {
				if v.Skipped != "" || v.Current == v.Recommended {
					continue
				}
				section := v.Setting + "s"
				if res[section] == nil {
					res[section] = map[string]any{}
				}
				if v.Recommended == 0 {
					res[section][v.Resource] = nil
				} else {
					res[section][v.Resource] = v.RecommendedQuantity
				}
			}
			if len(res) > 0 {
				containers = append(containers, map[string]any{"name": r.Container, "resources": res})
			}
		}
		if len(containers) == 0 {
			fmt.Fprintf(w, "# %s/%s/%s: nothing to change\n", k.ns, k.kind, k.name)
			continue
		}
		var spec any = map[string]any{"containers": containers}
		for i := len(t.path) - 1; i >= 0; i-- {
			spec = map[string]any{t.path[i]: spec}
		}
		doc := spec.(map[string]any)
		doc["apiVersion"], doc["kind"] = t.apiVersion, k.kind
		doc["metadata"] = map[string]any{"name": k.name, "namespace": k.ns}
		b, err := yaml.Marshal(doc)
		if err != nil {
			return err
		}
		if !first {
			fmt.Fprintln(w, "---")
		}
		first = false
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}
