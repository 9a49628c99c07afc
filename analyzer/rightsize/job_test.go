package rightsize

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/config"
	"github.com/vigil-dev/vigil/store"
)

// jobStore is the job's store in memory: metrics, spans, and the events
// it writes.
type jobStore struct {
	*memStore
	*minuteSpans
	mu     sync.Mutex
	events []store.Event
}

func (s *jobStore) WriteEvents(_ context.Context, evs []store.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, evs...)
	return nil
}

type publisher struct{ evs []store.Event }

func (p *publisher) Publish(evs ...store.Event) { p.evs = append(p.evs, evs...) }

func TestSection(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "rightsize.yaml")
	os.WriteFile(file, []byte(`rightsize:
  - tenant: acme
    namespace: shop
    workload: api
    every: 30m
    resources: {strategy: vpa, history: 7d}
    replicas: {service: api, latency_slo: 500ms}
  - namespace: shop
    workload: db
    kind: StatefulSet
    replicas: {service: db, target_per_replica: 40}
  - namespace: shop
    workload: cache
    resources: {strategy: magic, history: 2 weeks}
  - namespace: shop
    workload: api
    tenant: acme
    replicas: {service: api}
  - workload: web
    resources: {}
  - {tenant: acme, namespace: shop, workload: api, replicas: {service: api, target_per_replica: 10}}
`), 0o644)
	got, problems, err := config.LoadSection([]string{dir}, Section)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		file + `:11: rightsize[1].replicas: advises Deployments only, not a StatefulSet`,
		file + `:14: rightsize[2].resources.strategy: unknown strategy "magic": want simple, vpa or kubecost`,
		file + `:14: rightsize[2].resources.history: "2 weeks" is not a positive duration such as 30m or 14d`,
		file + `:18: rightsize[3].replicas: needs latency_slo or target_per_replica: what one replica sustains`,
		file + `:19: rightsize[4].namespace: is required`,
		file + `:21: rightsize[5].workload: workload shop/api is also advised on at ` + file + `:2`,
	}
	var msgs []string
	for _, p := range problems {
		msgs = append(msgs, p.String())
	}
	if strings.Join(msgs, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}
	if len(got) != 1 || got[0].Tenant != "acme" || got[0].Kind != "Deployment" || got[0].Every != 30*time.Minute || got[0].ResourceHistory != 7*24*time.Hour ||
		got[0].Resources.Name() != "vpa" || got[0].Replicas.SLO != 0.5 || got[0].ReplicaHistory != DefaultReplicaHistory {
		t.Errorf("workloads %+v", got)
	}
}

// At its ticks the job advises on a workload's resources and replicas,
// records the advice and hands it to the dispatcher; between them, and
// for a workload another replica owns, it does nothing.
func TestJob(t *testing.T) {
	m := &memStore{}
	t0 := t10
	n := 60
	for i, pod := range []string{"api-7d9f8b6c5d-x2k4p", "api-7d9f8b6c5d-b5n8q"} {
		l := map[string]string{"namespace": "shop", "pod": pod, "container": "app"}
		m.add("container_cpu_usage_seconds_total", l, series(t0.UnixMilli(), n, func(j int) float64 { return 0.25 * 60 * float64(j) }))
		m.add("container_memory_working_set_bytes", l, series(t0.UnixMilli(), n, constant(float64(100+100*i)*MiB)))
		m.add("kube_pod_container_resource_requests", map[string]string{"namespace": "shop", "pod": pod, "container": "app", "resource": "cpu", "node": "n1"}, series(t0.UnixMilli(), n, constant(1)))
	}
	m.add(MetricDeploymentStatusReplicas, map[string]string{"namespace": "shop", "deployment": "api"}, series(t0.UnixMilli(), n, constant(2)))
	st := &jobStore{memStore: m, minuteSpans: &minuteSpans{minutes: perMinute(0, 60, 40, 300*time.Millisecond)}}
	pub := &publisher{}
	w := Workload{Tenant: "acme", Namespace: "shop", Kind: "Deployment", Workload: "api", Every: 30 * time.Minute,
		Resources: Simple{}, ResourceHistory: time.Hour, Replicas: &ReplicaQuery{Service: "api", SLO: 0.5}, ReplicaHistory: time.Hour}
	owned := true
	j := &Job{Store: st, Current: func() []Workload { return []Workload{w} }, Publisher: pub,
		Owns: func(_ context.Context, key string) bool { return owned && key == "rightsize/acme/shop/Deployment/api" }}
	ctx := context.Background()
	if err := j.Run(ctx, t0.Add(59*time.Minute)); err != nil || len(st.events) != 0 {
		t.Fatalf("off its ticks: %v, %d events", err, len(st.events))
	}
	tick := t0.Add(time.Hour)
	if err := j.Run(ctx, tick); err != nil {
		t.Fatal(err)
	}
	if len(st.events) != 2 || len(pub.evs) != 2 {
		t.Fatalf("%d events recorded, %d published", len(st.events), len(pub.evs))
	}
	res, err := Advices.Decode(st.events[0])
	if err != nil || res.Subject() != "shop/Deployment/api" || len(res.Resources) != 1 || res.Resources[0].Container != "app" || res.Replicas != nil {
		t.Errorf("resources advice %+v, %v", res, err)
	}
	rep, err := Advices.Decode(st.events[1])
	if err != nil || rep.Replicas == nil || rep.Replicas.Current != 2 || rep.Replicas.Service != "api" || st.events[1].Time != tick {
		t.Errorf("replicas advice %+v, %v", rep, err)
	}
	owned = false
	if err := j.Run(ctx, tick.Add(30*time.Minute)); err != nil || len(st.events) != 2 {
		t.Errorf("another replica's workload: %v, %d events", err, len(st.events))
	}
}
