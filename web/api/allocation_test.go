package api

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// TestAllocationFromMetrics writes the cAdvisor and kube-state-metrics
// series of the cost package's hand-computed fixture (a 4-core, 16 GiB,
// 1-GPU node priced at the default unit prices; chat, search and a shared
// kube-system over two hours) and reads the allocation back.
func TestAllocationFromMetrics(t *testing.T) {
	ctx := context.Background()
	s, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var series []store.Series
	var samples []store.Sample
	add := func(name string, f func(i int) float64, kv ...string) {
		var l store.Attributes
		for i := 0; i < len(kv); i += 2 {
			l = append(l, store.KeyValue{Key: kv[i], Value: kv[i+1]})
		}
		sr := store.NewSeries(store.DefaultTenant, name, store.MetricGauge, l)
		series = append(series, sr)
		for i := 0; i < 120; i++ { // every minute for two hours
			samples = append(samples, store.Sample{Tenant: store.DefaultTenant, Fingerprint: sr.Fingerprint, TimestampMsec: t0.Add(time.Duration(i) * time.Minute).UnixMilli(), Value: f(i)})
		}
	}
	gib := float64(1 << 30)
	constant := func(v float64) func(int) float64 { return func(int) float64 { return v } }
	cores := func(v float64) func(int) float64 { return func(i int) float64 { return v * float64(i*60) } }
	for _, c := range []struct {
		ns, pod, container             string
		cpuReq, cpuUse, memReq, memUse float64
		gpus                           float64
	}{
		{"chat", "vllm-0", "vllm", 1, 0.5, 2, 3, 1},
		{"search", "api-0", "api", 0.5, 1, 4, 1, 0},
		{"kube-system", "dns", "coredns", 1, 0.25, 2, 1, 0},
	} {
		id := []string{"namespace", c.ns, "pod", c.pod, "container", c.container}
		add("kube_pod_container_resource_requests", constant(c.cpuReq), append(id, "node", "n1", "resource", "cpu", "unit", "core")...)
		add("kube_pod_container_resource_requests", constant(c.memReq*gib), append(id, "node", "n1", "resource", "memory", "unit", "byte")...)
		if c.gpus > 0 {
			add("kube_pod_container_resource_requests", constant(c.gpus), append(id, "node", "n1", "resource", "nvidia_com_gpu", "unit", "integer")...)
		}
		add("container_cpu_usage_seconds_total", cores(c.cpuUse), id...)
		add("container_memory_working_set_bytes", constant(c.memUse*gib), id...)
	}
	add("kube_node_status_capacity", constant(4), "node", "n1", "resource", "cpu")
	add("kube_node_status_capacity", constant(16*gib), "node", "n1", "resource", "memory")
	add("kube_node_status_capacity", constant(1), "node", "n1", "resource", "nvidia_com_gpu")
	add("kube_pod_labels", constant(1), "namespace", "chat", "pod", "vllm-0", "label_team", "assistant")
	if err := s.WriteMetrics(ctx, series, samples); err != nil {
		t.Fatal(err)
	}
	mux := auth.NewMux(auth.Disabled())
	(&API{Store: s}).Register(mux)

	code, body := do(t, mux, "GET", "/api/v1/cost/allocation?from=2026-11-20T10:00:00Z&to=2026-11-20T12:00:00Z&aggregate=namespace&shared_namespaces=kube-system", "", nil)
	var resp struct {
		Allocations []struct {
			Name          string
			TotalCost     string `json:"total_cost"`
			CPUEfficiency string `json:"cpu_efficiency"`
		}
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil || code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	want := map[string]string{"chat": "2.028729", "search": "0.137203", "__idle__": "0.12254"}
	got := map[string]string{}
	for _, a := range resp.Allocations {
		got[a.Name] = a.TotalCost
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %s, want %s (all: %s)", k, got[k], v, body)
		}
	}
	code, body = do(t, mux, "GET", "/api/v1/cost/allocation?from=2026-11-20T10:00:00Z&to=2026-11-20T12:00:00Z&aggregate=label:team&idle=share", "", nil)
	if code != 200 || !json.Valid([]byte(body)) {
		t.Fatalf("%d %s", code, body)
	}
	json.Unmarshal([]byte(body), &resp)
	if len(resp.Allocations) != 2 || resp.Allocations[1].Name != "assistant" || resp.Allocations[0].Name != "__unallocated__" {
		t.Errorf("by label: %s", body)
	}
	if code, _ := do(t, mux, "GET", "/api/v1/cost/allocation?from=2026-11-20T10:00:00Z&to=2026-11-20T12:00:00Z&idle=hide", "", nil); code != 400 {
		t.Errorf("bad idle: %d", code)
	}
}

// TestSelfHosted reads the worked inference example back from vLLM counters
// stored as metrics: $3.20 an hour, over one hour.
func TestSelfHosted(t *testing.T) {
	ctx := context.Background()
	s, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var series []store.Series
	var samples []store.Sample
	for name, total := range map[string]float64{
		"vllm:prompt_tokens_total": 12e6, "vllm:generation_tokens_total": 3e6, "vllm:request_prefill_time_seconds_sum": 600,
		"vllm:request_decode_time_seconds_sum": 600, "vllm:prefix_cache_hits_total": 8e5,
	} {
		for _, model := range []string{"llama", "other"} {
			sr := store.NewSeries(store.DefaultTenant, name, store.MetricCounter, store.Attributes{{Key: "model_name", Value: model}})
			series = append(series, sr)
			for i := 0; i <= 60; i++ {
				v := total * float64(i) / 60
				if model == "other" {
					v *= 3 // another deployment, filtered out by the selector
				}
				samples = append(samples, store.Sample{Tenant: store.DefaultTenant, Fingerprint: sr.Fingerprint, TimestampMsec: t0.Add(time.Duration(i) * time.Minute).UnixMilli(), Value: v})
			}
		}
	}
	if err := s.WriteMetrics(ctx, series, samples); err != nil {
		t.Fatal(err)
	}
	mux := auth.NewMux(auth.Disabled())
	(&API{Store: s}).Register(mux)
	// The window ends a millisecond after the last sample so it is counted.
	code, body := do(t, mux, "GET", `/api/v1/cost/self-hosted?from=2026-11-20T10:00:00Z&to=2026-11-20T11:00:00.001Z&hourly=3.20&selector=%7Bmodel_name%3D%22llama%22%7D`, "", nil)
	for _, want := range []string{`"cost_per_1m_tokens":"0.213333"`, `"cost_per_1m_input_tokens":"0.142857"`, `"cost_per_1m_output_tokens":"0.533333"`, `"split":"prefill/decode time"`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("%d %s\nlacks %s", code, body, want)
		}
	}
	if code, _ := do(t, mux, "GET", "/api/v1/cost/self-hosted?from=2026-11-20T10:00:00Z&to=2026-11-20T11:00:00Z", "", nil); code != 400 {
		t.Errorf("no hourly: %d", code)
	}
}
