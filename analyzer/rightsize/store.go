package rightsize

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/store"
)

// MetricReader is the part of the store the Recommender reads.
type MetricReader interface {
	Series(ctx context.Context, tenant string, matchers []*store.Matcher) ([]store.Series, error)
	Samples(ctx context.Context, tenant string, fingerprints []uint64, start, end time.Time) ([]store.Sample, error)
}

// The metrics the Recommender reads besides cost's cAdvisor and
// kube-state-metrics names: limits, OOM kills, pod owners and DCGM.
const (
	MetricLimits         = "kube_pod_container_resource_limits"
	MetricLastTerminated = "kube_pod_container_status_last_terminated_reason"
	MetricPodOwner       = "kube_pod_owner"
	MetricGPUUtil        = "DCGM_FI_DEV_GPU_UTIL"
	MetricGPUFBUsed      = "DCGM_FI_DEV_FB_USED"
	MetricGPUFBFree      = "DCGM_FI_DEV_FB_FREE"
)

// Recommender reads container metrics from the store and runs a strategy
// over them.
type Recommender struct {
	Metrics MetricReader
	// Instances price nodes by instance type (kube_node_labels); nil is
	// the built-in table.
	Instances cost.InstanceTable
	// Step is the CPU counter's rate step; 0 means one minute.
	Step time.Duration
}

// Query selects what to recommend for. Empty filters match everything.
type Query struct {
	Tenant                               string
	Start, End                           time.Time
	Namespace, Kind, Workload, Container string
	Strategy                             Strategy // nil means Simple
}

// DefaultHistory is KRR's history length.
const DefaultHistory = 14 * 24 * time.Hour

// Recommend reads the window's series and returns one recommendation per
// workload container, sorted by namespace, kind, workload and container,
// with GPU advice for the GPUs the workload's pods used.
func (r *Recommender) Recommend(ctx context.Context, q Query) ([]Recommendation, error) {
	if !q.End.After(q.Start) {
		return nil, fmt.Errorf("recommendation window: end %s is not after start %s", q.End, q.Start)
	}
	strategy := q.Strategy
	if strategy == nil {
		strategy = Simple{}
	}
	in, err := r.read(ctx, q)
	if err != nil {
		return nil, err
	}
	cs, gpus := r.containers(in, q)
	out := recommendAll(strategy, cs)
	prices := GPUPrices(r.instances())
	for i, c := range cs {
		for _, g := range gpus[workloadKey{c.Namespace, c.Kind, c.Workload, c.Name}] {
			out[i].GPUs = append(out[i].GPUs, AdviseGPU(*g, prices))
		}
	}
	return out, nil
}

// recommendAll recommends for each container, in their order. Containers
// are independent and a strategy is a function of one container, so
// they are computed on up to GOMAXPROCS goroutines at once.
func recommendAll(strategy Strategy, cs []*Container) []Recommendation {
	out := make([]Recommendation, len(cs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(cs)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(cs); i = int(next.Add(1) - 1) {
				out[i] = strategy.Recommend(cs[i])
			}
		})
	}
	wg.Wait()
	return out
}

func (r *Recommender) instances() cost.InstanceTable {
	if r.Instances == nil {
		return cost.DefaultInstances()
	}
	return r.Instances
}

type rawSeries struct {
	name   string
	labels map[string]string
	points []Point
}

// read loads every series the recommender uses in the window.
func (r *Recommender) read(ctx context.Context, q Query) ([]rawSeries, error) {
	names := []string{cost.MetricCPUUsage, cost.MetricMemoryUsage, cost.MetricRequests, MetricLimits, MetricLastTerminated,
		MetricPodOwner, cost.MetricNodeLabels, MetricGPUUtil, MetricGPUFBUsed, MetricGPUFBFree}
	var out []rawSeries
	for _, name := range names {
		ms := []*store.Matcher{mustMatcher(store.MatchEqual, store.MetricNameLabel, name)}
		if q.Namespace != "" && name != cost.MetricNodeLabels && !strings.HasPrefix(name, "DCGM_") {
			ms = append(ms, mustMatcher(store.MatchEqual, "namespace", q.Namespace))
		}
		if name == MetricLastTerminated {
			ms = append(ms, mustMatcher(store.MatchEqual, "reason", "OOMKilled"))
		}
		ss, err := r.Metrics.Series(ctx, q.Tenant, ms)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s series: %w", name, err)
		}
		if len(ss) == 0 {
			continue
		}
		fps := make([]uint64, len(ss))
		idx := make(map[uint64]int, len(ss))
		base := len(out)
		for i, s := range ss {
			fps[i], idx[s.Fingerprint] = s.Fingerprint, base+i
			l := make(map[string]string, len(s.Labels))
			for _, kv := range s.Labels {
				l[kv.Key] = kv.Value
			}
			out = append(out, rawSeries{name: name, labels: l})
		}
		samples, err := r.Metrics.Samples(ctx, q.Tenant, fps, q.Start, q.End)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s samples: %w", name, err)
		}
		for _, sm := range samples {
			i := idx[sm.Fingerprint]
			out[i].points = append(out[i].points, Point{TimestampMsec: sm.TimestampMsec, Value: sm.Value})
		}
	}
	return out, nil
}

func mustMatcher(t store.MatchType, name, value string) *store.Matcher {
	m, err := store.NewMatcher(t, name, value)
	if err != nil {
		panic(err)
	}
	return m
}

// Kubernetes names generated suffixes from this alphabet (no vowels, no
// 0, 1 or 3), which tells them apart from words in a name.
const k8sAlphabet = "bcdfghjklmnpqrstvwxz2456789"

var (
	deploymentPod = regexp.MustCompile(`^(.+)-[` + k8sAlphabet + `]{6,10}-[` + k8sAlphabet + `]{5}$`)
	replicaSet    = regexp.MustCompile(`^(.+)-[` + k8sAlphabet + `]{6,10}$`)
	statefulPod   = regexp.MustCompile(`^(.+)-[0-9]+$`)
	generatedPod  = regexp.MustCompile(`^(.+)-[` + k8sAlphabet + `]{5}$`)
	cronJobRun    = regexp.MustCompile(`^(.+)-[0-9]{8,}$`)
)

// WorkloadFromPod guesses a pod's workload from its name, as KRR does
// without owner references: name-<replicaset hash>-<suffix> is a
// Deployment, name-<ordinal> a StatefulSet, name-<suffix> a DaemonSet or
// Job (kind Unknown: the name cannot tell), anything else the Pod itself.
func WorkloadFromPod(pod string) (kind, name string) {
	if m := deploymentPod.FindStringSubmatch(pod); m != nil {
		return "Deployment", m[1]
	}
	if m := statefulPod.FindStringSubmatch(pod); m != nil {
		return "StatefulSet", m[1]
	}
	if m := generatedPod.FindStringSubmatch(pod); m != nil {
		return "Unknown", m[1]
	}
	return "Pod", pod
}

// ownerWorkload maps kube_pod_owner's owner to the workload users edit: a
// ReplicaSet's Deployment, a Job's CronJob.
func ownerWorkload(kind, name string) [2]string {
	switch kind {
	case "ReplicaSet":
		if m := replicaSet.FindStringSubmatch(name); m != nil {
			return [2]string{"Deployment", m[1]}
		}
	case "Job":
		if m := cronJobRun.FindStringSubmatch(name); m != nil {
			return [2]string{"CronJob", m[1]}
		}
	}
	return [2]string{kind, name}
}
