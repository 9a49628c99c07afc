package otlp

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
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
	md.ResourceMetrics().At(0).Resource().Attributes().PutStr("k8s.pod.name", "vllm-0")
	g := ms.AppendEmpty()
	g.SetName("gpu.utilization")
	g.SetUnit("1")
	p := g.SetEmptyGauge().DataPoints().AppendEmpty()
	p.SetTimestamp(ts)
	p.SetDoubleValue(0.75)
	p.Attributes().PutStr("gpu", "0")

	c := ms.AppendEmpty()
	c.SetName("vllm:prompt_tokens")
	c.SetUnit("{token}")
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
	h.SetUnit("s")
	hist := h.SetEmptyHistogram()
	hist.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	hp := hist.DataPoints().AppendEmpty()
	hp.SetTimestamp(ts)
	hp.ExplicitBounds().FromRaw([]float64{0.1, 0.5})
	hp.BucketCounts().FromRaw([]uint64{3, 4, 1})
	hp.SetCount(8)
	hp.SetSum(2.5)

	series, samples, rejected, msg := Metrics("acme", md, &Deltas{})
	if rejected != 0 {
		t.Fatalf("rejected %d: %s", rejected, msg)
	}
	want := []string{
		"gpu_utilization_ratio{gpu=0,instance=pod-1,job=inference/vllm} 0.75 @1700000000000",
		"latency_seconds_bucket{instance=pod-1,job=inference/vllm,le=+Inf} 8 @1700000000000",
		"latency_seconds_bucket{instance=pod-1,job=inference/vllm,le=0.1} 3 @1700000000000",
		"latency_seconds_bucket{instance=pod-1,job=inference/vllm,le=0.5} 7 @1700000000000",
		"latency_seconds_count{instance=pod-1,job=inference/vllm} 8 @1700000000000",
		"latency_seconds_sum{instance=pod-1,job=inference/vllm} 2.5 @1700000000000",
		"target_info{instance=pod-1,job=inference/vllm,k8s_pod_name=vllm-0} 1 @1700000000000",
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
	series, samples, rejected, _ := Metrics("acme", md, &Deltas{})
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
	series, _, rejected, _ := Metrics("acme", md, &Deltas{})
	if rejected != 0 || len(series) != 1 || len(series[0].Labels) != 0 {
		t.Errorf("series %v, rejected %d", series, rejected)
	}
}

// TestDeltaToCumulative sends delta sums, histograms and exponential
// histograms in three exports and reads cumulative series back; a point
// older than its stream's last is refused.
func TestDeltaToCumulative(t *testing.T) {
	d := &Deltas{}
	export := func(at uint64, v int64, scale int32) (got []string, rejected int, msg string) {
		md, ms := newMetrics()
		sum := ms.AppendEmpty()
		sum.SetName("requests")
		s := sum.SetEmptySum()
		s.SetIsMonotonic(true)
		s.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		p := s.DataPoints().AppendEmpty()
		p.SetTimestamp(pcommon.Timestamp(at))
		p.SetIntValue(v)
		hist := ms.AppendEmpty()
		hist.SetName("latency")
		hist.SetUnit("s")
		h := hist.SetEmptyHistogram()
		h.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		hp := h.DataPoints().AppendEmpty()
		hp.SetTimestamp(pcommon.Timestamp(at))
		hp.ExplicitBounds().FromRaw([]float64{1})
		hp.BucketCounts().FromRaw([]uint64{uint64(v), 1})
		hp.SetCount(uint64(v) + 1)
		hp.SetSum(float64(v))
		exp := ms.AppendEmpty()
		exp.SetName("ttft")
		e := exp.SetEmptyExponentialHistogram()
		e.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		ep := e.DataPoints().AppendEmpty()
		ep.SetTimestamp(pcommon.Timestamp(at))
		ep.SetScale(scale)
		ep.Positive().SetOffset(2) // scale 1: (2, 2.83]; scale 0: (4, 8]
		ep.Positive().BucketCounts().FromRaw([]uint64{uint64(v)})
		ep.SetCount(uint64(v))
		series, samples, rejected, msg := Metrics("acme", md, d)
		return flat(series, samples), rejected, msg
	}
	export(ts, 1, 1)
	export(ts+1e9, 2, 1)
	got, rejected, msg := export(ts+2e9, 4, 0)
	want := []string{
		"latency_seconds_bucket{instance=pod-1,job=inference/vllm,le=+Inf} 10 @1700000002000",
		"latency_seconds_bucket{instance=pod-1,job=inference/vllm,le=1} 7 @1700000002000",
		"latency_seconds_count{instance=pod-1,job=inference/vllm} 10 @1700000002000",
		"latency_seconds_sum{instance=pod-1,job=inference/vllm} 7 @1700000002000",
		"requests_total{instance=pod-1,job=inference/vllm} 7 @1700000002000",
		// Scale 1's bucket 2 is scale 0's bucket 1, (2, 4]: the finer
		// totals were brought to the coarser scale.
		"ttft_bucket{instance=pod-1,job=inference/vllm,le=+Inf} 7 @1700000002000",
		"ttft_bucket{instance=pod-1,job=inference/vllm,le=0} 0 @1700000002000",
		"ttft_bucket{instance=pod-1,job=inference/vllm,le=4} 3 @1700000002000",
		"ttft_bucket{instance=pod-1,job=inference/vllm,le=8} 7 @1700000002000",
		"ttft_count{instance=pod-1,job=inference/vllm} 7 @1700000002000",
	}
	if rejected != 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rejected %d (%s); got\n%s\nwant\n%s", rejected, msg, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, rejected, msg := export(ts+1e9, 1, 0); rejected != 3 || !strings.Contains(msg, "not newer than the last") {
		t.Errorf("an old point: rejected %d (%q)", rejected, msg)
	}
}

// TestNames: Prometheus's OTLP translation of names and units.
func TestNames(t *testing.T) {
	md, ms := newMetrics()
	for _, m := range []struct{ name, unit string }{{"http.server.request.duration", "ms"}, {"process.memory", "By"}, {"1abc", ""}} {
		g := ms.AppendEmpty()
		g.SetName(m.name)
		g.SetUnit(m.unit)
		p := g.SetEmptyGauge().DataPoints().AppendEmpty()
		p.SetIntValue(1)
		p.Attributes().PutStr("1st.label", "x")
	}
	series, _, _, _ := Metrics("acme", md, &Deltas{})
	var names []string
	for _, s := range series {
		names = append(names, s.Name+" "+s.Labels[0].Key)
	}
	want := "http_server_request_duration_milliseconds instance,process_memory_bytes instance,_1abc instance"
	if strings.Join(names, ",") != want {
		t.Errorf("names %q, want %q", strings.Join(names, ","), want)
	}
	if k := series[0].Labels; len(k) != 3 || k[2].Key != "key_1st_label" {
		t.Errorf("labels %v, want 1st.label as key_1st_label", k)
	}
}
