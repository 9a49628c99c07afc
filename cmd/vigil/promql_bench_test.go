package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/vigil-dev/vigil/collector/spanmetrics"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/clickhouse"
	"github.com/vigil-dev/vigil/store/embedded"
)

// The two PromQL benchmarks of issue 11, asked of `vigil serve` on each
// backend and of Debian's Prometheus holding the same samples, in one
// run: over the last 24 hours at a 1-minute step,
//
//   - sum by (service) (rate(http_requests_total[5m])) over 1,000 counters
//     (10 services x 100 instances) sampled every 15 s;
//   - histogram_quantile(0.99, sum by (le, service)
//     (rate(vigil_span_duration_seconds_bucket[5m]))) over the span
//     metrics of 1M spans an hour (10 services x 5 operations x 2
//     statuses), counted by collector/spanmetrics and written every 15 s.
//
// Each query runs three times on each server, over HTTP with stats=all;
// server time is the median round trip on loopback, samples are the
// engine's totalQueryableSamples, and peak memory is the server process's
// peak resident set during the queries (VmHWM, reset before them through
// /proc/PID/clear_refs). It takes several minutes: run it with
// VIGIL_BENCH_PROMQL=1.
func TestPromQLBenchmark(t *testing.T) {
	if os.Getenv("VIGIL_BENCH_PROMQL") == "" {
		t.Skip("set VIGIL_BENCH_PROMQL=1 to run the PromQL benchmark against Prometheus")
	}
	prom := needTool(t, "prometheus")
	end := time.Now().Truncate(time.Minute)
	start := end.Add(-24 * time.Hour)
	servers := map[string]string{}

	promAddr, promPID := startBenchPrometheus(t, prom)
	embeddedDir := t.TempDir()
	st, err := embedded.Open(context.Background(), embeddedDir)
	if err != nil {
		t.Fatal(err)
	}
	sinks := []benchSink{st, &remoteWriter{url: "http://" + promAddr + "/api/v1/write"}}
	var ch *clickhouse.Store
	chURL := ""
	if addr := clickHouseFor(t); addr != "" {
		chURL = fmt.Sprintf("clickhouse://%s/vigil_bench_%d", addr, time.Now().UnixNano())
		cfg, err := clickhouse.ParseURL(chURL)
		if err != nil {
			t.Fatal(err)
		}
		if ch, err = clickhouse.Open(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ch.DropDatabase(context.Background()); ch.Close() })
		sinks = append(sinks, ch)
	}
	loaded := time.Now()
	n := writeBenchDay(t, start, end, sinks)
	t.Logf("wrote %d samples to each of %d stores in %s", n, len(sinks), time.Since(loaded).Round(time.Second))
	st.Close()

	pids := map[string]int{"prometheus": promPID}
	servers["prometheus"] = "http://" + promAddr + "/api/v1"
	v := startServe(t, "", "--data-dir", embeddedDir)
	servers["vigil-embedded"], pids["vigil-embedded"] = "http://"+v.web+"/prometheus/api/v1", v.cmd.Process.Pid
	if chURL != "" {
		vc := startServe(t, chURL)
		servers["vigil-clickhouse"], pids["vigil-clickhouse"] = "http://"+vc.web+"/prometheus/api/v1", vc.cmd.Process.Pid
	}
	waitForPrometheus(t, servers["prometheus"], end)

	for _, q := range []string{
		`sum by (service) (rate(http_requests_total[5m]))`,
		`histogram_quantile(0.99, sum by (le, service) (rate(vigil_span_duration_seconds_bucket[5m])))`,
	} {
		shapes := map[string]string{}
		for _, name := range slices.Sorted(maps.Keys(servers)) {
			r := benchQuery(t, servers[name], pids[name], q, start, end)
			shapes[name] = r.shape
			t.Logf("%-40.40s %-16s %7.2f s  %12d samples  %6d MB peak RSS", q, name, r.seconds, r.samples, r.peakMB)
		}
		for name, shape := range shapes {
			if shape != shapes["prometheus"] {
				t.Errorf("%s: %s answers %s, Prometheus %s", q, name, shape, shapes["prometheus"])
			}
		}
	}
}

// benchSink is where the day's samples go.
type benchSink interface {
	WriteMetrics(ctx context.Context, series []store.Series, samples []store.Sample) error
}

// writeBenchDay generates the day tick by tick (15 s) and writes it to
// every sink, half an hour at a time, in time order (Prometheus accepts
// only samples within an hour of its newest). It returns the samples written to each.
func writeBenchDay(t *testing.T, start, end time.Time, sinks []benchSink) int {
	const tick = 15 * time.Second
	now := start
	gen := spanmetrics.New(spanmetrics.Options{Instance: "bench", Now: func() time.Time { return now }, Expiry: time.Hour})
	counters := make([]store.Series, 1000)
	values := make([]float64, 1000)
	for i := range counters {
		counters[i] = store.NewSeries(store.DefaultTenant, "http_requests_total", store.MetricCounter, store.Attributes{
			{Key: "service", Value: fmt.Sprintf("svc-%d", i/100)}, {Key: "instance", Value: fmt.Sprintf("i-%d", i%100)}})
	}
	spans := benchSpans()
	total := 0
	var series []store.Series
	var samples []store.Sample
	for ; now.Before(end); now = now.Add(tick) {
		ms := now.UnixMilli()
		for i := range counters {
			values[i] += float64(1 + i%7)
			samples = append(samples, store.Sample{Tenant: store.DefaultTenant, Fingerprint: counters[i].Fingerprint, TimestampMsec: ms, Value: values[i]})
		}
		if now.Equal(start) {
			series = append(series, counters...)
		}
		gen.Add(spans)
		e := gen.Flush()
		gen.Done(e, nil)
		series, samples = append(series, e.Series...), append(samples, e.Samples...)
		if next := now.Add(tick); next.Sub(start)%(30*time.Minute) == 0 || !next.Before(end) {
			for _, s := range sinks {
				if err := s.WriteMetrics(context.Background(), series, samples); err != nil {
					t.Fatalf("writing the samples before %s: %v", next, err)
				}
			}
			total += len(samples)
			series, samples = nil, samples[:0]
		}
	}
	return total
}

// benchSpans are a quarter minute of 1M spans an hour: 4,167 spans over
// 100 label sets, with durations spread from 10 ms to 10 s.
func benchSpans() []store.Span {
	spans := make([]store.Span, 1_000_000/240)
	for i := range spans {
		spans[i] = store.Span{Tenant: store.DefaultTenant, Service: fmt.Sprintf("svc-%d", i%10), Operation: fmt.Sprintf("op-%d", i/10%5),
			StatusCode: store.StatusCode(1 + i/50%2), DurationNano: int64(10 * time.Millisecond * time.Duration(1+(i*7919)%1000))}
	}
	return spans
}

// remoteWriter sends samples to Prometheus with remote write 1.0, in
// requests of at most 50,000 samples.
type remoteWriter struct {
	url string
	// labels are every series seen: samples name their series by
	// fingerprint, and a series is written with its first samples only.
	labels map[uint64]store.Series
}

func (w *remoteWriter) WriteMetrics(ctx context.Context, series []store.Series, samples []store.Sample) error {
	for len(samples) > 0 {
		n := min(len(samples), 50_000)
		if err := w.send(ctx, series, samples[:n]); err != nil {
			return err
		}
		samples = samples[n:]
	}
	return nil
}

func (w *remoteWriter) send(ctx context.Context, series []store.Series, samples []store.Sample) error {
	if w.labels == nil {
		w.labels = map[uint64]store.Series{}
	}
	for _, s := range series {
		w.labels[s.Fingerprint] = s
	}
	bySeries := map[uint64][]store.Sample{}
	var order []uint64
	for _, sm := range samples {
		if bySeries[sm.Fingerprint] == nil {
			order = append(order, sm.Fingerprint)
		}
		bySeries[sm.Fingerprint] = append(bySeries[sm.Fingerprint], sm)
	}
	var req []byte
	for _, fp := range order {
		s := w.labels[fp]
		var ts []byte
		ts = appendLabel(ts, store.MetricNameLabel, s.Name)
		for _, l := range s.Labels {
			ts = appendLabel(ts, l.Key, l.Value)
		}
		for _, sm := range bySeries[fp] {
			var sb []byte
			sb = protowire.AppendTag(sb, 1, protowire.Fixed64Type)
			sb = protowire.AppendFixed64(sb, math.Float64bits(sm.Value))
			sb = protowire.AppendTag(sb, 2, protowire.VarintType)
			sb = protowire.AppendVarint(sb, uint64(sm.TimestampMsec))
			ts = protowire.AppendTag(ts, 2, protowire.BytesType)
			ts = protowire.AppendBytes(ts, sb)
		}
		req = protowire.AppendTag(req, 1, protowire.BytesType)
		req = protowire.AppendBytes(req, ts)
	}
	hr, _ := http.NewRequestWithContext(ctx, "POST", w.url, strings.NewReader(string(snappy.Encode(nil, req))))
	hr.Header.Set("Content-Type", "application/x-protobuf")
	hr.Header.Set("Content-Encoding", "snappy")
	hr.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("remote write: %d %s", resp.StatusCode, body)
	}
	return nil
}

// appendLabel appends a prometheus.Label (labels must be sorted by name:
// __name__ sorts first, and store series keep theirs sorted).
func appendLabel(ts []byte, name, value string) []byte {
	var lb []byte
	lb = protowire.AppendTag(lb, 1, protowire.BytesType)
	lb = protowire.AppendString(lb, name)
	lb = protowire.AppendTag(lb, 2, protowire.BytesType)
	lb = protowire.AppendString(lb, value)
	ts = protowire.AppendTag(ts, 1, protowire.BytesType)
	return protowire.AppendBytes(ts, lb)
}

// startBenchPrometheus runs Prometheus as a remote-write receiver with
// nothing to scrape; it returns its address and process id.
func startBenchPrometheus(t *testing.T, prom string) (string, int) {
	dir := t.TempDir()
	path := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(path, []byte("global:\n  scrape_interval: 1m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	p := startProgram(t, prom, nil, "--config.file="+path, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--web.enable-remote-write-receiver", "--query.max-samples=200000000")
	if code, _ := get(t, p, "http://"+addr+"/-/ready"); code != 200 {
		t.Fatalf("Prometheus is not ready: %d", code)
	}
	return addr, p.cmd.Process.Pid
}

// waitForPrometheus waits until Prometheus answers for the day's end.
func waitForPrometheus(t *testing.T, api string, end time.Time) {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		var r struct{ Data struct{ Result []any } }
		getInto(t, api+"/query?"+url.Values{"query": {`count(http_requests_total)`}, "time": {strconv.FormatInt(end.Add(-time.Minute).Unix(), 10)}}.Encode(), &r)
		if len(r.Data.Result) == 1 {
			return
		}
	}
	t.Fatal("Prometheus does not answer for the day's end")
}

type benchResult struct {
	seconds float64
	samples int64
	peakMB  int64
	shape   string // series and points of the result, to compare servers
}

// benchQuery asks a range query three times and measures it.
func benchQuery(t *testing.T, api string, pid int, q string, start, end time.Time) benchResult {
	resetPeakRSS(t, pid)
	var times []float64
	var r benchResult
	for range 3 {
		began := time.Now()
		resp, err := http.PostForm(api+"/query_range", url.Values{"query": {q}, "start": {strconv.FormatInt(start.Unix(), 10)},
			"end": {strconv.FormatInt(end.Unix(), 10)}, "step": {"60"}, "stats": {"all"}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		times = append(times, time.Since(began).Seconds())
		var out struct {
			Status string
			Data   struct {
				Result []struct {
					Metric map[string]string
					Values [][2]any
				}
				Stats struct {
					Samples struct{ TotalQueryableSamples int64 }
				}
			}
		}
		if err := json.Unmarshal(body, &out); err != nil || out.Status != "success" {
			t.Fatalf("%s %s: %v %.300s", api, q, err, body)
		}
		r.samples = out.Data.Stats.Samples.TotalQueryableSamples
		points := 0
		for _, s := range out.Data.Result {
			points += len(s.Values)
		}
		// The values are the differential test's business; Prometheus
		// 2.42 extrapolates a counter's first minutes differently.
		r.shape = fmt.Sprintf("%d series of %d points", len(out.Data.Result), points)
	}
	slices.Sort(times)
	r.seconds, r.peakMB = times[1], peakRSS(t, pid)/1024
	return r
}

// resetPeakRSS clears a process's peak resident set (Linux: write 5 to
// clear_refs), so VmHWM measures what follows.
func resetPeakRSS(t *testing.T, pid int) {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		t.Logf("cannot reset the peak RSS of %d: %v", pid, err)
	}
}

// peakRSS is a process's VmHWM in kB.
func peakRSS(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}
