package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/analyzer/rightsize"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/backend"
	"github.com/vigil-dev/vigil/web/client"
)

type recommendOptions struct {
	strategy, profile, output, server, tenant string
	token                                     string
	namespace, kind, workload, container      string
	history, serverTimeout                    time.Duration
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
				return rightsize.WritePatches(w, recs)
			}
			return rightsize.WriteTable(w, recs)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.strategy, "strategy", "simple", "simple (Robusta KRR), vpa (Kubernetes VPA recommender) or kubecost")
	f.StringVar(&o.profile, "profile", "", "kubecost target-utilisation profile: development, production, high-availability (default 0.7)")
	f.StringVar(&o.output, "output", "table", "table, json or yaml (strategic-merge patches)")
	f.StringVar(&o.server, "server", "", "URL of a running vigil web role (http://host:8080) to ask instead of opening the store")
	f.DurationVar(&o.serverTimeout, "server-timeout", client.DefaultTimeout, "how long to wait for --server's answer")
	f.StringVar(&o.token, "token", "", "API token for --server (a viewer's: vigil token create --role viewer); prefer its environment twin, which stays out of the process list")
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
	c, err := client.New(o.server, client.Options{Tenant: o.tenant, Timeout: o.serverTimeout, Token: o.token})
	if err != nil {
		return nil, fmt.Errorf("--server: %w", err)
	}
	return c.Recommendations(ctx, client.RecommendationQuery{Strategy: o.strategy, Profile: o.profile, From: start, To: end,
		Namespace: o.namespace, Kind: o.kind, Workload: o.workload, Container: o.container})
}
