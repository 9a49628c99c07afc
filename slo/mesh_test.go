package slo

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/querier"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/backend"
	"github.com/vigil-dev/vigil/store/embedded"
)

// istioLabels are the labels of a series of Istio's standard metrics, as
// its reference lists them, for requests from web to chat-gateway.
func istioLabels(reporter, service, code string, extra ...store.KeyValue) store.Attributes {
	return append(store.Attributes{
		{Key: "reporter", Value: reporter},
		{Key: "source_workload", Value: "web"}, {Key: "source_workload_namespace", Value: "prod"},
		{Key: "destination_workload", Value: service + "-v1"}, {Key: "destination_workload_namespace", Value: "prod"},
		{Key: "destination_service", Value: service + ".prod.svc.cluster.local"},
		{Key: "destination_service_name", Value: service}, {Key: "destination_service_namespace", Value: "prod"},
		{Key: "request_protocol", Value: "http"}, {Key: "response_code", Value: code}, {Key: "response_flags", Value: "-"},
		{Key: "connection_security_policy", Value: "mutual_tls"},
	}, extra...)
}

// linkerdLabels are the labels of an inbound series of Linkerd's proxy
// metrics once Prometheus has added the pod's.
func linkerdLabels(direction, deployment, class, code string, extra ...store.KeyValue) store.Attributes {
	l := store.Attributes{
		{Key: "direction", Value: direction}, {Key: "authority", Value: deployment + ".prod.svc.cluster.local:8080"},
		{Key: "tls", Value: "true"}, {Key: "namespace", Value: "prod"}, {Key: "pod", Value: deployment + "-5d9c7f-abcde"},
		{Key: "classification", Value: class}, {Key: "status_code", Value: code},
	}
	if direction == "inbound" {
		l = append(l, store.KeyValue{Key: "deployment", Value: deployment})
	} else {
		l = append(l, store.KeyValue{Key: "deployment", Value: "web"}, store.KeyValue{Key: "dst_deployment", Value: deployment}, store.KeyValue{Key: "dst_namespace", Value: "prod"}, store.KeyValue{Key: "dst_service", Value: deployment})
	}
	return append(l, extra...)
}

func le(v string) store.KeyValue { return store.KeyValue{Key: "le", Value: v} }

// TestMeshSLIs evaluates Istio and Linkerd SLOs over an hour of series
// shaped as each mesh defines them, scraped every 15 s, with series that
// must not count beside them (the other reporter or direction, another
// service), and compares the counts with the arithmetic of the scrapes.
func TestMeshSLIs(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	testMeshSLIs(t, st)
}

// TestMeshSLIsClickHouse runs the same on ClickHouse, whose store
// translates the selectors (the le regular expression among them) to SQL.
func TestMeshSLIsClickHouse(t *testing.T) {
	addr := os.Getenv("VIGIL_TEST_CLICKHOUSE")
	if addr == "" {
		if os.Getenv("VIGIL_TEST_STRICT") != "" {
			t.Fatal("VIGIL_TEST_STRICT is set but VIGIL_TEST_CLICKHOUSE names no server")
		}
		t.Skip("VIGIL_TEST_CLICKHOUSE names no ClickHouse server")
	}
	ctx := context.Background()
	st, err := backend.Open(ctx, fmt.Sprintf("clickhouse://%s/vigil_mesh_sli_%d", addr, time.Now().UnixNano()), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if d, ok := st.(interface{ DropDatabase(context.Context) error }); ok {
			d.DropDatabase(ctx)
		}
		st.Close()
	}()
	testMeshSLIs(t, st)
}

func testMeshSLIs(t *testing.T, st store.Store) {
	ctx := context.Background()
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	per := func(n float64) func(int) float64 { return func(i int) float64 { return 1e6 + n*float64(i) } }
	// Istio, reporter destination: 12 200s and 1 503 a scrape; of the
	// 200s 10 take at most 500 ms, of the 503s all (the bucket written
	// le="500.0", as Prometheus 3 scrapes it).
	writeScrapes(t, st, tick, "istio_requests_total", store.MetricCounter, istioLabels("destination", "chat-gateway", "200"), per(12))
	writeScrapes(t, st, tick, "istio_requests_total", store.MetricCounter, istioLabels("destination", "chat-gateway", "503"), per(1))
	for _, b := range []struct {
		code, le string
		n        float64
	}{{"200", "250", 4}, {"200", "500", 10}, {"200", "+Inf", 12}, {"503", "500.0", 1}, {"503", "+Inf", 1}} {
		writeScrapes(t, st, tick, "istio_request_duration_milliseconds_bucket", store.MetricCounter, istioLabels("destination", "chat-gateway", b.code, le(b.le)), per(b.n))
	}
	writeScrapes(t, st, tick, "istio_request_duration_milliseconds_count", store.MetricCounter, istioLabels("destination", "chat-gateway", "200"), per(12))
	writeScrapes(t, st, tick, "istio_request_duration_milliseconds_count", store.MetricCounter, istioLabels("destination", "chat-gateway", "503"), per(1))
	// Not counted: the client's proxy's view, and another service.
	writeScrapes(t, st, tick, "istio_requests_total", store.MetricCounter, istioLabels("source", "chat-gateway", "503"), per(100))
	writeScrapes(t, st, tick, "istio_requests_total", store.MetricCounter, istioLabels("destination", "ranker", "503"), per(100))
	// Linkerd, inbound: 18 successes and 2 failures a scrape; 15 of the
	// successes within 100 ms, no failure.
	writeScrapes(t, st, tick, "response_total", store.MetricCounter, linkerdLabels("inbound", "chat-gateway", "success", "200"), per(18))
	writeScrapes(t, st, tick, "response_total", store.MetricCounter, linkerdLabels("inbound", "chat-gateway", "failure", "500"), per(2))
	for _, b := range []struct {
		class, le string
		n         float64
	}{{"success", "100", 15}, {"success", "+Inf", 18}, {"failure", "100", 0}, {"failure", "+Inf", 2}} {
		writeScrapes(t, st, tick, "response_latency_ms_bucket", store.MetricCounter, linkerdLabels("inbound", "chat-gateway", b.class, "200", le(b.le)), per(b.n))
	}
	writeScrapes(t, st, tick, "response_latency_ms_count", store.MetricCounter, linkerdLabels("inbound", "chat-gateway", "success", "200"), per(18))
	writeScrapes(t, st, tick, "response_latency_ms_count", store.MetricCounter, linkerdLabels("inbound", "chat-gateway", "failure", "500"), per(2))
	// Not counted: web's outbound requests to chat-gateway.
	writeScrapes(t, st, tick, "response_total", store.MetricCounter, linkerdLabels("outbound", "chat-gateway", "failure", "500"), per(50))

	dir := t.TempDir()
	write(t, dir, "mesh.yaml", `slos:
  - {name: chat-istio, service: chat-gateway, objective: 99.9%,
     availability: true, mesh: {kind: istio}}
  - name: chat-istio-latency
    service: chat-gateway
    objective: 99%
    latency: 500ms
    mesh: {kind: istio, service: chat-gateway.prod.svc.cluster.local}
  - name: chat-linkerd
    service: chat
    objective: 99%
    availability: true
    mesh: {kind: linkerd, service: chat-gateway, namespace: prod}
  - name: chat-linkerd-latency
    service: chat
    objective: 99%
    latency: 100ms
    mesh: {kind: linkerd, service: chat-gateway}
  - name: chat-istio-source
    service: chat-gateway
    objective: 99%
    availability: true
    mesh: {kind: istio, reporter: source}
  - name: chat-linkerd-outbound
    service: chat-gateway
    objective: 99%
    availability: true
    mesh: {kind: linkerd, direction: outbound, namespace: prod}
`)
	slos, problems, err := Load([]string{dir}, time.Minute)
	if err != nil || len(problems) > 0 {
		t.Fatalf("Load: %v %v", err, problems)
	}
	e := &Evaluator{Store: st, SLOs: slos, PromQL: querier.NewEngine(st, querier.DefaultOptions)}
	if err := e.Run(ctx, tick.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	// 240 scrapes; the first of each series counts nothing.
	const scrapes = 239
	for _, tc := range []struct {
		slo         string
		good, total float64
	}{
		{"chat-istio", 12 * scrapes, 13 * scrapes},
		{"chat-istio-latency", 11 * scrapes, 13 * scrapes},
		{"chat-linkerd", 18 * scrapes, 20 * scrapes},
		{"chat-linkerd-latency", 15 * scrapes, 20 * scrapes},
		// The client's views: every request failed there.
		{"chat-istio-source", 0, 100 * scrapes},
		{"chat-linkerd-outbound", 0, 50 * scrapes},
	} {
		s := findSLO(t, slos, tc.slo)
		st, err := Compute(ctx, st, s, tick.Add(-time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if st.Counts.Good != tc.good || st.Counts.Total != tc.total {
			t.Errorf("%s: got %g/%g, want %g/%g", tc.slo, st.Counts.Good, st.Counts.Total, tc.good, tc.total)
		}
	}
	for name, want := range map[string][]string{
		"chat-istio": {
			"source: Istio's standard metrics of requests to chat-gateway, reported by the destination's proxy",
			`good: increase of istio_requests_total{reporter="destination",destination_service_name="chat-gateway"} minus increase of istio_requests_total{reporter="destination",destination_service_name="chat-gateway",response_code=~"5.."}`,
		},
		"chat-istio-latency": {
			`good: increase of istio_request_duration_milliseconds_bucket{reporter="destination",destination_service="chat-gateway.prod.svc.cluster.local",le=~"500|500\\.0"}; total: increase of istio_request_duration_milliseconds_count{reporter="destination",destination_service="chat-gateway.prod.svc.cluster.local"}`,
		},
		"chat-linkerd": {
			"source: Linkerd's proxy metrics of the inbound requests of deployment chat-gateway in namespace prod",
			`response_total{direction="inbound",deployment="chat-gateway",namespace="prod",classification="failure"}`,
		},
		"chat-linkerd-latency": {
			`good: increase of response_latency_ms_bucket{direction="inbound",deployment="chat-gateway",le=~"100|100\\.0"}; total: increase of response_latency_ms_count{direction="inbound",deployment="chat-gateway"}`,
		},
	} {
		plan := findSLO(t, slos, name).Plan()
		for _, w := range want {
			if !strings.Contains(plan, w) {
				t.Errorf("%s: plan lacks %s:\n%s", name, w, plan)
			}
		}
	}
}

func TestMeshSLIErrors(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "bad.yaml", `slos:
  - name: a
    service: chat
    objective: 99%
    latency: 300ms
    mesh: {kind: istio}
  - name: b
    service: chat
    objective: 99%
    availability: true
    mesh:
      kind: consul
  - name: c
    service: chat
    objective: 99%
    mesh: {kind: linkerd}
  - name: d
    service: chat
    objective: 99%
    availability: true
    mesh:
      kind: linkerd
      reporter: destination
  - name: e
    service: chat
    objective: 99%
    availability: true
    operation: POST /chat
    mesh: {kind: istio}
  - name: f
    service: chat
    objective: 99%
    latency: 300ms
    mesh: {kind: istio, buckets: [100, 300, 1000]}
  - name: g
    service: chat
    objective: 99%
    latency: 250ms
    mesh: {kind: linkerd}
`)
	_, problems, err := Load([]string{dir}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, strings.TrimPrefix(p.String(), dir+"/"))
	}
	want := []string{
		`bad.yaml:5: slos[0].latency: 300ms is not a bucket bound of istio_request_duration_milliseconds, so no bucket counts the requests faster than it; the bounds are 0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000,`,
		`bad.yaml:12: slos[1].mesh.kind: "consul" is not a mesh Vigil knows: istio or linkerd`,
		`bad.yaml:16: slos[2].mesh: say what a good request is`,
		`bad.yaml:23: slos[3].mesh.reporter: is Istio's`,
		`bad.yaml:29: slos[4].mesh: operation, model and attributes pick spans`,
		`bad.yaml:38: slos[6].latency: 250ms is not a bucket bound of response_latency_ms`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d:\n got %s\nwant %s...", i, got[i], want[i])
		}
	}
}
