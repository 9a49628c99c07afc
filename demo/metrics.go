package demo

import (
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The Kubernetes side of the fleet, as kube-state-metrics, cAdvisor and
// dcgm-exporter would describe it: the namespace, the GPU pods and their
// nodes.
const Namespace = "llm"

var (
	StablePods    = []string{"chat-model-stable-6b7d9f8c5d-k2x4p", "chat-model-stable-6b7d9f8c5d-w8n5q"}
	CanaryPod     = "chat-model-canary-5c8f7b9d6c-t4m2z"
	EmbeddingPods = []string{"embedding-server-7d9f8b6c5d-x2k4p", "embedding-server-7d9f8b6c5d-b5n8q"}
)

// gpuPod is one GPU pod: its node, GPU and how busy its work keeps it.
type gpuPod struct {
	pod, container, node, instanceType string
	gpuModel, uuid                     string
	fbTotalMiB                         float64
	// utilLow..utilHigh is the GPU utilisation over the day's cycle;
	// fbUsedMiB the frame buffer its model and cache hold.
	utilLow, utilHigh, fbUsedMiB float64
	cpuRequest, memRequest       float64 // cores, bytes
	cpuLow, cpuHigh, memUsed     float64
}

// gpuPods: the chat model runs busy on A100s; the embedding servers keep
// two A10Gs about 70% idle, which right-sizing should notice.
var gpuPods = []gpuPod{
	{StablePods[0], "vllm", "ip-10-0-1-17", "p4d.24xlarge", "NVIDIA A100-SXM4-40GB", "GPU-4d1c7e2a-0001", 40960, 58, 91, 36200, 8, 64 << 30, 2.2, 4.8, 41 << 30},
	{StablePods[1], "vllm", "ip-10-0-1-17", "p4d.24xlarge", "NVIDIA A100-SXM4-40GB", "GPU-4d1c7e2a-0002", 40960, 55, 89, 36200, 8, 64 << 30, 2.1, 4.6, 41 << 30},
	{CanaryPod, "vllm", "ip-10-0-1-17", "p4d.24xlarge", "NVIDIA A100-SXM4-40GB", "GPU-4d1c7e2a-0003", 40960, 12, 30, 36900, 8, 64 << 30, 1.1, 2.0, 43 << 30},
	{EmbeddingPods[0], "tei", "ip-10-0-3-21", "g5.xlarge", "NVIDIA A10G", "GPU-9a3b5c7d-0001", 23028, 12, 31, 7300, 3, 14 << 30, 0.35, 0.8, 5 << 30},
	{EmbeddingPods[1], "tei", "ip-10-0-3-22", "g5.xlarge", "NVIDIA A10G", "GPU-9a3b5c7d-0002", 23028, 11, 30, 7300, 3, 14 << 30, 0.35, 0.8, 5 << 30},
}

// dayCycle is 0 at the night's trough and 1 at the afternoon's peak, the
// shape of RatePerSecond.
func dayCycle(t time.Time) float64 {
	t = t.UTC()
	hour := float64(t.Hour()) + float64(t.Minute())/60
	return 0.5 + 0.5*math.Sin((hour-9)/24*2*math.Pi)
}

// wobble is a small deterministic noise in [-1, 1] for a series at a
// minute.
func wobble(key string, t time.Time) float64 {
	h := uint64(t.Unix() / 60)
	for _, c := range key {
		h = h*31 + uint64(c)
	}
	return float64(hash64(h)%2001)/1000 - 1
}

// Sample is one series' value at a time.
type Sample struct {
	Labels [][2]string // __name__ first
	Value  float64
	At     time.Time
}

// cpuSeconds is a pod's CPU counter at t: the integral of a usage that
// follows the day's cycle, from a fixed origin, so the history written
// with past timestamps and the live values scraped now are one counter.
func (p gpuPod) cpuSeconds(t time.Time) float64 {
	s := float64(t.Unix() - 1_700_000_000)
	mean, amp := (p.cpuLow+p.cpuHigh)/2, (p.cpuHigh-p.cpuLow)/2
	// ∫ mean + amp·sin(2π(x/86400) + φ) dx, with the cycle's phase.
	w := 2 * math.Pi / 86400
	phase := -9.0 / 24 * 2 * math.Pi
	return mean*s - amp/w*math.Cos(w*s+phase) + amp/w
}

// GPUSamples are the series of the GPU pods at t: DCGM's utilisation and
// frame buffer, cAdvisor's CPU and memory, kube-state-metrics' requests
// and node labels.
func GPUSamples(t time.Time) []Sample {
	var out []Sample
	add := func(v float64, labels ...[2]string) { out = append(out, Sample{Labels: labels, Value: v, At: t}) }
	nodes := map[string]string{}
	for i, p := range gpuPods {
		nodes[p.node] = p.instanceType
		cycle := dayCycle(t)
		util := p.utilLow + (p.utilHigh-p.utilLow)*cycle + 3*wobble(p.pod, t)
		used := p.fbUsedMiB + 400*cycle + 150*wobble(p.pod+"fb", t)
		dcgm := func(name string) [][2]string {
			return [][2]string{{"__name__", name}, {"gpu", strconv.Itoa(i % 4)}, {"UUID", p.uuid}, {"modelName", p.gpuModel}, {"Hostname", p.node},
				{"namespace", Namespace}, {"pod", p.pod}, {"container", p.container}}
		}
		add(math.Max(0, math.Min(100, util)), dcgm("DCGM_FI_DEV_GPU_UTIL")...)
		add(used, dcgm("DCGM_FI_DEV_FB_USED")...)
		add(p.fbTotalMiB-used, dcgm("DCGM_FI_DEV_FB_FREE")...)
		ctr := func(name string, extra ...[2]string) [][2]string {
			return append([][2]string{{"__name__", name}, {"namespace", Namespace}, {"pod", p.pod}, {"container", p.container}}, extra...)
		}
		add(p.cpuSeconds(t), ctr("container_cpu_usage_seconds_total")...)
		add(p.memUsed*(1+0.05*cycle+0.01*wobble(p.pod+"mem", t)), ctr("container_memory_working_set_bytes")...)
		add(p.cpuRequest, ctr("kube_pod_container_resource_requests", [2]string{"resource", "cpu"}, [2]string{"unit", "core"}, [2]string{"node", p.node})...)
		add(p.memRequest, ctr("kube_pod_container_resource_requests", [2]string{"resource", "memory"}, [2]string{"unit", "byte"}, [2]string{"node", p.node})...)
	}
	for node, typ := range nodes {
		add(1, [2]string{"__name__", "kube_node_labels"}, [2]string{"node", node}, [2]string{"label_node_kubernetes_io_instance_type", typ})
	}
	return out
}

// Metrics are the fleet's Prometheus metrics, through client_golang: the
// gateway's own, and the GPU model server's vLLM and DCGM series with
// the Kubernetes series beside them, each on a registry of its own as
// separate processes would expose them.
type Metrics struct {
	Gateway, GPU *prometheus.Registry

	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	tokens    *prometheus.CounterVec
	vllmTTFT  *prometheus.HistogramVec
	vllmToks  *prometheus.CounterVec
	vllmReqs  *prometheus.CounterVec
	running   *prometheus.GaugeVec
	cacheUse  *prometheus.GaugeVec
	mu        sync.Mutex
	gpuGauges map[string]*prometheus.GaugeVec // guarded by mu: by metric name
}

// NewMetrics registers the fleet's metrics.
func NewMetrics() *Metrics {
	m := &Metrics{Gateway: prometheus.NewRegistry(), GPU: prometheus.NewRegistry(), gpuGauges: map[string]*prometheus.GaugeVec{}}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gateway_requests_total", Help: "Chat requests the gateway answered, by model and HTTP status code."}, []string{"route", "model", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gateway_request_duration_seconds", Help: "How long the gateway took to answer a chat request.",
		Buckets: []float64{0.25, 0.5, 1, 2, 4, 8, 16, 32}}, []string{"route", "model"})
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gateway_tokens_total", Help: "Tokens of the model calls, by model and type (input or output)."}, []string{"model", "type"})
	m.Gateway.MustRegister(m.requests, m.duration, m.tokens)

	labels := []string{"model_name", "deployment"}
	m.vllmTTFT = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vllm:time_to_first_token_seconds", Help: "Histogram of time to first token in seconds.",
		Buckets: []float64{0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}}, labels)
	m.vllmToks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vllm:generation_tokens_total", Help: "Number of generation tokens processed."}, labels)
	m.vllmReqs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vllm:request_success_total", Help: "Count of successfully processed requests."}, labels)
	m.running = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vllm:num_requests_running", Help: "Number of requests currently running on GPU."}, labels)
	m.cacheUse = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vllm:gpu_cache_usage_perc", Help: "GPU KV-cache usage. 1 means 100 percent usage."}, labels)
	m.GPU.MustRegister(m.vllmTTFT, m.vllmToks, m.vllmReqs, m.running, m.cacheUse)
	return m
}

// observe counts one live request.
func (m *Metrics) observe(q Request) {
	code := "200"
	if q.Err != "" {
		code = "502"
	}
	m.requests.WithLabelValues("/v1/chat/completions", q.Model, code).Inc()
	m.duration.WithLabelValues("/v1/chat/completions", q.Model).Observe(q.Duration().Seconds())
	if q.Err == "" {
		m.tokens.WithLabelValues(q.Model, "input").Add(float64(q.InputTokens))
		m.tokens.WithLabelValues(q.Model, "output").Add(float64(q.OutputTokens))
	}
	if q.Deployment == "" {
		return
	}
	m.vllmTTFT.WithLabelValues(q.Model, q.Deployment).Observe(q.TTFT.Seconds())
	if q.Err == "" {
		m.vllmToks.WithLabelValues(q.Model, q.Deployment).Add(float64(q.OutputTokens))
		m.vllmReqs.WithLabelValues(q.Model, q.Deployment).Inc()
	}
}

// Refresh sets the GPU server's gauges to their values at t, given the
// self-hosted requests per second each deployment serves.
func (m *Metrics) Refresh(t time.Time, stableRPS, canaryRPS float64) {
	m.running.WithLabelValues(SelfHostedModel, Stable).Set(math.Round(stableRPS * 4.5))
	m.running.WithLabelValues(SelfHostedModel, Canary).Set(math.Round(canaryRPS * 5.5))
	m.cacheUse.WithLabelValues(SelfHostedModel, Stable).Set(math.Min(0.97, 0.35+0.12*stableRPS))
	m.cacheUse.WithLabelValues(SelfHostedModel, Canary).Set(math.Min(0.99, 0.2+0.3*canaryRPS))
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range GPUSamples(t) {
		name := s.Labels[0][1]
		var keys, values []string
		for _, l := range s.Labels[1:] {
			keys, values = append(keys, l[0]), append(values, l[1])
		}
		g := m.gpuGauges[name+"/"+joinKeys(keys)]
		if g == nil {
			// The counters among them are counters to the exporters that
			// own them; here they are values set from the model, so they
			// are exposed untyped, as a federation or a textfile would.
			g = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: "Simulated " + name + "."}, keys)
			if err := m.GPU.Register(g); err != nil {
				continue
			}
			m.gpuGauges[name+"/"+joinKeys(keys)] = g
		}
		g.WithLabelValues(values...).Set(s.Value)
	}
}

func joinKeys(keys []string) string {
	out := ""
	for _, k := range keys {
		out += k + ","
	}
	return out
}
