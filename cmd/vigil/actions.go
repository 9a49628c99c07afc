package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/actions/argo"
	"github.com/vigil-dev/vigil/actions/kube"
	"github.com/vigil-dev/vigil/actions/webhook"
	"github.com/vigil-dev/vigil/alert"
	"github.com/vigil-dev/vigil/analyzer"
	"github.com/vigil-dev/vigil/dispatch"
	"github.com/vigil-dev/vigil/store"
)

// actionsOptions are the flags of the actions engine: how to reach
// Kubernetes, and the kill switch.
type actionsOptions struct {
	paused     bool
	kubeconfig string
	inCluster  bool
	server     string
	tokenFile  string
	caFile     string
}

func (o *actionsOptions) register(f *pflag.FlagSet) {
	f.BoolVar(&o.paused, "actions.paused", false, "the actions kill switch: nothing executes or reverts, whatever the stored switch says (proposals and verifications go on)")
	f.StringVar(&o.kubeconfig, "actions.kubeconfig", "", "kubeconfig of the cluster the kubernetes and argo actions act on")
	f.BoolVar(&o.inCluster, "actions.kube-in-cluster", false, "act on the cluster Vigil runs in, with its pod's service account")
	f.StringVar(&o.server, "actions.kube-server", "", "API server URL of the cluster to act on, with --actions.kube-token-file")
	f.StringVar(&o.tokenFile, "actions.kube-token-file", "", "file holding the bearer token for --actions.kube-server")
	f.StringVar(&o.caFile, "actions.kube-ca-file", "", "CA bundle of --actions.kube-server")
}

// actionsEngine is the process's one actions engine: the API asks it
// and, with the analyzer, it proposes on what the evaluators find, and
// executes and verifies through the dispatcher on the targets this
// replica owns. Without the analyzer it executes nothing: it has no
// executors, and its status judges none.
func (o *roleOptions) actionsEngine(roles role, st store.Store, live liveConfig, reg prometheus.Registerer, owner *targetOwner, logger *slog.Logger) (*actions.Engine, error) {
	opts := actions.Options{Store: st, Policies: live.actions, SLOs: live.slos, Paused: o.actions.paused, Owns: owner.owns, Registerer: reg, Logger: logger}
	if roles&roleAnalyzer != 0 {
		var err error
		if opts.Executors, err = o.actions.executors(); err != nil {
			return nil, err
		}
	}
	return actions.New(opts), nil
}

// targetOwner says which targets this replica drives: those it owned at the
// analyzer scheduler's last tick, once addAnalyzer has built the
// scheduler (before any actor of the run group starts).
type targetOwner struct{ sched *analyzer.Scheduler }

func (w *targetOwner) owns(key string) bool { return w.sched == nil || w.sched.Owns(key) }

// executors are the executors the flags configure: the webhook always,
// Kubernetes and Argo Rollouts when a cluster is named.
func (o *actionsOptions) executors() (map[string]actions.Executor, error) {
	out := map[string]actions.Executor{actions.Webhook: &webhook.Executor{}}
	if o.kubeconfig == "" && !o.inCluster && o.server == "" {
		return out, nil
	}
	cfg := kube.Config{Kubeconfig: o.kubeconfig, InCluster: o.inCluster, Server: o.server, CAFile: o.caFile}
	if o.tokenFile != "" {
		token, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("--actions.kube-token-file: %w", err)
		}
		cfg.Token = strings.TrimSpace(string(token))
	}
	clients, err := kube.Connect(cfg)
	if err != nil {
		return nil, err
	}
	out[actions.Kubernetes] = &kube.Executor{Clients: clients}
	out[actions.Argo] = &argo.Executor{Clients: clients}
	return out, nil
}

// escalations page through each alert receiver when an action fails.
func escalations(notifiers []alert.Notifier) []dispatch.Subscriber {
	out := make([]dispatch.Subscriber, len(notifiers))
	for i, n := range notifiers {
		out[i] = &actions.Escalation{Notifier: n}
	}
	return out
}
