package rightsize

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/config"
	"github.com/vigil-dev/vigil/store"
)

// The workloads to advise on live in the config directory, in any YAML
// file with a top-level rightsize: list:
//
//	rightsize:
//	  - namespace: llm
//	    workload: chat-gateway     # kind: Deployment, the default
//	    every: 1h                  # how often to advise (the default)
//	    resources: {strategy: simple, history: 14d}   # requests and limits
//	    replicas: {service: chat-gateway, latency_slo: 800ms, history: 1h}
//
// resources advises the containers' requests and limits by a strategy
// (simple, vpa, kubecost or kubecost:PROFILE) over the history (default
// 14d); replicas advises the replica count from the service's spans
// (latency_slo, or target_per_replica requests/s) over the history
// (default 1h). Each advice is a rightsize.advice event (Advices), which
// actions policies with when: {recommendation: ...} act on.

type workloadYAML struct {
	Tenant    string         `yaml:"tenant"`
	Namespace string         `yaml:"namespace"`
	Kind      string         `yaml:"kind"`
	Workload  string         `yaml:"workload"`
	Every     string         `yaml:"every"`
	Resources *resourcesYAML `yaml:"resources"`
	Replicas  *replicasYAML  `yaml:"replicas"`
}

type resourcesYAML struct {
	Strategy string `yaml:"strategy"`
	History  string `yaml:"history"`
}

type replicasYAML struct {
	Service          string  `yaml:"service"`
	Operation        string  `yaml:"operation"`
	Model            string  `yaml:"model"`
	LatencySLO       string  `yaml:"latency_slo"`
	TargetPerReplica float64 `yaml:"target_per_replica"`
	History          string  `yaml:"history"`
}

// Workload is one workload to advise on, and what about.
type Workload struct {
	Tenant, Namespace, Kind, Workload string
	Every                             time.Duration
	// Resources, when set, advises requests and limits by the strategy
	// over ResourceHistory.
	Resources       Strategy
	ResourceHistory time.Duration
	// Replicas, when set, advises the replica count; its Tenant,
	// Namespace, Deployment, Start and End are the job's to fill in.
	Replicas       *ReplicaQuery
	ReplicaHistory time.Duration
}

// DefaultEvery is how often a workload is advised on when it says not.
const DefaultEvery = time.Hour

// Section is right-sizing's part of the config directory.
var Section = &config.Section[[]Workload]{Name: "rightsize", Keys: []string{"rightsize"},
	New: func() config.Decoder[[]Workload] { return &workloadsReader{seen: map[string]string{}} }}

// workloadsReader is one reading of the section.
type workloadsReader struct {
	workloads []Workload
	seen      map[string]string // tenant/namespace/kind/workload → file:line
}

func (r *workloadsReader) Decode(it config.Item) []config.Problem {
	if it.Node.Kind != yaml.SequenceNode {
		return []config.Problem{{File: it.File, Line: it.Node.Line, Field: "rightsize", Severity: config.Error, Message: "want a list of workloads"}}
	}
	var problems []config.Problem
	for i, item := range it.Node.Content {
		field := fmt.Sprintf("rightsize[%d]", i)
		w, ps := readWorkload(it.File, item, field)
		problems = append(problems, ps...)
		if w == nil {
			continue
		}
		key := w.Tenant + "/" + w.Namespace + "/" + w.Kind + "/" + w.Workload
		if prev, ok := r.seen[key]; ok {
			problems = append(problems, config.Problem{File: it.File, Line: item.Line, Field: field + ".workload", Severity: config.Error,
				Message: fmt.Sprintf("workload %s/%s is also advised on at %s", w.Namespace, w.Workload, prev)})
			continue
		}
		r.seen[key] = fmt.Sprintf("%s:%d", it.File, item.Line)
		r.workloads = append(r.workloads, *w)
	}
	return problems
}

func (r *workloadsReader) Done() ([]Workload, []config.Problem) { return r.workloads, nil }

func readWorkload(file string, n *yaml.Node, field string) (*Workload, []config.Problem) {
	var y workloadYAML
	if p := config.DecodeStrict(file, n, field, &y); p != nil {
		return nil, []config.Problem{*p}
	}
	var problems []config.Problem
	bad := func(path, format string, args ...any) {
		problems = append(problems, config.Problem{File: file, Line: config.Line(n, strings.Split(path, ".")...), Field: field + "." + path,
			Severity: config.Error, Message: fmt.Sprintf(format, args...)})
	}
	w := &Workload{Tenant: y.Tenant, Namespace: y.Namespace, Kind: y.Kind, Workload: y.Workload, Every: durationOr(bad, "every", y.Every, DefaultEvery)}
	if w.Tenant == "" {
		w.Tenant = store.DefaultTenant
	}
	if w.Kind == "" {
		w.Kind = "Deployment"
	}
	switch {
	case y.Namespace == "":
		bad("namespace", "is required")
	case y.Workload == "":
		bad("workload", "is required")
	case y.Resources == nil && y.Replicas == nil:
		bad("workload", "says what to advise on: resources, replicas or both")
	}
	if y.Resources != nil {
		s, err := StrategyByName(y.Resources.Strategy)
		if err != nil {
			bad("resources.strategy", "%v", err)
		}
		w.Resources, w.ResourceHistory = s, durationOr(bad, "resources.history", y.Resources.History, DefaultHistory)
	}
	if y.Replicas != nil {
		w.Replicas, w.ReplicaHistory = readReplicas(bad, *y.Replicas)
		if w.Kind != "Deployment" {
			// The current count is kube-state-metrics' of Deployments.
			bad("replicas", "advises Deployments only, not a %s", w.Kind)
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return w, nil
}

func readReplicas(bad func(path, format string, args ...any), y replicasYAML) (*ReplicaQuery, time.Duration) {
	q := &ReplicaQuery{Service: y.Service, Operation: y.Operation, Model: y.Model, Target: y.TargetPerReplica}
	if y.Service == "" {
		bad("replicas.service", "is required: the service whose spans are the workload's load")
	}
	if y.LatencySLO != "" {
		d, err := time.ParseDuration(y.LatencySLO)
		if err != nil || d <= 0 {
			bad("replicas.latency_slo", "%q is not a positive duration such as 800ms", y.LatencySLO)
		}
		q.SLO = d.Seconds()
	}
	switch {
	case y.TargetPerReplica < 0 || y.TargetPerReplica > 1e12:
		bad("replicas.target_per_replica", "%v is not a positive number of requests/s", y.TargetPerReplica)
	case q.SLO == 0 && y.TargetPerReplica == 0:
		bad("replicas", "needs latency_slo or target_per_replica: what one replica sustains")
	}
	history := durationOr(bad, "replicas.history", y.History, DefaultReplicaHistory)
	if history > MaxReplicaHistory {
		bad("replicas.history", "%s: at most %s", history, MaxReplicaHistory)
	}
	return q, history
}

// durationOr reads a Go duration or whole days (14d); "" is def.
func durationOr(bad func(path, format string, args ...any), path, s string, def time.Duration) time.Duration {
	if s == "" {
		return def
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 && n <= 366 {
			return time.Duration(n) * 24 * time.Hour
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d
	}
	bad(path, "%q is not a positive duration such as 30m or 14d", s)
	return def
}
