package main

import (
	"bytes"
	"io"
	"math"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/encoding/protowire"
)

// rwSeries is one remote-write time series: labels (with __name__) and
// values at one-minute steps from a start time.
type rwSeries struct {
	labels [][2]string
	value  func(minute int) float64
}

// remoteWriteBody encodes minutes [from, to) of each series as a snappy
// prometheus.WriteRequest, field by field as Prometheus marshals it.
func remoteWriteBody(series []rwSeries, t0 time.Time, from, to int) []byte {
	var req []byte
	for _, s := range series {
		var ts []byte
		for _, l := range s.labels {
			var lb []byte
			lb = protowire.AppendTag(lb, 1, protowire.BytesType)
			lb = protowire.AppendString(lb, l[0])
			lb = protowire.AppendTag(lb, 2, protowire.BytesType)
			lb = protowire.AppendString(lb, l[1])
			ts = protowire.AppendTag(ts, 1, protowire.BytesType)
			ts = protowire.AppendBytes(ts, lb)
		}
		for m := from; m < to; m++ {
			var sb []byte
			sb = protowire.AppendTag(sb, 1, protowire.Fixed64Type)
			sb = protowire.AppendFixed64(sb, math.Float64bits(s.value(m)))
			sb = protowire.AppendTag(sb, 2, protowire.VarintType)
			sb = protowire.AppendVarint(sb, uint64(t0.Add(time.Duration(m)*time.Minute).UnixMilli()))
			ts = protowire.AppendTag(ts, 2, protowire.BytesType)
			ts = protowire.AppendBytes(ts, sb)
		}
		req = protowire.AppendTag(req, 1, protowire.BytesType)
		req = protowire.AppendBytes(req, ts)
	}
	return snappy.Encode(nil, req)
}

func sendRemoteWrite(t *testing.T, addr string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/write", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("remote write: %s %s", resp.Status, msg)
	}
}

type recommendResponse struct {
	Strategy        string `json:"strategy"`
	Recommendations []struct {
		Namespace, Kind, Workload, Container string
		Replicas                             int
		Severity                             string
		MonthlySaving                        string `json:"monthly_saving"`
		Values                               []struct {
			Resource, Setting   string
			Current             float64
			Recommended         float64
			RecommendedQuantity string `json:"recommended_quantity"`
			Skipped             string
			Evidence            struct{ Samples, Pods int }
		}
	} `json:"recommendations"`
}

// TestRecommendEndToEnd remote-writes a week of cAdvisor and
// kube-state-metrics series for a two-pod Deployment into vigil serve and
// checks the KRR-simple recommendation from the API and as patches from
// `vigil recommend --output yaml`.
func TestRecommendEndToEnd(t *testing.T) {
	v := startServe(t, "")
	const days = 7
	minutes := days * 24 * 60
	// The week ends at the last whole minute, so the default window (the
	// 14 days before now) holds all of it.
	t0 := time.Now().UTC().Truncate(time.Minute).Add(-time.Duration(minutes) * time.Minute)
	pod1, pod2 := "api-7d9f8b6c5d-x2k4p", "api-7d9f8b6c5d-b5n8q"
	ctr := func(name, pod string, extra ...[2]string) [][2]string {
		return append([][2]string{{"__name__", name}, {"namespace", "shop"}, {"pod", pod}, {"container", "app"}}, extra...)
	}
	// CPU counters in whole core-seconds, so the rates are exact: pod 1
	// runs at 0.2 core with every tenth minute at 0.4 (its p95 is 0.4);
	// pod 2 at 0.1 core.
	cpu1 := func(m int) float64 { return float64(12*m + 12*((m+9)/10)) }
	cpu2 := func(m int) float64 { return float64(6 * m) }
	series := []rwSeries{
		{ctr("container_cpu_usage_seconds_total", pod1), cpu1},
		{ctr("container_cpu_usage_seconds_total", pod2), cpu2},
		// Working sets: 250 MiB with one 300 MiB peak; 200 MiB.
		{ctr("container_memory_working_set_bytes", pod1), func(m int) float64 {
			if m == 5000 {
				return 300 << 20
			}
			return 250 << 20
		}},
		{ctr("container_memory_working_set_bytes", pod2), func(int) float64 { return 200 << 20 }},
	}
	for _, pod := range []string{pod1, pod2} {
		for _, r := range []struct {
			metric, resource string
			v                float64
		}{{"kube_pod_container_resource_requests", "cpu", 1}, {"kube_pod_container_resource_requests", "memory", 1 << 30},
			{"kube_pod_container_resource_limits", "cpu", 2}, {"kube_pod_container_resource_limits", "memory", 1 << 30}} {
			val := r.v
			series = append(series, rwSeries{ctr(r.metric, pod, [2]string{"resource", r.resource}, [2]string{"node", "n1"}), func(int) float64 { return val }})
		}
	}
	for day := 0; day < days; day++ {
		sendRemoteWrite(t, v.http, remoteWriteBody(series, t0, day*1440, (day+1)*1440))
	}

	// The collector batches: poll until the whole week is in.
	var resp recommendResponse
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp = recommendResponse{}
		v.getJSON(t, "/api/v1/recommendations?namespace=shop&kind=Deployment&workload=api", &resp)
		if len(resp.Recommendations) == 1 && len(resp.Recommendations[0].Values) > 0 && resp.Recommendations[0].Values[2].Evidence.Samples == 2*minutes {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the week's samples did not arrive: %+v", resp)
		}
		time.Sleep(200 * time.Millisecond)
	}
	r := resp.Recommendations[0]
	if resp.Strategy != "simple" || r.Namespace != "shop" || r.Kind != "Deployment" || r.Workload != "api" || r.Container != "app" || r.Replicas != 2 {
		t.Errorf("recommendation identity: %+v", r)
	}
	want := map[string]struct {
		current float64
		rec     string
		samples int
	}{
		// max over pods of p95: 0.4 core; 2 pods × (minutes - 1) rates.
		"cpu/request": {1, "400m", 2 * (minutes - 1)},
		"cpu/limit":   {2, "", 2 * (minutes - 1)}, // KRR sets no CPU limit
		// 300 MiB × 1.15 = 345 MiB.
		"memory/request": {1 << 30, "345Mi", 2 * minutes},
		"memory/limit":   {1 << 30, "345Mi", 2 * minutes},
	}
	for _, val := range r.Values {
		w := want[val.Resource+"/"+val.Setting]
		if val.Current != w.current || val.RecommendedQuantity != w.rec || val.Evidence.Samples != w.samples || val.Evidence.Pods != 2 || val.Skipped != "" {
			t.Errorf("%s %s = %+v, want %v -> %q from %d samples", val.Resource, val.Setting, val, w.current, w.rec, w.samples)
		}
	}
	// (1 - 0.4) core × 0.031611 $/core-h + (1 - 345/1024) GiB × 0.004237
	// $/GiB-h, × 730 h × 2 replicas (Python decimal).
	if r.MonthlySaving != "31.793098871094" || r.Severity != "CRITICAL" {
		t.Errorf("saving %s, severity %s; want 31.793098871094, CRITICAL", r.MonthlySaving, r.Severity)
	}

	// A bad strategy is the caller's error.
	req, _ := http.Get("http://" + v.web + "/api/v1/recommendations?strategy=magic")
	body, _ := io.ReadAll(req.Body)
	req.Body.Close()
	if req.StatusCode != 400 || !bytes.Contains(body, []byte(`unknown strategy \"magic\"`)) {
		t.Errorf("strategy=magic: %d %s", req.StatusCode, body)
	}

	// The CLI asks the running server and prints the patch.
	out, err := withToken(v, exec.Command(binary, "recommend", "--server", "http://"+v.web, "--namespace", "shop", "--output", "yaml")).CombinedOutput()
	if err != nil {
		t.Fatalf("vigil recommend: %v\n%s", err, out)
	}
	wantYAML := `apiVersion: apps/v1
kind: Deployment
metadata:
    name: api
    namespace: shop
spec:
    template:
        spec:
            containers:
                - name: app
                  resources:
                    limits:
                        cpu: null
                        memory: 345Mi
                    requests:
                        cpu: 400m
                        memory: 345Mi
`
	if string(out) != wantYAML {
		t.Errorf("vigil recommend --output yaml:\n%s\nwant:\n%s", out, wantYAML)
	}
	out, err = withToken(v, exec.Command(binary, "recommend", "--server", "http://"+v.web, "--output", "table")).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("shop       Deployment  api       app        1000m -> 400m")) || !bytes.Contains(out, []byte("$31.79")) {
		t.Errorf("vigil recommend --output table (%v):\n%s", err, out)
	}
	// The API's refusal, quoted.
	out, err = withToken(v, exec.Command(binary, "recommend", "--server", "http://"+v.web, "--strategy", "magic")).CombinedOutput()
	if err == nil || !bytes.Contains(out, []byte(`answered 400 Bad Request: unknown strategy "magic"`)) {
		t.Errorf("vigil recommend --strategy magic (%v):\n%s", err, out)
	}
}
