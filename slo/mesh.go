package slo

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Mesh SLIs. A native SLO may take its availability or latency from the
// standard metrics a service mesh's proxies export, which reach Vigil
// through Prometheus remote write, instead of from spans:
//
//	slos:
//	  - {name: chat-gateway, service: chat-gateway, objective: 99.9%,
//	     availability: true, mesh: {kind: istio}}
//
// Vigil writes the PromQL. The queries are plain selectors of counters,
// so each minute counts their exact increases (see promql.go) and a
// window's burn rate is bad requests over all requests in it.
//
// Istio (https://istio.io/latest/docs/reference/config/metrics/): every
// proxy counts the requests it handles in istio_requests_total and
// observes their duration in the histogram
// istio_request_duration_milliseconds; reporter is "destination" on the
// server's proxy and "source" on the client's, destination_service the
// service's FQDN (details.default.svc.cluster.local),
// destination_service_name its short name and
// destination_service_namespace its namespace, response_code the HTTP
// status. A request is bad when its status is 5xx, the success rate
// Istio's own dashboards and Kiali show. The reporter defaults to the
// destination: the server's proxy sees every request that reached the
// service, whichever client (in the mesh or not) sent it. The histogram's
// buckets are Envoy's defaults (0.5 ms to an hour, as the
// sidecar.istio.io/statsHistogramBuckets documentation lists them) unless
// the pods override them, which mesh.buckets then repeats.
//
// Linkerd (https://linkerd.io/2/reference/proxy-metrics/): the proxy
// counts responses in response_total and observes time to first byte in
// the histogram response_latency_ms; direction is "inbound" for requests
// from outside the pod (the proxy of the service that answers) and
// "outbound" for those the pod sends, classification "success" or
// "failure" (a 5xx, or a gRPC error status). Inbound series carry the
// answering pod's labels as Linkerd's Prometheus configuration maps them:
// namespace and deployment (from linkerd.io/proxy-deployment), so an
// inbound SLO names the deployment; outbound ones carry the destination's
// as dst_namespace and dst_service. response_latency_ms's buckets are
// fixed in the proxy: 1-5, 10-50, 100-500, 1000-5000 and 10000-50000 ms.

// MeshKind is a service mesh whose standard metrics an SLI reads.
type MeshKind string

const (
	MeshIstio   MeshKind = "istio"
	MeshLinkerd MeshKind = "linkerd"
)

// istioBuckets are Envoy's default histogram bounds, in milliseconds.
var istioBuckets = []float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000}

// linkerdBuckets are the bounds of Linkerd's response_latency_ms.
var linkerdBuckets = []float64{1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000}

// meshYAML is the mesh: block of a native SLO.
type meshYAML struct {
	Kind      string    `yaml:"kind"`
	Service   string    `yaml:"service"`
	Namespace string    `yaml:"namespace"`
	Reporter  string    `yaml:"reporter"`
	Direction string    `yaml:"direction"`
	Buckets   []float64 `yaml:"buckets"`
}

// MeshSource is where a mesh SLI reads: whose requests, seen by which
// proxy.
type MeshSource struct {
	Kind      MeshKind
	Service   string // Istio: a short name or an FQDN; Linkerd inbound: the deployment
	Namespace string // "" for any
	// Side is Istio's reporter (destination or source) or Linkerd's
	// direction (inbound or outbound).
	Side    string
	Buckets []float64 // the latency histogram's bounds, in milliseconds
}

// readMesh checks a mesh: block; service is the SLO's, the default.
// problem reports at a field of the block ("" for the block).
func readMesh(y *meshYAML, service string, problem func(sub, msg string)) (MeshSource, bool) {
	m := MeshSource{Kind: MeshKind(strings.ToLower(y.Kind)), Service: y.Service, Namespace: y.Namespace, Buckets: y.Buckets}
	if m.Service == "" {
		m.Service = service
	}
	ok := true
	switch m.Kind {
	case MeshIstio:
		m.Side = y.Reporter
		if m.Side == "" {
			m.Side = "destination"
		}
		if y.Direction != "" {
			problem("direction", "is Linkerd's; Istio's proxies say which side they are with reporter: destination or source")
			ok = false
		}
		if m.Side != "destination" && m.Side != "source" {
			problem("reporter", fmt.Sprintf("%q is not destination or source", m.Side))
			ok = false
		}
		if m.Buckets == nil {
			m.Buckets = istioBuckets
		}
	case MeshLinkerd:
		m.Side = y.Direction
		if m.Side == "" {
			m.Side = "inbound"
		}
		if y.Reporter != "" {
			problem("reporter", "is Istio's; Linkerd's proxies say which side they are with direction: inbound or outbound")
			ok = false
		}
		if m.Side != "inbound" && m.Side != "outbound" {
			problem("direction", fmt.Sprintf("%q is not inbound or outbound", m.Side))
			ok = false
		}
		if m.Buckets == nil {
			m.Buckets = linkerdBuckets
		}
	default:
		problem("kind", fmt.Sprintf("%q is not a mesh Vigil knows: istio or linkerd", y.Kind))
		return m, false
	}
	for _, b := range m.Buckets {
		if !(b > 0) || math.IsInf(b, 0) {
			problem("buckets", fmt.Sprintf("%g is not a positive bucket bound in milliseconds", b))
			ok = false
		}
	}
	return m, ok
}

// selector is the matchers that pick the service's requests, in the order
// they are written.
func (m MeshSource) selector() []string {
	label := func(k, v string) string { return fmt.Sprintf("%s=%q", k, v) }
	switch {
	case m.Kind == MeshIstio:
		out := []string{label("reporter", m.Side)}
		if strings.Contains(m.Service, ".") {
			out = append(out, label("destination_service", m.Service))
		} else {
			out = append(out, label("destination_service_name", m.Service))
		}
		if m.Namespace != "" {
			out = append(out, label("destination_service_namespace", m.Namespace))
		}
		return out
	case m.Side == "inbound":
		out := []string{label("direction", "inbound"), label("deployment", m.Service)}
		if m.Namespace != "" {
			out = append(out, label("namespace", m.Namespace))
		}
		return out
	default:
		out := []string{label("direction", "outbound"), label("dst_service", m.Service)}
		if m.Namespace != "" {
			out = append(out, label("dst_namespace", m.Namespace))
		}
		return out
	}
}

// Availability is the SLI of the service's requests that did not fail.
func (m MeshSource) Availability() MetricRatio {
	sel := m.selector()
	if m.Kind == MeshIstio {
		return MetricRatio{Bad: "istio_requests_total" + braces(append(slices.Clip(sel), `response_code=~"5.."`)), Total: "istio_requests_total" + braces(sel)}
	}
	return MetricRatio{Bad: "response_total" + braces(append(slices.Clip(sel), `classification="failure"`)), Total: "response_total" + braces(sel)}
}

// Latency is the SLI of the service's requests that took at most
// threshold, read from the histogram's bucket of that bound; a threshold
// that is not a bound of the histogram has no bucket to read, and is an
// error that lists the bounds.
func (m MeshSource) Latency(threshold time.Duration) (MetricRatio, error) {
	ms := float64(threshold) / float64(time.Millisecond)
	if !slices.Contains(m.Buckets, ms) {
		bounds := make([]string, len(m.Buckets))
		for i, b := range m.Buckets {
			bounds[i] = strconv.FormatFloat(b, 'f', -1, 64)
		}
		return MetricRatio{}, fmt.Errorf("%s is not a bucket bound of %s, so no bucket counts the requests faster than it; the bounds are %s ms (list the mesh's own under mesh.buckets if its pods change them)",
			threshold, m.histogram(), strings.Join(bounds, ", "))
	}
	sel := m.selector()
	return MetricRatio{Good: m.histogram() + "_bucket" + braces(append(slices.Clip(sel), leMatcher(ms))), Total: m.histogram() + "_count" + braces(sel)}, nil
}

func (m MeshSource) histogram() string {
	if m.Kind == MeshIstio {
		return "istio_request_duration_milliseconds"
	}
	return "response_latency_ms"
}

// leMatcher matches a bucket's le label. Prometheus 3 writes a whole
// bound as a float when it scrapes (le="500" becomes le="500.0"), and
// Prometheus 2 as the proxy wrote it, so a whole bound matches both.
func leMatcher(ms float64) string {
	s := strconv.FormatFloat(ms, 'f', -1, 64)
	if ms == math.Trunc(ms) {
		return fmt.Sprintf(`le=~"%s|%s\\.0"`, s, s)
	}
	return fmt.Sprintf("le=%q", s)
}

// Describe says whose requests the SLI counts, for `vigil slo plan`.
func (m MeshSource) Describe() string {
	who := m.Service
	if m.Namespace != "" {
		who += " in namespace " + m.Namespace
	}
	if m.Kind == MeshIstio {
		return fmt.Sprintf("Istio's standard metrics of requests to %s, reported by the %s's proxy", who, m.Side)
	}
	if m.Side == "inbound" {
		return fmt.Sprintf("Linkerd's proxy metrics of the inbound requests of deployment %s", who)
	}
	return fmt.Sprintf("Linkerd's proxy metrics of outbound requests to service %s", who)
}

// mesh reads an SLO whose availability or latency comes from a mesh's
// metrics.
func (r *nativeReader) mesh(s *SLO, y *nativeYAML) {
	switch {
	case y.Operation != "" || y.Model != "" || len(y.Attributes) > 0:
		r.errorAt("mesh", "operation, model and attributes pick spans; a mesh SLI counts the mesh's requests to the whole service")
		return
	case y.Threshold != nil || y.Metric != nil || y.Drift != "":
		r.errorAt("mesh", "a mesh SLI is availability: true or latency: <a bucket bound>; threshold, metric and drift read other sources")
		return
	case y.Latency == "" && !y.Availability:
		r.errorAt("mesh", "say what a good request is: availability: true, or latency: <a bucket bound such as 500ms>")
		return
	}
	m, ok := readMesh(y.Mesh, y.Service, func(sub, msg string) { r.errorAt("mesh."+sub, "%s", msg) })
	if !ok {
		return
	}
	s.Source = m.Describe()
	if y.Availability {
		s.SLI = m.Availability()
		return
	}
	d, err := time.ParseDuration(y.Latency)
	if err != nil || d <= 0 {
		r.errorAt("latency", "%q is not a positive duration such as 500ms", y.Latency)
		return
	}
	sli, err := m.Latency(d)
	if err != nil {
		r.errorAt("latency", "%v", err)
		return
	}
	s.SLI = sli
}
