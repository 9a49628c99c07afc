package rightsize

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
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
	out := make([]Recommendation, 0, len(cs))
	prices := GPUPrices(r.instances())
	for _, c := range cs {
		rec := strategy.Recommend(c)
		for _, g := range gpus[workloadKey{c.Namespace, c.Kind, c.Workload, c.Name}] {
			rec.GPUs = append(rec.GPUs, AdviseGPU(*g, prices))
		}
		out = append(out, rec)
	}
	return out, nil
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

type workloadKey struct{ ns, kind, name, container string }

type podKey struct{ ns, pod string }

// latest is a series' last value and when it was seen.
type latest struct {
	t int64
	v float64
}

func last(ps []Point) (latest, bool) {
	if len(ps) == 0 {
		return latest{}, false
	}
	p := ps[len(ps)-1]
	return latest{p.TimestampMsec, p.Value}, true
}

// containers groups the series into workload containers.
func (r *Recommender) containers(in []rawSeries, q Query) ([]*Container, map[workloadKey][]*GPU) {
	step := r.Step
	if step == 0 {
		step = time.Minute
	}
	owners := map[podKey][2]string{} // kind, name
	nodeType := map[string]string{}
	for _, s := range in {
		switch s.name {
		case MetricPodOwner:
			if k, n := s.labels["owner_kind"], s.labels["owner_name"]; n != "" && n != "<none>" {
				owners[podKey{s.labels["namespace"], s.labels["pod"]}] = ownerWorkload(k, n)
			}
		case cost.MetricNodeLabels:
			if t := s.labels[cost.InstanceTypeLabel]; t != "" {
				nodeType[s.labels["node"]] = t
			}
		}
	}
	workloadOf := func(ns, pod string) (string, string) {
		if o, ok := owners[podKey{ns, pod}]; ok {
			return o[0], o[1]
		}
		return WorkloadFromPod(pod)
	}

	type podState struct {
		pod               Pod
		res               map[string]latest // "cpu/request", ...
		node              string
		lastSeen, lastRes int64
	}
	groups := map[workloadKey]map[string]*podState{}
	podContainers := map[podKey]map[string]bool{}
	var ooms = map[workloadKey][]OOMKill{}
	get := func(l map[string]string) (workloadKey, *podState) {
		ns, pod, ctr := l["namespace"], l["pod"], l["container"]
		if ns == "" || pod == "" || ctr == "" || ctr == "POD" {
			return workloadKey{}, nil
		}
		kind, name := workloadOf(ns, pod)
		k := workloadKey{ns, kind, name, ctr}
		if (q.Namespace != "" && q.Namespace != ns) || (q.Kind != "" && !strings.EqualFold(q.Kind, kind)) || (q.Workload != "" && q.Workload != name) || (q.Container != "" && q.Container != ctr) {
			return workloadKey{}, nil
		}
		if podContainers[podKey{ns, pod}] == nil {
			podContainers[podKey{ns, pod}] = map[string]bool{}
		}
		podContainers[podKey{ns, pod}][ctr] = true
		g := groups[k]
		if g == nil {
			g = map[string]*podState{}
			groups[k] = g
		}
		p := g[pod]
		if p == nil {
			p = &podState{pod: Pod{Name: pod}, res: map[string]latest{}}
			g[pod] = p
		}
		return k, p
	}
	gpus := map[workloadKey]map[string]*GPU{}
	for _, s := range in {
		switch s.name {
		case cost.MetricCPUUsage:
			if _, p := get(s.labels); p != nil {
				p.pod.CPU = append(p.pod.CPU, CounterRates(s.points, step)...)
				if l, ok := last(s.points); ok {
					p.lastSeen = max(p.lastSeen, l.t)
				}
			}
		case cost.MetricMemoryUsage:
			if _, p := get(s.labels); p != nil {
				p.pod.Memory = append(p.pod.Memory, s.points...)
				if l, ok := last(s.points); ok {
					p.lastSeen = max(p.lastSeen, l.t)
				}
			}
		case cost.MetricRequests, MetricLimits:
			res := s.labels["resource"]
			if res != "cpu" && res != "memory" {
				continue
			}
			if _, p := get(s.labels); p != nil {
				if l, ok := last(s.points); ok {
					setting := "request"
					if s.name == MetricLimits {
						setting = "limit"
					}
					key := res + "/" + setting
					if cur, seen := p.res[key]; !seen || l.t >= cur.t {
						p.res[key] = l
					}
					p.lastRes = max(p.lastRes, l.t)
					if s.labels["node"] != "" {
						p.node = s.labels["node"]
					}
				}
			}
		case MetricLastTerminated:
			k, p := get(s.labels)
			if p == nil {
				continue
			}
			// A kill is a rise of the gauge to 1 (the first sample counts
			// when it is already 1: the kill happened then or just before).
			prev := 0.0
			for _, pt := range s.points {
				if pt.Value > 0 && prev <= 0 {
					ooms[k] = append(ooms[k], OOMKill{Pod: p.pod.Name, TimestampMsec: pt.TimestampMsec})
				}
				prev = pt.Value
			}
		case MetricGPUUtil, MetricGPUFBUsed, MetricGPUFBFree:
			l := dcgmLabels(s.labels)
			k, p := get(l)
			if p == nil {
				continue
			}
			id := s.labels["UUID"]
			if id == "" {
				id = s.labels["Hostname"] + "/" + s.labels["gpu"]
			}
			if gpus[k] == nil {
				gpus[k] = map[string]*GPU{}
			}
			g := gpus[k][id]
			if g == nil {
				g = &GPU{ID: id, Model: s.labels["modelName"]}
				gpus[k][id] = g
			}
			switch s.name {
			case MetricGPUUtil:
				g.Util = append(g.Util, s.points...)
			case MetricGPUFBUsed:
				g.FBUsed = append(g.FBUsed, s.points...)
			default:
				g.FBFree = append(g.FBFree, s.points...)
			}
		}
	}

	instances := r.instances()
	keys := make([]workloadKey, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.ns != b.ns {
			return a.ns < b.ns
		}
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		if a.name != b.name {
			return a.name < b.name
		}
		return a.container < b.container
	})
	var out []*Container
	for _, k := range keys {
		g := groups[k]
		names := make([]string, 0, len(g))
		for n := range g {
			names = append(names, n)
		}
		sort.Strings(names)
		c := &Container{Namespace: k.ns, Kind: k.kind, Workload: k.name, Name: k.container}
		var newest *podState
		var lastSeen int64
		for _, n := range names {
			p := g[n]
			sortPoints(p.pod.CPU)
			sortPoints(p.pod.Memory)
			c.Pods = append(c.Pods, p.pod)
			lastSeen = max(lastSeen, p.lastSeen)
			if len(p.res) > 0 && (newest == nil || p.lastRes > newest.lastRes) {
				newest = p
			}
		}
		// Pods seen in the last five minutes of the data are running now.
		for _, n := range names {
			if g[n].lastSeen >= lastSeen-(5*time.Minute).Milliseconds() && g[n].lastSeen > 0 {
				c.Replicas++
			}
		}
		if newest != nil {
			c.Current = Resources{CPURequest: newest.res["cpu/request"].v, CPULimit: newest.res["cpu/limit"].v,
				MemoryRequest: newest.res["memory/request"].v, MemoryLimit: newest.res["memory/limit"].v}
			c.PodContainers = len(podContainers[podKey{k.ns, newest.pod.Name}])
			if it, ok := instances.Lookup(nodeType[newest.node]); ok {
				if n, err := it.Node(newest.node); err == nil {
					c.Prices = n.Prices()
				}
			}
		}
		for _, o := range ooms[k] {
			// The limit and request it was killed at: the pod's own.
			if p := g[o.Pod]; p != nil {
				o.Limit, o.Request = p.res["memory/limit"].v, p.res["memory/request"].v
			}
			c.OOMKills = append(c.OOMKills, o)
		}
		out = append(out, c)
	}
	gpuOut := map[workloadKey][]*GPU{}
	for k, byID := range gpus {
		ids := make([]string, 0, len(byID))
		for id := range byID {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			g := byID[id]
			sortPoints(g.Util)
			sortPoints(g.FBUsed)
			sortPoints(g.FBFree)
			gpuOut[k] = append(gpuOut[k], g)
		}
	}
	return out, gpuOut
}

func sortPoints(ps []Point) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].TimestampMsec < ps[j].TimestampMsec })
}

// dcgmLabels maps dcgm-exporter's pod labels (namespace/pod/container, or
// pod_namespace/pod_name/container_name in older releases) to cAdvisor's.
func dcgmLabels(l map[string]string) map[string]string {
	pick := func(a, b string) string {
		if l[a] != "" {
			return l[a]
		}
		return l[b]
	}
	return map[string]string{"namespace": pick("namespace", "pod_namespace"), "pod": pick("pod", "pod_name"), "container": pick("container", "container_name")}
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
