package otlp

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/vigil-dev/vigil/store"
)

// flat renders series and samples as "name{labels} value" lines, sorted.
func flat(series []store.Series, samples []store.Sample) []string {
	byFP := map[uint64]store.Series{}
	for _, s := range series {
		byFP[s.Fingerprint] = s
	}
	var out []string
	for _, sm := range samples {
		s := byFP[sm.Fingerprint]
		var ls []string
		for _, l := range s.Labels {
			ls = append(ls, l.Key+"="+l.Value)
		}
		out = append(out, fmt.Sprintf("%s{%s} %g @%d", s.Name, strings.Join(ls, ","), sm.Value, sm.TimestampMsec))
	}
	sort.Strings(out)
	return out
}

func newMetrics() (pmetric.Metrics, pmetric.MetricSlice) {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "vllm")
	rm.Resource().Attributes().PutStr("service.namespace", "inference")
	rm.Resource().Attributes().PutStr("service.instance.id", "pod-1")
	return md, rm.ScopeMetrics().AppendEmpty().Metrics()
}

const ts = 1_700_000_000_000_000_000

func TestMetricsMapping(t *testing.T) {
	md, ms := newMetrics()
	g := ms.AppendEmpty()
	g.SetName("gpu.utilization")
	p := g.SetEmptyGauge().DataPoints().AppendEmpty()
	p.SetTimestamp(ts)
	p.SetDoubleValue(0.75)
	p.Attributes().PutStr("gpu", "0")

	c := ms.AppendEmpty()
	c.SetName("vllm:prompt_tokens")
	sum := c.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	cp := sum.DataPoints().AppendEmpty()
	cp.SetTimestamp(ts)
	cp.SetIntValue(1200)
	cp.Attributes().PutStr("model.name", "llama")
	cp.Attributes().PutStr("job", "overridden")

	h := ms.AppendEmpty()
	h.SetName("latency")
	hist := h.SetEmptyHistogram()
	hist.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	hp := hist.DataPoints().AppendEmpty()
	hp.SetTimestamp(ts)
	hp.ExplicitBounds().FromRaw([]float64{0.1, 0.5})
	hp.BucketCounts().FromRaw([]uint64{3, 4, 1})
	hp.SetCount(8)
	hp.SetSum(2.5)

	series, samples, rejected, msg := Metrics("acme", md)
	if rejected != 0 {
		t.Fatalf("rejected %d: %s", rejected, msg)
	}
	want := []string{
		"gpu_utilization{gpu=0,instance=pod-1,job=inference/vllm} 0.75 @1700000000000",
		"latency_bucket{instance=pod-1,job=inference/vllm,le=+Inf} 8 @1700000000000",
		"latency_bucket{instance=pod-1,job=inference/vllm,le=0.1} 3 @1700000000000",
		"latency_bucket{instance=pod-1,job=inference/vllm,le=0.5} 7 @1700000000000",
		"latency_count{instance=pod-1,job=inference/vllm} 8 @1700000000000",
		"latency_sum{instance=pod-1,job=inference/vllm} 2.5 @1700000000000",
		"vllm:prompt_tokens_total{instance=pod-1,job=overridden,model_name=llama} 1200 @1700000000000",
	}
	if got := flat(series, samples); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, s := range series {
		if strings.HasPrefix(s.Name, "latency") && s.Type != store.MetricHistogram || strings.HasSuffix(s.Name, "_total") && s.Type != store.MetricCounter {
			t.Errorf("series %s has type %d", s.Name, s.Type)
		}
	}
}

func TestExponentialHistogram(t *testing.T) {
	md, ms := newMetrics()
	m := ms.AppendEmpty()
	m.SetName("ttft")
	eh := m.SetEmptyExponentialHistogram()
	eh.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	p := eh.DataPoints().AppendEmpty()
	p.SetTimestamp(ts)
	p.SetScale(0) // base 2
	p.SetZeroCount(1)
	p.Positive().SetOffset(1) // buckets (2,4] and (4,8]
	p.Positive().BucketCounts().FromRaw([]uint64{2, 3})
	p.Negative().SetOffset(0) // bucket (-2,-1]
	p.Negative().BucketCounts().FromRaw([]uint64{1})
	p.SetCount(7)
	p.SetSum(20)
	series, samples, rejected, _ := Metrics("acme", md)
	if rejected != 0 {
		t.Fatal(rejected)
	}
	got := strings.Join(flat(series, samples), "\n")
	for _, want := range []string{
		"le=-1} 1 ", "le=0} 2 ", "le=4} 4 ", "le=8} 7 ", "le=+Inf} 7 ", "ttft_sum{instance=pod-1,job=inference/vllm} 20 ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
}

func TestMetricsWithoutServiceAttributes(t *testing.T) {
	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("up")
	m.SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(1)
	series, _, rejected, _ := Metrics("acme", md)
	if rejected != 0 || len(series) != 1 || len(series[0].Labels) != 0 {
		t.Errorf("series %v, rejected %d", series, rejected)
	}
}

func TestMetricsRejectDelta(t *testing.T) {
	md, ms := newMetrics()
	m := ms.AppendEmpty()
	m.SetName("requests")
	sum := m.SetEmptySum()
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	sum.DataPoints().AppendEmpty().SetIntValue(1)
	sum.DataPoints().AppendEmpty().SetIntValue(2)
	ok := ms.AppendEmpty()
	ok.SetName("up")
	ok.SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(1)
	series, samples, rejected, msg := Metrics("acme", md)
	if rejected != 2 || len(samples) != 1 || len(series) != 1 || !strings.Contains(msg, "delta temporality is not supported") {
		t.Errorf("rejected %d (%q), kept %d samples", rejected, msg, len(samples))
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{"http.server.duration": "http_server_duration", "a:b": "a:b", "1abc": "_1abc", "é": "_"} {
		if got := escapeName(in); got != want {
			t.Errorf("escapeName(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"k8s.pod.name": "k8s_pod_name", "a:b": "a_b", "1abc": "key_1abc"} {
		if got := escapeLabel(in); got != want {
			t.Errorf("escapeLabel(%q) = %q, want %q", in, got, want)
		}
	}
}
