package main

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// meshSLOs are SLOs over the mesh exporter's series. The first is issue
// 20's Istio availability SLO in three lines; the others alert over
// minutes, so their windows start inside the few minutes of data, and
// keep a day, which the evaluator's first run fills sooner than a month.
const meshSLOs = `slos:
  - {name: chat-istio, service: chat-gateway, objective: 99.9%,
     availability: true, mesh: {kind: istio}}
  - name: chat-istio-latency
    service: chat-gateway
    objective: 99%
    latency: 500ms
    mesh: {kind: istio, namespace: prod}
    window: 1d
    alerts: {windows: [{severity: page, long: 3m, short: 1m, factor: 2}]}
  - name: chat-linkerd
    service: chat-gateway
    objective: 99%
    availability: true
    mesh: {kind: linkerd}
    window: 1d
    alerts: {windows: [{severity: page, long: 2m, short: 1m, factor: 2}]}
  - name: chat-linkerd-latency
    service: chat-gateway
    objective: 95%
    latency: 100ms
    mesh: {kind: linkerd, namespace: prod}
    window: 1d
    alerts: {windows: [{severity: page, long: 3m, short: 2m, factor: 2}]}
`

// meshCounts are the counters the mesh exporter serves at one scrape, for
// chat-gateway: Istio's 200s and 503s as the destination reports them,
// and those of each that took at most 500 ms; Linkerd's inbound successes
// and failures, and those of each answered within 100 ms.
type meshCounts struct {
	istioOK, istioFail, istioOKFast, istioFailFast     float64
	linkerdOK, linkerdFail, linkerdOKFast, linkerdFast float64
}

// meshCountsAt is the n-th scrape's counters: uneven steps, failures in
// bursts, so windows differ. They start far from zero, as a running
// proxy's do.
func meshCountsAt(n int64) meshCounts {
	c := meshCounts{istioOK: 500_000, istioFail: 700, istioOKFast: 480_000, istioFailFast: 690,
		linkerdOK: 80_000, linkerdFail: 300, linkerdOKFast: 70_000, linkerdFast: 100}
	for i := int64(1); i <= n; i++ {
		ok, fail := float64(9+i%4), float64(i%3)
		if i%40 < 8 {
			fail += 6
		}
		c.istioOK += ok
		c.istioFail += fail
		c.istioOKFast += ok - float64(i%5) // i%5 of them slow
		c.istioFailFast += fail - float64(i%2)*min(fail, 1)
		c.linkerdOK += 2 * ok
		c.linkerdFail += float64(i % 2)
		c.linkerdOKFast += 2*ok - float64(i%7)
		c.linkerdFast += float64(i%2) * float64(i%4/3) // of its failures, one in two within 100 ms
	}
	return c
}

// meshExporter serves chat-gateway's series as Istio's proxies (reporter
// destination, and the client's view as reporter source) and Linkerd's
// (inbound, and a client's outbound) export them, with the labels their
// references list, every sample stamped with the millisecond it was
// served, so the test knows which samples fall into each window. After
// freeze, the counters stop.
type meshExporter struct {
	mu     sync.Mutex
	served []int64 // guarded by mu: the timestamp of each scrape
	frozen bool    // guarded by mu
}

func (e *meshExporter) freeze() {
	e.mu.Lock()
	e.frozen = true
	e.mu.Unlock()
}

// scrapes returns the timestamps of the scrapes that advanced the
// counters: the n-th served meshCountsAt(n), and every scrape since the
// last of them served its counters again.
func (e *meshExporter) scrapes() []int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.served)
}

var istioBounds = []float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000}
var linkerdBounds = []float64{1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000}

func (e *meshExporter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	ts := time.Now().UnixMilli()
	// Two scrapes never share a millisecond: Prometheus would drop the
	// second sample.
	if len(e.served) > 0 && ts <= e.served[len(e.served)-1] {
		ts = e.served[len(e.served)-1] + 1
	}
	if !e.frozen {
		e.served = append(e.served, ts)
	}
	n := int64(len(e.served))
	e.mu.Unlock()
	c := meshCountsAt(n)
	var b strings.Builder
	sample := func(name, labels string, v float64) {
		fmt.Fprintf(&b, "%s{%s} %s %d\n", name, labels, strconv.FormatFloat(v, 'f', -1, 64), ts)
	}
	istio := func(reporter, service, code string) string {
		return fmt.Sprintf(`connection_security_policy="mutual_tls",destination_app="%[2]s",destination_canonical_revision="v1",destination_canonical_service="%[2]s",destination_cluster="Kubernetes",destination_principal="spiffe://cluster.local/ns/prod/sa/%[2]s",destination_service="%[2]s.prod.svc.cluster.local",destination_service_name="%[2]s",destination_service_namespace="prod",destination_version="v1",destination_workload="%[2]s-v1",destination_workload_namespace="prod",reporter="%[1]s",request_protocol="http",response_code="%[3]s",response_flags="-",source_app="web",source_canonical_revision="v1",source_canonical_service="web",source_cluster="Kubernetes",source_principal="spiffe://cluster.local/ns/prod/sa/web",source_version="v1",source_workload="web",source_workload_namespace="prod"`, reporter, service, code)
	}
	// A histogram whose fast observations are at most the threshold and
	// whose others lie above the bound after it.
	histogram := func(name, labels string, bounds []float64, threshold, fast, all float64) {
		for _, le := range bounds {
			v := 0.0
			switch {
			case le >= threshold*4:
				v = all
			case le >= threshold:
				v = fast
			}
			sample(name+"_bucket", fmt.Sprintf(`%s,le="%s"`, labels, strconv.FormatFloat(le, 'f', -1, 64)), v)
		}
		sample(name+"_bucket", labels+`,le="+Inf"`, all)
		sample(name+"_sum", labels, fast*threshold+(all-fast)*threshold*3)
		sample(name+"_count", labels, all)
	}
	b.WriteString("# TYPE istio_requests_total counter\n")
	sample("istio_requests_total", istio("destination", "chat-gateway", "200"), c.istioOK)
	sample("istio_requests_total", istio("destination", "chat-gateway", "503"), c.istioFail)
	sample("istio_requests_total", istio("source", "chat-gateway", "503"), 3*c.istioFail) // the client's view: not counted
	sample("istio_requests_total", istio("destination", "ranker", "503"), 5*c.istioOK)    // another service
	b.WriteString("# TYPE istio_request_duration_milliseconds histogram\n")
	histogram("istio_request_duration_milliseconds", istio("destination", "chat-gateway", "200"), istioBounds, 500, c.istioOKFast, c.istioOK)
	histogram("istio_request_duration_milliseconds", istio("destination", "chat-gateway", "503"), istioBounds, 500, c.istioFailFast, c.istioFail)
	histogram("istio_request_duration_milliseconds", istio("source", "chat-gateway", "503"), istioBounds, 500, 0, c.istioFail)
	linkerd := func(direction, class, code string) string {
		l := fmt.Sprintf(`authority="chat-gateway.prod.svc.cluster.local:8080",classification="%s",direction="%s",namespace="prod",pod="%s",status_code="%s",tls="true"`,
			class, direction, map[string]string{"inbound": "chat-gateway-5d9c7f-abcde", "outbound": "web-7b8f9-xyz12"}[direction], code)
		if direction == "inbound" {
			return l + `,deployment="chat-gateway"`
		}
		return l + `,deployment="web",dst_deployment="chat-gateway",dst_namespace="prod",dst_service="chat-gateway"`
	}
	b.WriteString("# TYPE response_total counter\n")
	sample("response_total", linkerd("inbound", "success", "200"), c.linkerdOK)
	sample("response_total", linkerd("inbound", "failure", "500"), c.linkerdFail)
	sample("response_total", linkerd("outbound", "failure", "500"), 4*c.linkerdFail) // web's view: not counted
	b.WriteString("# TYPE response_latency_ms histogram\n")
	histogram("response_latency_ms", linkerd("inbound", "success", "200"), linkerdBounds, 100, c.linkerdOKFast, c.linkerdOK)
	histogram("response_latency_ms", linkerd("inbound", "failure", "500"), linkerdBounds, 100, c.linkerdFast, c.linkerdFail)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprint(w, b.String())
}

// meshSLI is how each SLO of meshSLOs counts from the exporter's counters.
var meshSLI = map[string]struct {
	objective float64
	bad       func(c meshCounts) float64
	total     func(c meshCounts) float64
}{
	"chat-istio": {0.999, func(c meshCounts) float64 { return c.istioFail }, func(c meshCounts) float64 { return c.istioOK + c.istioFail }},
	"chat-istio-latency": {0.99, func(c meshCounts) float64 { return c.istioOK + c.istioFail - c.istioOKFast - c.istioFailFast },
		func(c meshCounts) float64 { return c.istioOK + c.istioFail }},
	"chat-linkerd": {0.99, func(c meshCounts) float64 { return c.linkerdFail }, func(c meshCounts) float64 { return c.linkerdOK + c.linkerdFail }},
	"chat-linkerd-latency": {0.95, func(c meshCounts) float64 { return c.linkerdOK + c.linkerdFail - c.linkerdOKFast - c.linkerdFast },
		func(c meshCounts) float64 { return c.linkerdOK + c.linkerdFail }},
}

// handBurn is the burn rate over [from, to) worked out from what the
// exporter served: the increase of the counters from their last sample at
// or before from (their first sample when the window starts before it, as
// a series' first sample counts nothing) to their last at or before to
// (a minute's rollup is its counters' increase over (start, end]), bad over
// total over the budget. ok is false when the window has no requests.
func handBurn(served []int64, slo string, from, to time.Time) (burn float64, ok bool) {
	at := func(t time.Time) int64 { // the scrape index whose sample is the last at or before t
		i, _ := slices.BinarySearch(served, t.UnixMilli()+1)
		return max(int64(i), 1)
	}
	s := meshSLI[slo]
	start, end := meshCountsAt(at(from)), meshCountsAt(at(to))
	bad, total := s.bad(end)-s.bad(start), s.total(end)-s.total(start)
	if total == 0 {
		return 0, false
	}
	return bad / total / (1 - s.objective), true
}

// TestMeshSLOsBurnAsComputedByHand is issue 20's done-when for meshes:
// the SLOs above lint clean and `vigil slo plan` shows the PromQL Vigil
// writes for them; Debian's Prometheus scrapes an exporter of Istio's and
// Linkerd's series and remote-writes them into vigil serve (each
// backend); once the counters stop, every burn rate of GET
// /api/v1/slos/{name} equals the one worked out from the counters the
// exporter served in its windows.
func TestMeshSLOsBurnAsComputedByHand(t *testing.T) {
	// Parallel: mostly waits on Prometheus's scrapes and remote writes.
	t.Parallel()
	prom := needTool(t, "prometheus")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mesh.yaml"), []byte(meshSLOs), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := lint(t, dir); code != 0 || out != "" {
		t.Fatalf("lint: exit %d\n%s", code, out)
	}
	plan, err := exec.Command(binary, "slo", "plan", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("slo plan: %v\n%s", err, plan)
	}
	for _, want := range []string{
		"source: Istio's standard metrics of requests to chat-gateway, reported by the destination's proxy",
		`SLI: good: increase of istio_requests_total{reporter="destination",destination_service_name="chat-gateway"} minus increase of istio_requests_total{reporter="destination",destination_service_name="chat-gateway",response_code=~"5.."}`,
		`good: increase of response_latency_ms_bucket{direction="inbound",deployment="chat-gateway",namespace="prod",le=~"100|100\\.0"}; total: increase of response_latency_ms_count{direction="inbound",deployment="chat-gateway",namespace="prod"}`,
	} {
		if !strings.Contains(string(plan), want) {
			t.Errorf("slo plan lacks %s:\n%s", want, plan)
		}
	}

	vigils := map[string]*vigilServer{"embedded": startServe(t, "", "--config-dir", dir, "--analyzer.interval", "1s")}
	if ch := clickHouseFor(t); ch != "" {
		db := fmt.Sprintf("vigil_mesh_slo_%d", time.Now().UnixNano())
		t.Cleanup(func() { dropDatabase(ch, db) })
		vigils["clickhouse"] = startServe(t, "clickhouse://"+ch+"/"+db, "--config-dir", dir, "--analyzer.interval", "1s")
	}
	exp := &meshExporter{}
	srv := httptest.NewServer(exp)
	defer srv.Close()
	promAPI := "http://" + startPrometheusFor(t, prom, srv.Listener.Addr().String(), vigils) + "/api/v1"

	// Three and a half minutes of requests, then none: the windows of a
	// minute to three then start inside the data, and what each holds no
	// longer depends on how far the minute in progress had got.
	for deadline := time.Now().Add(2 * time.Minute); len(exp.scrapes()) == 0; time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			t.Fatal("Prometheus did not scrape the exporter in 2 minutes")
		}
	}
	time.Sleep(210 * time.Second)
	exp.freeze()
	time.Sleep(2 * time.Second) // scrapes of the stopped counters
	compared := 0
	for name, v := range vigils {
		waitForParity(t, promAPI, "http://"+v.web+"/prometheus/api/v1", time.Now().Add(-time.Second), name)
		served := exp.scrapes()
		if len(served) < 300 {
			t.Fatalf("%d scrapes in 3.5 minutes", len(served))
		}
		// The analyzer recomputes the recent minutes every second: poll
		// until a tick has read every sample, then every burn rate must
		// match. Two minutes, as the first run, which fills the Istio
		// SLO's month a day at a time, took minutes on ClickHouse with the
		// machine's two cores shared.
		var mismatch []string
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Second) {
			mismatch = mismatch[:0]
			n := 0
			for slo := range meshSLI {
				r := getSLOStatus(t, v, slo)
				if len(r.BurnRates) == 0 {
					mismatch = append(mismatch, slo+": no burn-rate rules")
				}
				for _, b := range r.BurnRates {
					for _, w := range []struct {
						window string
						got    *float64
					}{{b.LongWindow, b.LongBurnRate}, {b.ShortWindow, b.ShortBurnRate}} {
						d, err := time.ParseDuration(w.window)
						if err != nil {
							t.Fatalf("%s: %s: window %q: %v", name, slo, w.window, err)
						}
						want, ok := handBurn(served, slo, r.At.Add(-d), r.At)
						switch {
						case !ok && w.got != nil:
							mismatch = append(mismatch, fmt.Sprintf("%s over %s: burn rate %g, but no requests by hand", slo, w.window, *w.got))
						case ok && w.got == nil:
							mismatch = append(mismatch, fmt.Sprintf("%s over %s: no burn rate, by hand %.17g", slo, w.window, want))
						case ok && !(math.Abs(*w.got-want) <= 1e-9*want):
							mismatch = append(mismatch, fmt.Sprintf("%s over %s: burn rate %.17g, by hand %.17g", slo, w.window, *w.got, want))
						default:
							n++
						}
					}
				}
			}
			if len(mismatch) == 0 {
				compared += n
				break
			}
			if time.Now().After(deadline) {
				stderr := v.stderr.String()
				t.Errorf("%s: in 2 minutes, burn rates did not come to match the hand computation:\n%s\nvigil's stderr ends:\n%s",
					name, strings.Join(mismatch, "\n"), stderr[max(0, len(stderr)-6000):])
				break
			}
		}
	}
	t.Logf("%d burn rates matched the hand computation", compared)
}
