package cost

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestAttributionConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The FOCUS sample's tags name the team business_unit and the service
	// application.
	write("a.yaml", "budgets: []\nattribution:\n  team: business_unit\n  service: application\n")
	cfg, problems, err := LoadCostConfig([]string{dir}, validDim)
	if err != nil || len(problems) > 0 {
		t.Fatalf("%v %v", problems, err)
	}
	a := cfg.AttributionOrDefault()
	if a.Team != "business_unit" || a.Service != "application" || a.Model != "model" || !strings.HasSuffix(a.File, "a.yaml:3") {
		t.Errorf("attribution: %+v", a)
	}
	for dim, want := range map[string]string{"team": "business_unit", "app": "application", "model": "model"} {
		if k, ok := a.TagKey(dim); !ok || k != want {
			t.Errorf("TagKey(%s) = %q, %v", dim, k, ok)
		}
	}
	if _, ok := a.TagKey("service"); ok {
		t.Error("service is FOCUS's ServiceName, not an attribution dimension")
	}
	if d := (&CostConfig{}).AttributionOrDefault(); d.Team != "team" || d.Service != "service" || d.Model != "model" {
		t.Errorf("defaults: %+v", d)
	}

	bad := t.TempDir()
	for name, body := range map[string]string{
		"b.yaml": "attribution:\n  team: \"\"\n  model: service\n",
		"c.yaml": "attribution:\n  teams: owner\n",
	} {
		os.WriteFile(filepath.Join(bad, name), []byte(body), 0o644)
	}
	write("d.yaml", "attribution:\n  model: ai-model\n")
	_, problems, err = LoadCostConfig([]string{bad, dir}, validDim)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, strings.ReplaceAll(strings.ReplaceAll(p.String(), dir+"/", ""), bad+"/", ""))
	}
	// Files are read in path order: dir's a and d, then bad's b and c.
	want := []string{
		`d.yaml:2: attribution: is also defined at a.yaml:3; keep one`,
		`b.yaml:2: attribution.team: is empty: name the tag key that carries the team`,
		`b.yaml:3: attribution.model: tag key "service" is also the service key`,
		`c.yaml:2: attribution: field teams not found`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Node identities as kube-state-metrics exports them for nodes whose cloud
// ids appear in the FOCUS 1.0 sample (collector/billing/testdata): two EC2
// instances and an AKS node pool's scale set.
var sampleNodes = []NodeIdentity{
	{Name: "ip-10-0-1-5.us-test-2.compute.internal", ProviderID: "aws:///us-test-2a/i-0b3b3095474a3772a"},
	{Name: "ip-10-0-2-7.us-test-2.compute.internal", ProviderID: "aws:///us-test-2b/i-021f2ebl49063f9l1"},
	{Name: "aks-secretagent-37798712-vmss000000", ProviderID: "azure:///subscriptions/9ec51cfd-5ca7-4d76-8101-dd0a4abc5674/resourceGroups/mc_analyticsengine_analyticsengine_eastus/providers/Microsoft.Compute/virtualMachineScaleSets/aks-secretagent-37798712-vmss/virtualMachines/0"},
	{Name: "aks-secretagent-37798712-vmss000001", ProviderID: "azure:///subscriptions/9ec51cfd-5ca7-4d76-8101-dd0a4abc5674/resourceGroups/mc_analyticsengine_analyticsengine_eastus/providers/Microsoft.Compute/virtualMachineScaleSets/aks-secretagent-37798712-vmss/virtualMachines/1"},
	{Name: "gke-prod-pool-1-abcd", ProviderID: "gce://vigil-prod/us-central1-a/gke-prod-pool-1-abcd"},
}

func TestMatchNodes(t *testing.T) {
	for _, c := range []struct{ id, want string }{
		{"i-0b3b3095474a3772a", "[ip-10-0-1-5.us-test-2.compute.internal]"},                                             // CUR and the sample: the bare instance id
		{"arn:aws:ec2:us-test-2:123456789012:instance/i-021f2ebl49063f9l1", "[ip-10-0-2-7.us-test-2.compute.internal]"}, // an ARN
		{"IP-10-0-1-5.us-test-2.compute.internal", "[ip-10-0-1-5.us-test-2.compute.internal]"},                          // the node name
		{"/subscriptions/9ec51cfd-5ca7-4d76-8101-dd0a4abc5674/resourcegroups/mc_analyticsengine_analyticsengine_eastus/providers/microsoft.compute/virtualmachinescalesets/aks-secretagent-37798712-vmss",
			"[aks-secretagent-37798712-vmss000000 aks-secretagent-37798712-vmss000001]"}, // the scale set: both its nodes
		{"/subscriptions/9ec51cfd-5ca7-4d76-8101-dd0a4abc5674/resourceGroups/mc_analyticsengine_analyticsengine_eastus/providers/Microsoft.Compute/virtualMachineScaleSets/aks-secretagent-37798712-vmss/virtualMachines/1",
			"[aks-secretagent-37798712-vmss000001]"}, // one VM of it
		{"projects/vigil-prod/zones/us-central1-a/instances/gke-prod-pool-1-abcd", "[gke-prod-pool-1-abcd]"},
		// Not nodes.
		{"/subscriptions/9ec51cfd-5ca7-4d76-8101-dd0a4abc5674/resourcegroups/analyticsengine/providers/microsoft.containerservice/managedclusters/analyticsengine", "[]"},
		{"arn:ats:sqs:us-test-2:347410479675:mibelllmel-i-032l64f2065481b12", "[]"},
		{"/subscriptions/9ec51cfd-5ca7-4d76-8101-dd0a4abc5674/resourcegroups/mc_analyticsengine_analyticsengine_eastus", "[]"},
		{"virtualMachines/0", "[]"}, // a bare index is not an instance
		{"", "[]"},
	} {
		if got := fmt.Sprint(MatchNodes(c.id, sampleNodes)); got != c.want {
			t.Errorf("%s: %s, want %s", c.id, got, c.want)
		}
	}
}

func TestKubeNodeIdentities(t *testing.T) {
	ids := KubeNodeIdentities([]MetricSeries{
		{Name: MetricNodeInfo, Labels: map[string]string{"node": "b", "provider_id": "aws:///z/i-2"}},
		{Name: MetricNodeInfo, Labels: map[string]string{"node": "a", "provider_id": ""}},
		{Name: MetricNodeInfo, Labels: map[string]string{"node": "a", "provider_id": "aws:///z/i-1"}},
		{Name: MetricNodeInfo, Labels: map[string]string{"node": "b", "provider_id": ""}}, // a later empty one does not erase it
		{Name: MetricNodeCapacity, Labels: map[string]string{"node": "c"}},
	})
	if got := fmt.Sprint(ids); got != "[{a aws:///z/i-1} {b aws:///z/i-2}]" {
		t.Errorf("identities: %s", got)
	}
}

// billFixture is two EC2 instances' and one AKS scale set's lines as the
// FOCUS 1.0 sample bills them, an SQS queue and an AKS control plane that
// no node is, and the workloads measured on the nodes over one hour.
func billFixture() ([]BillResource, []Container, map[string]Node) {
	d := decimal.RequireFromString
	bills := []BillResource{
		{ResourceID: "i-0b3b3095474a3772a", Currency: "USD", BilledCost: d("1.14"), EffectiveCost: d("1.00"), Lines: 1},
		{ResourceID: "i-021f2ebl49063f9l1", Currency: "USD", BilledCost: d("2.00"), EffectiveCost: d("2.00"), Lines: 1},
		{ResourceID: "/subscriptions/9ec51cfd-5ca7-4d76-8101-dd0a4abc5674/resourcegroups/mc_analyticsengine_analyticsengine_eastus/providers/microsoft.compute/virtualmachinescalesets/aks-secretagent-37798712-vmss",
			Currency: "USD", BilledCost: d("0.0000003702"), EffectiveCost: d("0.0000003702"), Lines: 1},
		{ResourceID: "arn:ats:sqs:us-test-2:347410479675:mibelllmel-i-032l64f2065481b12", Currency: "USD", BilledCost: d("0.5"), EffectiveCost: d("0.5"), Lines: 1},
		{ResourceID: "/subscriptions/9ec51cfd-5ca7-4d76-8101-dd0a4abc5674/resourcegroups/analyticsengine/providers/microsoft.containerservice/managedclusters/analyticsengine",
			Currency: "USD", BilledCost: d("1.58088"), EffectiveCost: d("1.58088"), Lines: 1},
	}
	one := d("1")
	a, b := sampleNodes[0].Name, sampleNodes[1].Name
	containers := []Container{
		// Node a, 4 cores and 16 GiB at the default unit prices (0.194236 an
		// hour): inference 2 cores + 8 GiB = 0.097118, batch 1 core + 4 GiB =
		// 0.048559, idle 1 core + 4 GiB = 0.048559: weights 1/2, 1/4, 1/4.
		{Namespace: "inference", Pod: "vllm-0", Container: "vllm", Node: a, Hours: one, CPURequest: d("2"), CPUUsage: d("0.5"), RAMRequest: d("8")},
		{Namespace: "batch", Pod: "job-0", Container: "job", Node: a, Hours: one, CPURequest: d("1"), RAMRequest: d("4")},
		// Node b, 3 cores, all requested, one each: thirds.
		{Namespace: "search", Pod: "api-0", Container: "api", Node: b, Hours: one, CPURequest: d("1")},
		{Namespace: "inference", Pod: "vllm-1", Container: "vllm", Node: b, Hours: one, CPURequest: d("1")},
		{Namespace: "batch", Pod: "job-1", Container: "job", Node: b, Hours: one, CPURequest: d("1")},
	}
	nodes := map[string]Node{
		a: {Name: a, CPUCores: d("4"), RAMGiB: d("16"), HourlyCost: d("0.194236")},
		b: {Name: b, CPUCores: d("3"), HourlyCost: d("0.094833")},
	}
	return bills, containers, nodes
}

func TestAttributeBills(t *testing.T) {
	bills, containers, nodes := billFixture()
	join := AttributeBills(bills, sampleNodes, containers, nodes, decimal.NewFromInt(1), AllocationOptions{AggregateBy: "namespace"})
	var got []string
	for _, s := range join.Shares {
		got = append(got, fmt.Sprintf("%s %s billed=%s effective=%s lines=%d", s.Name, s.Currency, s.BilledCost, s.EffectiveCost, s.Lines))
	}
	// 1.14 billed / 1.00 effective split 1/2, 1/4, 1/4 on node a; 2.00 in
	// thirds on node b, each rounded to 0.666666666667 and the
	// -0.000000000001 that leaves going to the first of the equal parts
	// (batch); the scale
	// set's nodes have nothing measured, so its line is idle capacity.
	want := []string{
		"__idle__ USD billed=0.2850003702 effective=0.2500003702 lines=2",
		"batch USD billed=0.951666666666 effective=0.916666666666 lines=2",
		"inference USD billed=1.236666666667 effective=1.166666666667 lines=2",
		"search USD billed=0.666666666667 effective=0.666666666667 lines=1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("shares:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Nothing lost or made up: the shares add up to the joined lines.
	var shared, joined decimal.Decimal
	for _, s := range join.Shares {
		shared = shared.Add(s.BilledCost)
	}
	for _, j := range join.Joined {
		joined = joined.Add(j.BilledCost)
	}
	if !shared.Equal(joined) || joined.String() != "3.1400003702" {
		t.Errorf("shares sum to %s, joined lines to %s", shared, joined)
	}
	if len(join.Unjoined) != 2 || join.Unjoined[0].BilledCost.String() != "0.5" || !strings.Contains(join.Unjoined[1].ResourceID, "managedclusters") {
		t.Errorf("unjoined: %+v", join.Unjoined)
	}

	// Shared idle, by pod: node a's idle goes to its pods by cost.
	join = AttributeBills(bills[:1], sampleNodes, containers, nodes, decimal.NewFromInt(1), AllocationOptions{AggregateBy: "pod", ShareIdle: true})
	got = got[:0]
	for _, s := range join.Shares {
		got = append(got, fmt.Sprintf("%s=%s", s.Name, s.BilledCost))
	}
	if fmt.Sprint(got) != "[batch/job-0=0.38 inference/vllm-0=0.76]" {
		t.Errorf("shared idle by pod: %v", got)
	}
}

func TestSplitExact(t *testing.T) {
	d := decimal.RequireFromString
	for _, c := range []struct {
		amount  string
		weights []string
		want    string
	}{
		{"1", []string{"1", "1", "1"}, "[0.333333333334 0.333333333333 0.333333333333]"},
		{"2", []string{"1", "1", "1"}, "[0.666666666666 0.666666666667 0.666666666667]"},
		{"-1", []string{"1", "2"}, "[-0.333333333333 -0.666666666667]"}, // credits split the same way
		{"5", []string{"0", "0"}, "[5 0]"},
		{"0.000000000001", []string{"1", "1"}, "[0.000000000001 0]"},
	} {
		var w []decimal.Decimal
		for _, s := range c.weights {
			w = append(w, d(s))
		}
		if got := fmt.Sprint(splitExact(d(c.amount), w)); got != c.want {
			t.Errorf("split %s by %v: %s, want %s", c.amount, c.weights, got, c.want)
		}
	}
}
