package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// attributionSetup imports the FOCUS 1.0 sample and the kube-state-metrics
// series of a cluster whose nodes are two of the sample's EC2 instances
// and an AKS scale set's VMs, hourly through September 2024; the
// workloads are the cost package's billFixture, so the shares are the ones
// worked out there.
func attributionSetup(t *testing.T, attr cost.Attribution) http.Handler {
	ctx := context.Background()
	s, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	mux := auth.NewMux(auth.Disabled())
	(&API{Store: s, MaxUploadBytes: 8 << 20, Attribution: attr}).Register(mux)
	if code, body := do(t, mux, "POST", "/api/v1/billing/import?name=sample.csv", "text/csv", sample(t)); code != 200 {
		t.Fatalf("import: %d %s", code, body)
	}

	t0 := time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)
	var series []store.Series
	var samples []store.Sample
	add := func(name string, v float64, kv ...string) {
		var l store.Attributes
		for i := 0; i < len(kv); i += 2 {
			l = append(l, store.KeyValue{Key: kv[i], Value: kv[i+1]})
		}
		sr := store.NewSeries(store.DefaultTenant, name, store.MetricGauge, l)
		series = append(series, sr)
		for h := 0; h < 30*24; h++ {
			samples = append(samples, store.Sample{Tenant: store.DefaultTenant, Fingerprint: sr.Fingerprint, TimestampMsec: t0.Add(time.Duration(h) * time.Hour).UnixMilli(), Value: v})
		}
	}
	gib := float64(1 << 30)
	a, b := "ip-10-0-1-5.us-test-2.compute.internal", "ip-10-0-2-7.us-test-2.compute.internal"
	add("kube_node_info", 1, "node", a, "provider_id", "aws:///us-test-2a/i-0b3b3095474a3772a")
	add("kube_node_info", 1, "node", b, "provider_id", "aws:///us-test-2b/i-021f2ebl49063f9l1")
	for i := 0; i < 2; i++ {
		add("kube_node_info", 1, "node", fmt.Sprintf("aks-secretagent-37798712-vmss%06d", i), "provider_id",
			fmt.Sprintf("azure:///subscriptions/9ec51cfd-5ca7-4d76-8101-dd0a4abc5674/resourceGroups/mc_analyticsengine_analyticsengine_eastus/providers/Microsoft.Compute/virtualMachineScaleSets/aks-secretagent-37798712-vmss/virtualMachines/%d", i))
	}
	add("kube_node_status_capacity", 4, "node", a, "resource", "cpu")
	add("kube_node_status_capacity", 16*gib, "node", a, "resource", "memory")
	add("kube_node_status_capacity", 3, "node", b, "resource", "cpu")
	for _, c := range []struct {
		node, ns, pod, container string
		cpu, memGiB              float64
	}{
		{a, "inference", "vllm-0", "vllm", 2, 8},
		{a, "batch", "job-0", "job", 1, 4},
		{b, "search", "api-0", "api", 1, 0},
		{b, "inference", "vllm-1", "vllm", 1, 0},
		{b, "batch", "job-1", "job", 1, 0},
	} {
		id := []string{"namespace", c.ns, "pod", c.pod, "container", c.container, "node", c.node}
		add("kube_pod_container_resource_requests", c.cpu, append(id, "resource", "cpu", "unit", "core")...)
		if c.memGiB > 0 {
			add("kube_pod_container_resource_requests", c.memGiB*gib, append(id, "resource", "memory", "unit", "byte")...)
		}
	}
	if err := s.WriteMetrics(ctx, series, samples); err != nil {
		t.Fatal(err)
	}
	return mux
}

func TestBillAllocation(t *testing.T) {
	h := attributionSetup(t, cost.Attribution{})
	code, body := do(t, h, "GET", "/api/v1/cost/allocation?source=bill&from=2024-09-01&to=2024-10-01&aggregate=namespace", "", nil)
	var resp struct {
		Allocations []struct {
			Name, Currency string
			BilledCost     string `json:"billed_cost"`
			EffectiveCost  string `json:"effective_cost"`
			Lines          uint64
		}
		Joined []struct {
			ResourceID string `json:"resource_id"`
			Nodes      []string
		}
		Unjoined []struct {
			Currency   string
			BilledCost string `json:"billed_cost"`
			Lines      uint64
		}
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil || code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var got []string
	for _, a := range resp.Allocations {
		got = append(got, fmt.Sprintf("%s %s billed=%s effective=%s lines=%d", a.Name, a.Currency, a.BilledCost, a.EffectiveCost, a.Lines))
	}
	// As TestAttributeBills worked out: the window's allocation has the
	// same proportions over 720 hours as over one.
	want := []string{
		"__idle__ USD billed=0.2850003702 effective=0.2500003702 lines=2",
		"batch USD billed=0.951666666666 effective=0.916666666666 lines=2",
		"inference USD billed=1.236666666667 effective=1.166666666667 lines=2",
		"search USD billed=0.666666666667 effective=0.666666666667 lines=1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("allocations:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(resp.Joined) != 3 || fmt.Sprint(resp.Joined[0].Nodes) != "[aks-secretagent-37798712-vmss000000 aks-secretagent-37798712-vmss000001]" {
		t.Errorf("joined: %+v", resp.Joined)
	}
	// The rest of the sample: 20.52022672899 - 3.1400003702 over 997 lines.
	if len(resp.Unjoined) != 1 || resp.Unjoined[0].BilledCost != "17.38022635879" || resp.Unjoined[0].Lines != 997 {
		t.Errorf("unjoined: %+v", resp.Unjoined)
	}
	if code, body := do(t, h, "GET", "/api/v1/cost/allocation?source=invoice&from=2024-09-01&to=2024-10-01", "", nil); code != 400 || !strings.Contains(body, `source \"invoice\": want metrics`) {
		t.Errorf("bad source: %d %s", code, body)
	}
}

// TestCostByAttributionTags groups the sample by its business_unit and
// application tags configured as team and app. Expected sums were computed
// from the CSV with Python's decimal module.
func TestCostByAttributionTags(t *testing.T) {
	h := attributionSetup(t, cost.Attribution{Team: "business_unit", Service: "application", Model: "model"})
	get := func(query string) map[string]string {
		code, body := do(t, h, "GET", "/api/v1/cost?from=2024-09-01&to=2024-10-01&"+query, "", nil)
		var resp struct {
			GroupBy []string `json:"group_by"`
			Groups  []struct {
				Group      map[string]string
				BilledCost string `json:"billed_cost"`
				Lines      uint64
			}
		}
		if err := json.Unmarshal([]byte(body), &resp); err != nil || code != 200 {
			t.Fatalf("%s: %d %s", query, code, body)
		}
		out := map[string]string{}
		for _, g := range resp.Groups {
			out[fmt.Sprint(g.Group)] = fmt.Sprintf("%s/%d", g.BilledCost, g.Lines)
		}
		return out
	}
	if got := get("group_by=team&filter=team=PeoriaData"); fmt.Sprint(got) != "map[map[team:PeoriaData]:15.9580993182/176]" {
		t.Errorf("team PeoriaData: %v", got)
	}
	if got := get("group_by=app,team&filter=app=BrightPathMatrix"); fmt.Sprint(got) != "map[map[app:BrightPathMatrix team:PeoriaData]:15.9580993182/176]" {
		t.Errorf("app BrightPathMatrix: %v", got)
	}
	// 302 business units, and the 340 lines without the tag in one group.
	byTeam := get("group_by=team")
	if len(byTeam) != 302 || byTeam["map[team:]"] == "" || !strings.HasSuffix(byTeam["map[team:]"], "/340") {
		t.Errorf("by team: %d groups, untagged %s", len(byTeam), byTeam["map[team:]"])
	}
	// service is still FOCUS's ServiceName.
	if got := get("group_by=service&filter=team=PeoriaData"); fmt.Sprint(got) != "map[map[service:Amazon Elastic Compute Cloud]:15.9580993182/176]" {
		t.Errorf("service by FOCUS ServiceName: %v", got)
	}
}
