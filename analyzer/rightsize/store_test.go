package rightsize

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// memStore is a MetricReader over series held in memory.
type memStore struct {
	series  []store.Series
	samples map[uint64][]store.Sample
}

func (m *memStore) add(name string, labels map[string]string, ps []Point) {
	var attrs store.Attributes
	for k, v := range labels {
		attrs = append(attrs, store.KeyValue{Key: k, Value: v})
	}
	s := store.NewSeries("acme", name, store.MetricUnknown, attrs)
	m.series = append(m.series, s)
	if m.samples == nil {
		m.samples = map[uint64][]store.Sample{}
	}
	for _, p := range ps {
		m.samples[s.Fingerprint] = append(m.samples[s.Fingerprint], store.Sample{Tenant: "acme", Fingerprint: s.Fingerprint, TimestampMsec: p.TimestampMsec, Value: p.Value})
	}
}

func (m *memStore) Series(_ context.Context, tenant string, ms []*store.Matcher) ([]store.Series, error) {
	var out []store.Series
	for i := range m.series {
		if m.series[i].Tenant == tenant && store.MatchSeries(&m.series[i], ms) {
			out = append(out, m.series[i])
		}
	}
	return out, nil
}

func (m *memStore) Samples(_ context.Context, _ string, fps []uint64, start, end time.Time) ([]store.Sample, error) {
	var out []store.Sample
	for _, fp := range fps {
		for _, s := range m.samples[fp] {
			if s.TimestampMsec >= start.UnixMilli() && s.TimestampMsec < end.UnixMilli() {
				out = append(out, s)
			}
		}
	}
	return out, nil
}

func TestWorkloadFromPod(t *testing.T) {
	for pod, want := range map[string][2]string{
		"checkout-api-7d9f8b6c5d-x2k4p": {"Deployment", "checkout-api"},
		"postgres-0":                    {"StatefulSet", "postgres"},
		"node-exporter-h7k2q":           {"Unknown", "node-exporter"},
		"debug":                         {"Pod", "debug"},
		"my-service-abcde":              {"Pod", "my-service-abcde"}, // vowels: not generated
	} {
		if k, n := WorkloadFromPod(pod); k != want[0] || n != want[1] {
			t.Errorf("%s = %s %s, want %v", pod, k, n, want)
		}
	}
	if o := ownerWorkload("ReplicaSet", "api-7d9f8b6c5d"); o != [2]string{"Deployment", "api"} {
		t.Errorf("ReplicaSet owner = %v", o)
	}
	if o := ownerWorkload("Job", "report-29012345"); o != [2]string{"CronJob", "report"} {
		t.Errorf("Job owner = %v", o)
	}
}

func TestRecommenderReadsTheStore(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	n := 200
	m := &memStore{}
	// Two pods of Deployment "api" (named by kube_pod_owner for one, by the
	// pod name for the other); CPU counters at 0.25 and 0.5 core.
	for i, pod := range []string{"api-7d9f8b6c5d-x2k4p", "api-7d9f8b6c5d-b5n8q"} {
		rate := 0.25 * float64(i+1)
		l := map[string]string{"namespace": "shop", "pod": pod, "container": "app"}
		m.add("container_cpu_usage_seconds_total", l, series(t0.UnixMilli(), n, func(j int) float64 { return rate * 60 * float64(j) }))
		m.add("container_memory_working_set_bytes", l, series(t0.UnixMilli(), n, constant(float64(100+100*i)*MiB)))
		for res, v := range map[string]float64{"cpu": 1, "memory": GiB} {
			m.add("kube_pod_container_resource_requests", map[string]string{"namespace": "shop", "pod": pod, "container": "app", "resource": res, "node": "n1"}, series(t0.UnixMilli(), n, constant(v)))
		}
		m.add("kube_pod_container_resource_limits", map[string]string{"namespace": "shop", "pod": pod, "container": "app", "resource": "memory"}, series(t0.UnixMilli(), n, constant(GiB)))
	}
	m.add("kube_pod_owner", map[string]string{"namespace": "shop", "pod": "api-7d9f8b6c5d-x2k4p", "owner_kind": "ReplicaSet", "owner_name": "api-7d9f8b6c5d"}, series(t0.UnixMilli(), 1, constant(1)))
	// The pause container and another namespace are left out.
	m.add("container_memory_working_set_bytes", map[string]string{"namespace": "shop", "pod": "api-7d9f8b6c5d-x2k4p", "container": "POD"}, series(t0.UnixMilli(), n, constant(MiB)))
	m.add("container_memory_working_set_bytes", map[string]string{"namespace": "other", "pod": "x-0", "container": "db"}, series(t0.UnixMilli(), n, constant(MiB)))
	// The second pod was OOM-killed at its 1 GiB limit at minute 100.
	m.add("kube_pod_container_status_last_terminated_reason", map[string]string{"namespace": "shop", "pod": "api-7d9f8b6c5d-b5n8q", "container": "app", "reason": "OOMKilled"},
		series(t0.UnixMilli(), n, func(j int) float64 { return map[bool]float64{true: 1}[j >= 100] }))
	// A g5.xlarge node: its unit prices price the saving.
	m.add("kube_node_labels", map[string]string{"node": "n1", "label_node_kubernetes_io_instance_type": "g5.xlarge"}, series(t0.UnixMilli(), 1, constant(1)))
	// dcgm-exporter's view of the GPU the first pod uses.
	gl := map[string]string{"namespace": "shop", "pod": "api-7d9f8b6c5d-x2k4p", "container": "app", "UUID": "GPU-abc", "modelName": "NVIDIA A10G"}
	m.add("DCGM_FI_DEV_GPU_UTIL", gl, series(t0.UnixMilli(), n, constant(12)))
	m.add("DCGM_FI_DEV_FB_USED", gl, series(t0.UnixMilli(), n, constant(4000)))
	m.add("DCGM_FI_DEV_FB_FREE", gl, series(t0.UnixMilli(), n, constant(18564)))

	r := &Recommender{Metrics: m}
	recs, err := r.Recommend(context.Background(), Query{Tenant: "acme", Start: t0, End: t0.Add(time.Duration(n) * time.Minute), Namespace: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("recommendations = %+v", recs)
	}
	rec := recs[0]
	if rec.Kind != "Deployment" || rec.Workload != "api" || rec.Container != "app" || rec.Replicas != 2 {
		t.Errorf("identity = %s/%s/%s ×%d", rec.Kind, rec.Workload, rec.Container, rec.Replicas)
	}
	// CPU: 199 rates a pod, max p95 0.5 core.
	if v, _ := rec.Get("cpu", "request"); v.Current != 1 || math.Abs(v.Recommended-0.5) > 1e-12 || v.Evidence.Samples != 398 {
		t.Errorf("cpu = %+v", v)
	}
	// Memory: the OOM kill at 1 GiB × 1.25 beats 200 MiB × 1.15.
	if v, _ := rec.Get("memory", "limit"); v.Current != GiB || v.Recommended != 1280*MiB || v.Evidence.OOMKills != 1 {
		t.Errorf("memory limit = %+v", v)
	}
	// g5.xlarge at 1.006 $/h split by the default ratios: scale = 1.006 /
	// (4 × 0.031611 + 16 × 0.004237 + 0.95) = 0.8791892581600299 (16
	// places, as decimal divides); saving = (0.5 core × 0.031611 - 0.25
	// GiB × 0.004237) × scale × 730 × 2 (Python decimal).
	if got := rec.MonthlySaving.String(); got != "18.928527113288" {
		t.Errorf("monthly saving = %s, want 18.928527113288", got)
	}
	if len(rec.GPUs) != 1 || rec.GPUs[0].Model != "A10G" || len(rec.GPUs[0].Options) == 0 || rec.GPUs[0].Options[0].Action != "pack" {
		t.Errorf("GPU advice = %+v", rec.GPUs)
	}

	// Filters: the GPU series of another namespace (not narrowed by the
	// store query) do not make a recommendation of their own.
	m.add("DCGM_FI_DEV_GPU_UTIL", map[string]string{"namespace": "other", "pod": "x-0", "container": "db", "UUID": "GPU-def"}, series(t0.UnixMilli(), n, constant(50)))
	recs, _ = r.Recommend(context.Background(), Query{Tenant: "acme", Start: t0, End: t0.Add(time.Duration(n) * time.Minute), Namespace: "shop"})
	if len(recs) != 1 {
		t.Errorf("namespace=shop: %d recommendations", len(recs))
	}
	recs, _ = r.Recommend(context.Background(), Query{Tenant: "acme", Start: t0, End: t0.Add(time.Duration(n) * time.Minute), Kind: "statefulset"})
	if len(recs) != 1 || recs[0].Namespace != "other" || recs[0].Workload != "x" {
		t.Errorf("kind=statefulset: %+v", recs)
	}
	if _, err := r.Recommend(context.Background(), Query{Tenant: "acme", Start: t0, End: t0}); err == nil {
		t.Error("an empty window was accepted")
	}
}
