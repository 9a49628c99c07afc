package rightsize

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/cost"
)

func TestOOMKillTimes(t *testing.T) {
	for _, c := range []struct {
		values []float64
		want   string
	}{
		{[]float64{0, 0, 1, 1, 0, 1}, "[2 5]"}, // each rise to 1
		{[]float64{1, 1, 0}, "[0]"},            // already 1: killed then or just before
		{[]float64{0, 0}, "[]"},
		{nil, "[]"},
	} {
		var ps []Point
		for i, v := range c.values {
			ps = append(ps, Point{TimestampMsec: int64(i), Value: v})
		}
		if got := fmt.Sprint(oomKillTimes(ps)); got != c.want {
			t.Errorf("%v: kills at %s, want %s", c.values, got, c.want)
		}
	}
}

func TestRunningReplicasAndNewestResources(t *testing.T) {
	minute := time.Minute.Milliseconds()
	pods := map[string]*podState{
		"a": {lastSeen: 100 * minute, lastRes: 50 * minute, res: map[resourceSetting]latest{{CPU, Request}: {50 * minute, 1}}},
		"b": {lastSeen: 96 * minute, lastRes: 90 * minute, res: map[resourceSetting]latest{{CPU, Request}: {90 * minute, 2}}}, // 4 minutes before the last
		"c": {lastSeen: 94 * minute, lastRes: 90 * minute, res: map[resourceSetting]latest{{CPU, Request}: {90 * minute, 3}}}, // 6 minutes: gone
		"d": {res: map[resourceSetting]latest{}},                                                                              // no usage, no settings
	}
	if n := runningReplicas(pods); n != 2 {
		t.Errorf("running replicas = %d, want 2 (a and b)", n)
	}
	// b and c were reported last, at the same time: the first by name wins.
	if p := newestResources(pods, []string{"a", "b", "c", "d"}); p != pods["b"] {
		t.Errorf("newest settings from %+v, want b's", p)
	}
	if p := newestResources(map[string]*podState{"d": pods["d"]}, []string{"d"}); p != nil {
		t.Errorf("a pod without settings was taken: %+v", p)
	}
	if n := runningReplicas(map[string]*podState{"d": pods["d"]}); n != 0 {
		t.Errorf("a pod never seen runs: %d", n)
	}
}

func TestWorkloadOfPodsAndSelection(t *testing.T) {
	o := readOwners([]rawSeries{
		{name: MetricPodOwner, labels: map[string]string{"namespace": "shop", "pod": "api-xyz", "owner_kind": "ReplicaSet", "owner_name": "api-7d9f8b6c5d"}},
		{name: MetricPodOwner, labels: map[string]string{"namespace": "shop", "pod": "static", "owner_kind": "Node", "owner_name": "<none>"}},
		{name: cost.MetricNodeLabels, labels: map[string]string{"node": "n1", cost.InstanceTypeLabel: "g5.xlarge"}},
	})
	for _, c := range []struct{ ns, pod, want string }{
		{"shop", "api-xyz", "Deployment/api"},              // the owner's
		{"other", "api-xyz", "Pod/api-xyz"},                // another namespace's pod of the same name: by name
		{"shop", "static", "Pod/static"},                   // owner <none>: by name
		{"shop", "web-7d9f8b6c5d-x2k4p", "Deployment/web"}, // no owner series: by name
	} {
		if k, n := o.workload(c.ns, c.pod); k+"/"+n != c.want {
			t.Errorf("%s/%s belongs to %s/%s, want %s", c.ns, c.pod, k, n, c.want)
		}
	}
	if o.nodeType["n1"] != "g5.xlarge" {
		t.Errorf("node types %v", o.nodeType)
	}

	k := workloadKey{"shop", "Deployment", "api", "app"}
	for _, c := range []struct {
		q    Query
		want bool
	}{
		{Query{}, true},
		{Query{Namespace: "shop", Kind: "deployment", Workload: "api", Container: "app"}, true},
		{Query{Namespace: "other"}, false},
		{Query{Kind: "StatefulSet"}, false},
		{Query{Workload: "API"}, false},
		{Query{Container: "sidecar"}, false},
	} {
		if got := c.q.selects(k); got != c.want {
			t.Errorf("%+v selects %v: %v", c.q, k, got)
		}
	}
}
