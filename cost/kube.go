package cost

import (
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// The metrics allocation reads, as cAdvisor, kube-state-metrics and the
// DCGM exporter name them.
const (
	MetricCPUUsage     = "container_cpu_usage_seconds_total"
	MetricMemoryUsage  = "container_memory_working_set_bytes"
	MetricRequests     = "kube_pod_container_resource_requests"
	MetricNodeCapacity = "kube_node_status_capacity"
	MetricNodeLabels   = "kube_node_labels"
	MetricPodLabels    = "kube_pod_labels"
)

// KubeMetricNames lists every metric KubeInputs reads.
var KubeMetricNames = []string{MetricCPUUsage, MetricMemoryUsage, MetricRequests, MetricNodeCapacity, MetricNodeLabels, MetricPodLabels}

// Point is one sample.
type Point struct {
	TimestampMsec int64
	Value         float64
}

// MetricSeries is a series' labels and its samples in the window, oldest
// first.
type MetricSeries struct {
	Name   string
	Labels map[string]string
	Points []Point
}

// InstanceTypeLabel is the kube_node_labels label that names a node's
// instance type (node.kubernetes.io/instance-type, as kube-state-metrics
// exports it).
const InstanceTypeLabel = "label_node_kubernetes_io_instance_type"

var gib = decimal.NewFromInt(1 << 30)

// KubeInputs turns container, pod and node metrics over [start, end) into the
// containers and nodes Allocate takes. CPU usage is the counter's increase
// over the time it was seen; memory usage and requests are averages; a
// container's hours are the time its request series spans, plus one
// sample interval, within the window. A node's price comes from its
// instance type in the table; a node without one is priced at the default
// unit prices (its hourly cost is its capacity at those prices).
func KubeInputs(series []MetricSeries, start, end time.Time, instances InstanceTable) ([]Container, map[string]Node) {
	type key struct{ ns, pod, container string }
	containers := map[key]*Container{}
	get := func(l map[string]string) *Container {
		k := key{l["namespace"], l["pod"], l["container"]}
		if k.ns == "" || k.pod == "" || k.container == "" || k.container == "POD" {
			return nil
		}
		c := containers[k]
		if c == nil {
			c = &Container{Namespace: k.ns, Pod: k.pod, Container: k.container, Labels: map[string]string{}}
			containers[k] = c
		}
		return c
	}
	type capacity struct{ cpu, ram, gpu decimal.Decimal }
	caps := map[string]*capacity{}
	nodeType := map[string]string{}
	podLabels := map[[2]string]map[string]string{}
	window := end.Sub(start)
	for _, s := range series {
		if len(s.Points) == 0 {
			continue
		}
		switch s.Name {
		case MetricCPUUsage:
			if c := get(s.Labels); c != nil {
				c.CPUUsage = c.CPUUsage.Add(decimal.NewFromFloat(counterRate(s.Points)))
				setNode(c, s.Labels)
			}
		case MetricMemoryUsage:
			if c := get(s.Labels); c != nil {
				c.RAMUsage = c.RAMUsage.Add(decimal.NewFromFloat(average(s.Points)).Div(gib))
				setNode(c, s.Labels)
			}
		case MetricRequests:
			c := get(s.Labels)
			if c == nil {
				continue
			}
			setNode(c, s.Labels)
			v := decimal.NewFromFloat(average(s.Points))
			switch resource(s.Labels["resource"]) {
			case "cpu":
				c.CPURequest = c.CPURequest.Add(v)
			case "memory":
				c.RAMRequest = c.RAMRequest.Add(v.Div(gib))
			case "gpu":
				c.GPUs = c.GPUs.Add(v)
			}
			if h := seenHours(s.Points, window); h.GreaterThan(c.Hours) {
				c.Hours = h
			}
		case MetricNodeCapacity:
			n := s.Labels["node"]
			if n == "" {
				continue
			}
			cp := caps[n]
			if cp == nil {
				cp = &capacity{}
				caps[n] = cp
			}
			v := decimal.NewFromFloat(average(s.Points))
			switch resource(s.Labels["resource"]) {
			case "cpu":
				cp.cpu = v
			case "memory":
				cp.ram = v.Div(gib)
			case "gpu":
				cp.gpu = v
			}
		case MetricPodLabels:
			k := [2]string{s.Labels["namespace"], s.Labels["pod"]}
			for name, v := range s.Labels {
				if l, ok := strings.CutPrefix(name, "label_"); ok && v != "" {
					if podLabels[k] == nil {
						podLabels[k] = map[string]string{}
					}
					podLabels[k][l] = v
				}
			}
		case MetricNodeLabels:
			if t := s.Labels[InstanceTypeLabel]; t != "" && s.Labels["node"] != "" {
				nodeType[s.Labels["node"]] = t
			}
		}
	}
	nodes := map[string]Node{}
	for name, cp := range caps {
		n := Node{Name: name, CPUCores: cp.cpu, RAMGiB: cp.ram, GPUs: cp.gpu}
		if it, ok := instances.Lookup(nodeType[name]); ok {
			priced, _ := it.Node(name)
			n.HourlyCost = priced.HourlyCost
		} else {
			d := DefaultResourcePrices
			n.HourlyCost = cp.cpu.Mul(d.CPUCoreHour).Add(cp.ram.Mul(d.RAMGiBHour)).Add(cp.gpu.Mul(d.GPUHour))
		}
		nodes[name] = n
	}
	out := make([]Container, 0, len(containers))
	for _, c := range containers {
		for k, v := range podLabels[[2]string{c.Namespace, c.Pod}] {
			c.Labels[k] = v
		}
		if c.Hours.IsZero() {
			// No request series: charge usage over the whole window.
			c.Hours = decimal.NewFromFloat(window.Hours())
		}
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.Namespace+"/"+a.Pod+"/"+a.Container < b.Namespace+"/"+b.Pod+"/"+b.Container
	})
	return out, nodes
}

func setNode(c *Container, l map[string]string) {
	if c.Node == "" {
		c.Node = l["node"]
	}
}

// resource normalises kube-state-metrics resource names.
func resource(r string) string {
	switch {
	case r == "cpu", r == "memory":
		return r
	case strings.Contains(r, "gpu"): // nvidia_com_gpu, amd_com_gpu
		return "gpu"
	}
	return r
}

// counterIncrease is how much a counter grew over the points, counting
// resets as Prometheus does (a drop means it restarted from zero).
func counterIncrease(ps []Point) float64 {
	var inc float64
	for i := 1; i < len(ps); i++ {
		d := ps[i].Value - ps[i-1].Value
		if d < 0 {
			d = ps[i].Value
		}
		inc += d
	}
	return inc
}

// counterRate is a counter's average per-second increase over the points.
func counterRate(ps []Point) float64 {
	if len(ps) < 2 {
		return 0
	}
	secs := float64(ps[len(ps)-1].TimestampMsec-ps[0].TimestampMsec) / 1000
	if secs <= 0 {
		return 0
	}
	return counterIncrease(ps) / secs
}

func average(ps []Point) float64 {
	var s float64
	for _, p := range ps {
		s += p.Value
	}
	return s / float64(len(ps))
}

// seenHours is the time a series spans plus one median sample interval,
// capped at the window.
func seenHours(ps []Point, window time.Duration) decimal.Decimal {
	var interval int64
	if len(ps) > 1 {
		gaps := make([]int64, len(ps)-1)
		for i := 1; i < len(ps); i++ {
			gaps[i-1] = ps[i].TimestampMsec - ps[i-1].TimestampMsec
		}
		sort.Slice(gaps, func(i, j int) bool { return gaps[i] < gaps[j] })
		interval = gaps[len(gaps)/2]
	}
	d := time.Duration(ps[len(ps)-1].TimestampMsec-ps[0].TimestampMsec+interval) * time.Millisecond
	if d > window {
		d = window
	}
	return decimal.NewFromFloat(d.Hours())
}
