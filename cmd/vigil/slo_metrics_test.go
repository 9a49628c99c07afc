package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestMetricSLOEndToEnd: an OpenSLO SLO over Prometheus counters,
// remote-written into vigil serve, is judged from the stored samples; its
// page alert goes to a webhook that fails once, and the delivery log shows
// both attempts.
func TestMetricSLOEndToEnd(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "api.yaml"), []byte(`apiVersion: openslo/v1
kind: SLO
metadata:
  name: api-availability
spec:
  service: api
  indicatorRef: api-errors
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
---
apiVersion: openslo/v1
kind: SLI
metadata:
  name: api-errors
spec:
  ratioMetric:
    counter: true
    bad:
      metricSource:
        type: Prometheus
        spec:
          query: http_requests_total{job="api",code=~"5.."}
    total:
      metricSource:
        type: Prometheus
        spec:
          query: http_requests_total{job="api"}
`), 0o644)
	var calls atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, "warming up", 503)
		}
	}))
	defer hook.Close()
	data := t.TempDir()
	v := startServe(t, "", "--data-dir", data)

	// An hour of scrapes a minute apart: 90 good and 10 failed requests a
	// minute. The first scrape has nothing before it, so 59 minutes count:
	// 5,900 requests, 590 failed: SLI 0.9, burn rate 0.1 / 0.001 = 100.
	t0 := time.Now().Truncate(time.Minute).Add(-60 * time.Minute)
	sendRemoteWrite(t, v.http, remoteWriteBody([]rwSeries{
		{labels: [][2]string{{"__name__", "http_requests_total"}, {"job", "api"}, {"code", "200"}}, value: func(m int) float64 { return float64(90 * m) }},
		{labels: [][2]string{{"__name__", "http_requests_total"}, {"job", "api"}, {"code", "503"}}, value: func(m int) float64 { return float64(10 * m) }},
	}, t0, 0, 60))
	// A running analyzer re-reads only the last minutes (late data); a
	// backfilled hour counts from its next start, which reads the window.
	v.stop(t)
	v = startServe(t, "", "--data-dir", data, "--config-dir", dir, "--analyzer.interval", "1s", "--alert.webhook-url", hook.URL)
	var r sloResponse
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		v.getJSON(t, "/api/v1/slos/api-availability", &r)
		if r.Total == 5900 || time.Now().After(deadline) {
			break
		}
	}
	if r.Total != 5900 || r.SLI == nil || *r.SLI != 0.9 || r.State != "page" {
		t.Fatalf("SLO: total %d, SLI %v, state %s", r.Total, r.SLI, r.State)
	}
	for _, b := range r.BurnRates {
		if b.LongWindow == "1h0m0s" && (b.LongBurnRate == nil || *b.LongBurnRate < 99.9999 || *b.LongBurnRate > 100.0001 || !b.Firing) {
			t.Errorf("1h burn rate %v, firing %v; want 100, firing", b.LongBurnRate, b.Firing)
		}
	}
	// The delivery log: a refused attempt, then a delivered one.
	type delivery struct {
		Receiver, Outcome, Status string
		Fingerprints              []string
	}
	var log []delivery
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		v.getJSON(t, "/api/v1/alerts/deliveries", &log)
		if len(log) >= 2 || time.Now().After(deadline) {
			break
		}
	}
	if len(log) < 2 {
		t.Fatalf("delivery log: %+v", log)
	}
	first, second := log[len(log)-1], log[len(log)-2] // newest first
	if first.Outcome != "retrying" || first.Status != "503" || second.Outcome != "delivered" || second.Status != "200" ||
		first.Receiver != "webhook" || len(second.Fingerprints) == 0 {
		t.Errorf("delivery log: %+v", log)
	}
}
