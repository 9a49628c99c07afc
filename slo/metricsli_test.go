package slo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/querier"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// writeScrapes stores a series scraped every 15 s over the hour before
// tick, value(i) at the i-th scrape.
func writeScrapes(t *testing.T, st store.MetricWriter, tick time.Time, name string, typ store.MetricType, labels store.Attributes, value func(i int) float64) {
	s := store.NewSeries(store.DefaultTenant, name, typ, labels)
	var samples []store.Sample
	start := tick.Add(-time.Hour)
	for i := 0; i < 240; i++ {
		samples = append(samples, store.Sample{Tenant: store.DefaultTenant, Fingerprint: s.Fingerprint,
			TimestampMsec: start.Add(time.Duration(i) * 15 * time.Second).UnixMilli(), Value: value(i)})
	}
	if err := st.WriteMetrics(context.Background(), []store.Series{s}, samples); err != nil {
		t.Fatal(err)
	}
}

func TestMetricSLIs(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	// 36 good and 4 failed requests a minute. The 200s counter restarts
	// at scrape 100, having counted 9 since: the reset must not lose them.
	writeScrapes(t, st, tick, "http_requests_total", store.MetricCounter, store.Attributes{{Key: "job", Value: "api"}, {Key: "code", Value: "200"}},
		func(i int) float64 {
			if i >= 100 {
				return float64(9 * (i - 99))
			}
			return float64(1000 + 9*i)
		})
	writeScrapes(t, st, tick, "http_requests_total", store.MetricCounter, store.Attributes{{Key: "job", Value: "api"}, {Key: "code", Value: "500"}},
		func(i int) float64 { return float64(i) })
	// A histogram: of the 40 requests a minute, 30 take at most 0.8 s.
	for _, b := range []struct {
		le  string
		per float64
	}{{"0.8", 7.5}, {"+Inf", 10}} {
		writeScrapes(t, st, tick, "http_request_duration_seconds_bucket", store.MetricCounter,
			store.Attributes{{Key: "job", Value: "api"}, {Key: "le", Value: b.le}}, func(i int) float64 { return b.per * float64(i) })
	}
	writeScrapes(t, st, tick, "http_request_duration_seconds_count", store.MetricCounter, store.Attributes{{Key: "job", Value: "api"}},
		func(i int) float64 { return 10 * float64(i) })
	// A queue depth of 5, and 20 in the last ten minutes.
	writeScrapes(t, st, tick, "inference_queue_depth", store.MetricGauge, store.Attributes{{Key: "job", Value: "api"}},
		func(i int) float64 {
			if i >= 200 {
				return 20
			}
			return 5
		})

	dir := t.TempDir()
	spec := `slos:
  - name: api-availability
    service: api
    objective: 99%
    metric:
      bad: http_requests_total{job="api",code=~"5.."}
      total: http_requests_total{job="api"}
  - name: api-good
    service: api
    objective: 99%
    metric:
      good: http_requests_total{job="api",code!~"5.."}
      total: http_requests_total{job="api"}
  - name: api-latency
    service: api
    objective: 99%
    metric:
      histogram: http_request_duration_seconds{job="api"}
      le: "0.8"
  - name: api-queue
    service: api
    objective: 99%
    metric:
      gauge: inference_queue_depth{job="api"}
      op: lt
      value: 10
`
	if err := os.WriteFile(filepath.Join(dir, "api.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	slos, problems, err := Load([]string{dir}, time.Minute)
	if err != nil || len(problems) > 0 {
		t.Fatalf("Load: %v %v", err, problems)
	}
	e := &Evaluator{Store: st, SLOs: slos, PromQL: querier.NewEngine(st, querier.DefaultOptions)}
	if err := e.Run(ctx, tick.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	// The first scrape of each series counts nothing (nothing before it):
	// 59 minutes of the first and 4 more scrapes of the last minute.
	for _, tc := range []struct {
		slo         string
		good, total float64
	}{
		{"api-availability", 36*60 - 9, 40*60 - 10},
		{"api-good", 36*60 - 9, 40*60 - 10},
		{"api-latency", 30*60 - 7.5, 40*60 - 10}, // 7.5 per scrape: 30 a minute, 22.5 in the first
		// A sample on a minute boundary belongs to the minute it ends, as
		// Prometheus's ranges (t−1m, t] take it: the first scrape makes a
		// minute of its own, and the ten deep minutes are the last ten.
		{"api-queue", 51, 61},
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
	plan := findSLO(t, slos, "api-latency").Plan()
	if !strings.Contains(plan, `increase of http_request_duration_seconds_bucket{job="api",le="0.8"}; total: increase of http_request_duration_seconds_count{job="api"}`) {
		t.Errorf("plan:\n%s", plan)
	}
}

func findSLO(t *testing.T, slos []*SLO, name string) *SLO {
	for _, s := range slos {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no SLO %s", name)
	return nil
}

func TestMetricSLIErrors(t *testing.T) {
	dir := t.TempDir()
	spec := `slos:
  - name: a
    service: api
    objective: 99%
    metric:
      good: sum(rate(http_requests_total[5m])
      total: http_requests_total[5m]
  - name: b
    service: api
    objective: 99%
    metric:
      good: x
      bad: y
      total: z
  - name: c
    service: api
    objective: 99%
    metric:
      histogram: '{job="api"}'
      le: "0.8"
  - name: d
    service: api
    objective: 99%
    metric:
      gauge: up
      op: above
  - name: e
    service: api
    objective: 99%
    threshold:
      attribute: gen_ai.server.time_to_first_token
      op: lt
    latency: 1s
`
	if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	_, problems, err := Load([]string{dir}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, strings.TrimPrefix(p.String(), dir+"/"))
	}
	want := []string{
		`bad.yaml:6: slos[0].metric.good: cannot parse "sum(rate(http_requests_total[5m])": 1:34: parse error: unclosed left parenthesis`,
		`bad.yaml:7: slos[0].metric.total: "http_requests_total[5m]" is a range vector; an SLI's query returns an instant vector`,
		`bad.yaml:12: slos[1].metric.good: give good or bad, not both`,
		`bad.yaml:19: slos[2].metric.histogram: "{job=\"api\"}" names no histogram`,
		`bad.yaml:26: slos[3].metric.op: "above" is not one of lt, lte, gt, gte`,
		`bad.yaml:25: slos[3].metric.value: is required with a gauge`,
		`bad.yaml:33: slos[4].latency: say what a good event is in one way`,
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
