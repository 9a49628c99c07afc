package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/analyzer/rightsize"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/web/client"
)

type recommendOptions struct {
	strategy, profile, output, tenant    string
	namespace, kind, workload, container string
	history                              time.Duration
	remote                               serverOptions
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
kubectl patch --type strategic --patch-file.

With --server (or VIGIL_SERVER) a running Vigil's
GET /api/v1/recommendations answers instead, with a viewer's token
(VIGIL_TOKEN or --token-file); the output and exit codes are the same. The
embedded store is open in one process only: while vigil serve runs on
--data-dir, this command asks it when a token is given, and otherwise names
its URL.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch o.output {
			case "table", "json", "yaml":
			default:
				return fmt.Errorf("--output %q: want table, json or yaml", o.output)
			}
			recs, err := o.fetch(cmd, g)
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
				return rightsize.WritePatches(w, recs)
			}
			return rightsize.WriteTable(w, recs)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.strategy, "strategy", "simple", "simple (Robusta KRR), vpa (Kubernetes VPA recommender) or kubecost")
	f.StringVar(&o.profile, "profile", "", "kubecost target-utilisation profile: development, production, high-availability (default 0.7)")
	f.StringVar(&o.output, "output", "table", "table, json or yaml (strategic-merge patches)")
	o.remote.register(f, "viewer", client.DefaultTimeout)
	f.StringVar(&o.tenant, "tenant", "", "tenant to read; empty for the default tenant")
	f.StringVar(&o.namespace, "namespace", "", "only this namespace")
	f.StringVar(&o.kind, "kind", "", "only this workload kind (Deployment, StatefulSet, ...)")
	f.StringVar(&o.workload, "workload", "", "only this workload")
	f.StringVar(&o.container, "container", "", "only this container")
	f.DurationVar(&o.history, "history", rightsize.DefaultHistory, "how much usage history to read")
	withEnvHelp(cmd)
	return cmd
}

func (o *recommendOptions) fetch(cmd *cobra.Command, g *globalOptions) ([]rightsize.Recommendation, error) {
	end := time.Now().UTC()
	start := end.Add(-o.history)
	st, api, err := o.remote.open(cmd, g, o.tenant)
	if err != nil {
		return nil, err
	}
	if api != nil {
		// The server checks the strategy and says what is wrong, quoted.
		return api.Recommendations(cmd.Context(), client.RecommendationQuery{Strategy: o.strategy, Profile: o.profile, From: start, To: end,
			Namespace: o.namespace, Kind: o.kind, Workload: o.workload, Container: o.container})
	}
	defer st.Close()
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
	tenantID := o.tenant
	if tenantID == "" {
		tenantID = store.DefaultTenant
	}
	r := &rightsize.Recommender{Metrics: st}
	return r.Recommend(cmd.Context(), rightsize.Query{Tenant: tenantID, Start: start, End: end, Strategy: strategy,
		Namespace: o.namespace, Kind: o.kind, Workload: o.workload, Container: o.container})
}
