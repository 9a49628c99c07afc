package rightsize

import (
	"sort"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/cost"
)

// Grouping the store's series into the containers the strategies take, one
// decision at a time: which workload a pod belongs to (podOwners), which
// containers the query keeps (Query.selects), what each pod used and was
// given (collation.add), and then, per container, how many replicas run,
// what it requests now and at what node's prices, and the OOM kills at the
// pod's own limits (collation.container).

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

// containers groups the series into workload containers, sorted by
// namespace, kind, workload and container, with the GPUs each one's pods
// used.
func (r *Recommender) containers(in []rawSeries, q Query) ([]*Container, map[workloadKey][]*GPU) {
	step := r.Step
	if step == 0 {
		step = time.Minute
	}
	c := newCollation(readOwners(in), q)
	for _, s := range in {
		c.add(s, step)
	}
	return c.containers(r.instances()), c.gpuList()
}

// podOwners says which workload each pod belongs to and which instance
// type each node is.
type podOwners struct {
	owners   map[podKey][2]string // kind, name, from kube_pod_owner
	nodeType map[string]string    // from kube_node_labels
}

func readOwners(in []rawSeries) podOwners {
	o := podOwners{owners: map[podKey][2]string{}, nodeType: map[string]string{}}
	for _, s := range in {
		switch s.name {
		case MetricPodOwner:
			if k, n := s.labels["owner_kind"], s.labels["owner_name"]; n != "" && n != "<none>" {
				o.owners[podKey{s.labels["namespace"], s.labels["pod"]}] = ownerWorkload(k, n)
			}
		case cost.MetricNodeLabels:
			if t := s.labels[cost.InstanceTypeLabel]; t != "" {
				o.nodeType[s.labels["node"]] = t
			}
		}
	}
	return o
}

// workload is the pod's workload: its owner's, or else the one its name
// suggests (WorkloadFromPod).
func (o podOwners) workload(ns, pod string) (kind, name string) {
	if w, ok := o.owners[podKey{ns, pod}]; ok {
		return w[0], w[1]
	}
	return WorkloadFromPod(pod)
}

// selects reports whether the query's filters keep a container; the kind
// matches in any case.
func (q *Query) selects(k workloadKey) bool {
	return (q.Namespace == "" || q.Namespace == k.ns) && (q.Kind == "" || strings.EqualFold(q.Kind, k.kind)) &&
		(q.Workload == "" || q.Workload == k.name) && (q.Container == "" || q.Container == k.container)
}

// resourceSetting names one of a container's four settings.
type resourceSetting struct {
	resource Resource
	setting  Setting
}

// podState is what one pod of a workload container used and was given.
type podState struct {
	pod      Pod
	res      map[resourceSetting]latest // the latest of each
	node     string
	lastSeen int64 // the last usage sample
	lastRes  int64 // the last request or limit sample
}

// collation gathers the series by workload container and pod.
type collation struct {
	owners        podOwners
	q             Query
	groups        map[workloadKey]map[string]*podState // by pod name
	podContainers map[podKey]map[string]bool           // the containers each pod has
	ooms          map[workloadKey][]OOMKill
	gpus          map[workloadKey]map[string]*GPU // by GPU id
}

func newCollation(owners podOwners, q Query) *collation {
	return &collation{owners: owners, q: q, groups: map[workloadKey]map[string]*podState{}, podContainers: map[podKey]map[string]bool{},
		ooms: map[workloadKey][]OOMKill{}, gpus: map[workloadKey]map[string]*GPU{}}
}

// pod returns the container and pod a series' labels name, nil for a
// series without them, of the pause container, or one the query leaves
// out.
func (c *collation) pod(l map[string]string) (workloadKey, *podState) {
	ns, pod, ctr := l["namespace"], l["pod"], l["container"]
	if ns == "" || pod == "" || ctr == "" || ctr == "POD" {
		return workloadKey{}, nil
	}
	kind, name := c.owners.workload(ns, pod)
	k := workloadKey{ns, kind, name, ctr}
	if !c.q.selects(k) {
		return workloadKey{}, nil
	}
	pk := podKey{ns, pod}
	if c.podContainers[pk] == nil {
		c.podContainers[pk] = map[string]bool{}
	}
	c.podContainers[pk][ctr] = true
	g := c.groups[k]
	if g == nil {
		g = map[string]*podState{}
		c.groups[k] = g
	}
	p := g[pod]
	if p == nil {
		p = &podState{pod: Pod{Name: pod}, res: map[resourceSetting]latest{}}
		g[pod] = p
	}
	return k, p
}

// add files one series under its container and pod.
func (c *collation) add(s rawSeries, step time.Duration) {
	switch s.name {
	case cost.MetricCPUUsage:
		if _, p := c.pod(s.labels); p != nil {
			p.pod.CPU = append(p.pod.CPU, CounterRates(s.points, step)...)
			p.seen(s.points)
		}
	case cost.MetricMemoryUsage:
		if _, p := c.pod(s.labels); p != nil {
			p.pod.Memory = append(p.pod.Memory, s.points...)
			p.seen(s.points)
		}
	case cost.MetricRequests, MetricLimits:
		c.addResource(s)
	case MetricLastTerminated:
		if k, p := c.pod(s.labels); p != nil {
			for _, t := range oomKillTimes(s.points) {
				c.ooms[k] = append(c.ooms[k], OOMKill{Pod: p.pod.Name, TimestampMsec: t})
			}
		}
	case MetricGPUUtil, MetricGPUFBUsed, MetricGPUFBFree:
		c.addGPU(s)
	}
}

// seen notes the pod's last usage sample.
func (p *podState) seen(ps []Point) {
	if l, ok := last(ps); ok {
		p.lastSeen = max(p.lastSeen, l.t)
	}
}

// addResource keeps a pod's latest CPU or memory request or limit, and
// the node it was reported on.
func (c *collation) addResource(s rawSeries) {
	res := Resource(s.labels["resource"])
	if res != CPU && res != Memory {
		return
	}
	_, p := c.pod(s.labels)
	if p == nil {
		return
	}
	l, ok := last(s.points)
	if !ok {
		return
	}
	key := resourceSetting{res, Request}
	if s.name == MetricLimits {
		key.setting = Limit
	}
	if cur, seen := p.res[key]; !seen || l.t >= cur.t {
		p.res[key] = l
	}
	p.lastRes = max(p.lastRes, l.t)
	if s.labels["node"] != "" {
		p.node = s.labels["node"]
	}
}

// oomKillTimes are the kills in kube_pod_container_status_last_terminated_reason
// {reason="OOMKilled"}: each rise of the gauge to 1 (the first sample
// counts when it is already 1: the kill happened then or just before).
func oomKillTimes(ps []Point) []int64 {
	var out []int64
	prev := 0.0
	for _, pt := range ps {
		if pt.Value > 0 && prev <= 0 {
			out = append(out, pt.TimestampMsec)
		}
		prev = pt.Value
	}
	return out
}

// addGPU files a DCGM series under the GPU (by UUID, or host and index)
// and the container dcgm-exporter says used it.
func (c *collation) addGPU(s rawSeries) {
	k, p := c.pod(dcgmLabels(s.labels))
	if p == nil {
		return
	}
	id := s.labels["UUID"]
	if id == "" {
		id = s.labels["Hostname"] + "/" + s.labels["gpu"]
	}
	if c.gpus[k] == nil {
		c.gpus[k] = map[string]*GPU{}
	}
	g := c.gpus[k][id]
	if g == nil {
		g = &GPU{ID: id, Model: s.labels["modelName"]}
		c.gpus[k][id] = g
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

// containers builds every container gathered, in order.
func (c *collation) containers(instances cost.InstanceTable) []*Container {
	keys := make([]workloadKey, 0, len(c.groups))
	for k := range c.groups {
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
		out = append(out, c.container(k, instances))
	}
	return out
}

// container builds one container from its pods: their usage, how many run
// now, what the newest pod requests and at what node's prices, and the
// OOM kills.
func (c *collation) container(k workloadKey, instances cost.InstanceTable) *Container {
	g := c.groups[k]
	names := make([]string, 0, len(g))
	for n := range g {
		names = append(names, n)
	}
	sort.Strings(names)
	ct := &Container{Namespace: k.ns, Kind: k.kind, Workload: k.name, Name: k.container}
	for _, n := range names {
		p := g[n]
		sortPoints(p.pod.CPU)
		sortPoints(p.pod.Memory)
		ct.Pods = append(ct.Pods, p.pod)
	}
	ct.Replicas = runningReplicas(g)
	if p := newestResources(g, names); p != nil {
		ct.Current = Resources{CPURequest: p.res[resourceSetting{CPU, Request}].v, CPULimit: p.res[resourceSetting{CPU, Limit}].v,
			MemoryRequest: p.res[resourceSetting{Memory, Request}].v, MemoryLimit: p.res[resourceSetting{Memory, Limit}].v}
		ct.PodContainers = len(c.podContainers[podKey{k.ns, p.pod.Name}])
		if it, ok := instances.Lookup(c.owners.nodeType[p.node]); ok {
			if n, err := it.Node(p.node); err == nil {
				ct.Prices = n.Prices()
			}
		}
	}
	for _, o := range c.ooms[k] {
		// The limit and request it was killed at: the pod's own.
		if p := g[o.Pod]; p != nil {
			o.Limit, o.Request = p.res[resourceSetting{Memory, Limit}].v, p.res[resourceSetting{Memory, Request}].v
		}
		ct.OOMKills = append(ct.OOMKills, o)
	}
	return ct
}

// runningReplicas counts the pods running now: those seen in the last five
// minutes of the data.
func runningReplicas(pods map[string]*podState) int {
	var lastSeen int64
	for _, p := range pods {
		lastSeen = max(lastSeen, p.lastSeen)
	}
	n := 0
	for _, p := range pods {
		if p.lastSeen >= lastSeen-(5*time.Minute).Milliseconds() && p.lastSeen > 0 {
			n++
		}
	}
	return n
}

// newestResources is the pod whose requests and limits were reported last
// (the first by name on a tie), whose settings are the container's
// current ones; nil when no pod has any.
func newestResources(pods map[string]*podState, names []string) *podState {
	var newest *podState
	for _, n := range names {
		if p := pods[n]; len(p.res) > 0 && (newest == nil || p.lastRes > newest.lastRes) {
			newest = p
		}
	}
	return newest
}

// gpuList is the GPUs of each container, by id, their samples in time
// order.
func (c *collation) gpuList() map[workloadKey][]*GPU {
	out := map[workloadKey][]*GPU{}
	for k, byID := range c.gpus {
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
			out[k] = append(out[k], g)
		}
	}
	return out
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
