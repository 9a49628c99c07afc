package rightsize

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// minuteSpans is a ThroughputReader over per-minute figures in memory.
type minuteSpans struct {
	minutes []store.MinuteThroughput
	got     store.ThroughputQuery
}

func (s *minuteSpans) Throughput(_ context.Context, q store.ThroughputQuery) ([]store.MinuteThroughput, error) {
	s.got = q
	var out []store.MinuteThroughput
	for _, m := range s.minutes {
		if !m.Minute.Before(q.Start) && m.Minute.Before(q.End) {
			out = append(out, m)
		}
	}
	return out, nil
}

var t10 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// perMinute gives minutes [from, to) after 10:00 rps requests/s at p95.
func perMinute(from, to int, rps float64, p95 time.Duration) []store.MinuteThroughput {
	var out []store.MinuteThroughput
	for i := from; i < to; i++ {
		out = append(out, store.MinuteThroughput{Minute: t10.Add(time.Duration(i) * time.Minute), Requests: uint64(rps * 60), P95: p95})
	}
	return out
}

func TestReplicaRecommenderFromParameter(t *testing.T) {
	for _, tc := range []struct {
		name               string
		minutes            []store.MinuteThroughput
		recommended, peak  int
		target, latestRPS  float64
		latestP95, peakRPS float64
		skipped            string
	}{
		// Target: 20 rps over 2 replicas while p95 0.3 s met the 0.5 s SLO,
		// 10 rps a replica. At 40 rps the ratio is 40/2/10 = 2: 4 replicas
		// at once, and 40/4/10 = 1 holds them.
		{"load doubles", append(perMinute(0, 5, 20, 300*time.Millisecond), perMinute(5, 10, 40, 900*time.Millisecond)...), 4, 4, 10, 40, 0.9, 40, ""},
		// Minutes 5 to 9 have no spans: 0 rps, desired 1, but the
		// scale-down window keeps the 2 of minutes 1 to 4 until minute 9,
		// whose window (minutes 5 to 9) holds only 1s.
		{"load stops", perMinute(0, 5, 20, 300*time.Millisecond), 1, 2, 10, 0, 0, 20, ""},
		{"no spans", nil, 2, 0, 0, 0, 0, 0, "no spans of the service in the window"},
		{"never within the SLO", perMinute(0, 10, 20, time.Second), 2, 0, 0, 20, 1, 20, "no sample met the latency SLO: the throughput a replica sustains is unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spans := &minuteSpans{minutes: tc.minutes}
			r := &ReplicaRecommender{Spans: spans, Metrics: &memStore{}}
			got, err := r.Recommend(context.Background(), ReplicaQuery{Tenant: "acme", Service: "chat", Operation: "chat gpt-4o", Deployment: "chat",
				Replicas: 2, SLO: 0.5, Start: t10.Add(20 * time.Second), End: t10.Add(10*time.Minute + 30*time.Second)})
			if err != nil {
				t.Fatal(err)
			}
			// The window is taken down to whole minutes.
			if want := (store.ThroughputQuery{Tenant: "acme", Service: "chat", Operation: "chat gpt-4o", Start: t10, End: t10.Add(10 * time.Minute)}); spans.got != want {
				t.Errorf("query %+v, want %+v", spans.got, want)
			}
			if got.Current != 2 || got.CurrentFrom != "parameter" || got.Recommended != tc.recommended || got.Peak != tc.peak || got.Target != tc.target ||
				got.Samples != 10 || got.LatestRPS != tc.latestRPS || got.LatestP95 != tc.latestP95 || got.PeakRPS != tc.peakRPS || got.Skipped != tc.skipped {
				t.Errorf("got %+v", got)
			}
		})
	}
}

func TestReplicaRecommenderFromKubeStateMetrics(t *testing.T) {
	// 4 replicas until 10:04:30, 2 from 10:05; a stale Deployment of the
	// same name elsewhere is told apart by namespace.
	var four, two []Point
	for s := -300; s < 300; s += 30 {
		four = append(four, Point{TimestampMsec: t10.Add(time.Duration(s) * time.Second).UnixMilli(), Value: 4})
	}
	for s := 300; s < 600; s += 30 {
		two = append(two, Point{TimestampMsec: t10.Add(time.Duration(s) * time.Second).UnixMilli(), Value: 2})
	}
	m := &memStore{}
	m.add(MetricDeploymentStatusReplicas, map[string]string{"namespace": "inference", "deployment": "chat"}, append(four, two...))
	m.add(MetricDeploymentSpecReplicas, map[string]string{"namespace": "inference", "deployment": "chat"}, []Point{{TimestampMsec: t10.UnixMilli(), Value: 9}})
	m.add(MetricDeploymentSpecReplicas, map[string]string{"namespace": "staging", "deployment": "chat"}, []Point{{TimestampMsec: t10.Add(8 * time.Minute).UnixMilli(), Value: 1}})
	// 40 rps on 4 replicas (10 each), then 30 rps on 2 (15 each), all
	// within the 0.5 s SLO: the target is 15. (From today's 2 replicas
	// alone it would be 40/2 = 20.) Replayed from 2: 40/2/15 = 1.33, 3
	// replicas; 30/3/15 = 0.67 wants 2, after the 5-minute window.
	spans := &minuteSpans{minutes: append(perMinute(0, 5, 40, 300*time.Millisecond), perMinute(5, 10, 30, 450*time.Millisecond)...)}
	r := &ReplicaRecommender{Spans: spans, Metrics: m}
	q := ReplicaQuery{Tenant: "acme", Service: "chat", Namespace: "inference", Deployment: "chat", Replicas: 7, SLO: 0.5, Start: t10, End: t10.Add(10 * time.Minute)}
	got, err := r.Recommend(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if got.Current != 2 || got.CurrentFrom != MetricDeploymentStatusReplicas || got.Requests != 5*40*60+5*30*60 || got.Target != 15 || got.Recommended != 2 || got.Peak != 3 || got.Namespace != "inference" {
		t.Errorf("got %+v", got)
	}

	// An explicit target wins over the history: 30 rps / 10 = 3.
	q.Target = 10
	if got, err := r.Recommend(context.Background(), q); err != nil || got.Target != 10 || got.Recommended != 3 {
		t.Errorf("with a target: %+v, %v", got, err)
	}
	q.Target = 0

	// Without a namespace the Deployment is ambiguous in the spec series;
	// the status series names one namespace only, so it is used.
	q.Namespace = ""
	if got, err := r.Recommend(context.Background(), q); err != nil || got.Namespace != "inference" {
		t.Errorf("status series without a namespace: %+v, %v", got, err)
	}
	// The staging Deployment has only a spec series: its count is 1.
	q.Namespace = "staging"
	if got, err := r.Recommend(context.Background(), q); err != nil || got.Current != 1 || got.CurrentFrom != MetricDeploymentSpecReplicas {
		t.Errorf("spec series: %+v, %v", got, err)
	}

	// Stale counts (the last sample over 5 minutes before the end) fall
	// back to the parameter, and then to an error.
	q.Namespace, q.Start, q.End = "inference", t10.Add(time.Hour), t10.Add(2*time.Hour)
	if got, err := r.Recommend(context.Background(), q); err != nil || got.Current != 7 || got.CurrentFrom != "parameter" {
		t.Errorf("stale count: %+v, %v", got, err)
	}
	q.Replicas = 0
	if _, err := r.Recommend(context.Background(), q); !errors.Is(err, ErrNoReplicaCount) || !strings.Contains(err.Error(), `deployment "chat"`) {
		t.Errorf("no count: %v", err)
	}
}

func TestReplicaRecommenderErrors(t *testing.T) {
	m := &memStore{}
	m.add(MetricDeploymentStatusReplicas, map[string]string{"namespace": "a", "deployment": "chat"}, []Point{{TimestampMsec: t10.UnixMilli(), Value: 2}})
	m.add(MetricDeploymentStatusReplicas, map[string]string{"namespace": "b", "deployment": "chat"}, []Point{{TimestampMsec: t10.UnixMilli(), Value: 3}})
	r := &ReplicaRecommender{Spans: &minuteSpans{}, Metrics: m}
	ok := ReplicaQuery{Tenant: "acme", Service: "chat", Deployment: "chat", Namespace: "a", SLO: 0.5, Start: t10, End: t10.Add(time.Minute)}
	if _, err := r.Recommend(context.Background(), ok); err != nil {
		t.Fatalf("valid query: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*ReplicaQuery)
		want string
	}{
		{"two namespaces", func(q *ReplicaQuery) { q.Namespace = "" }, `deployment in several namespaces: deployment "chat" is in namespaces "a" and "b"`},
		{"no whole minute", func(q *ReplicaQuery) { q.End = t10.Add(59 * time.Second) }, "holds no whole minute"},
		{"no service", func(q *ReplicaQuery) { q.Service = "" }, "no service"},
		{"no SLO", func(q *ReplicaQuery) { q.SLO = 0 }, "latency SLO"},
	} {
		q := ok
		tc.edit(&q)
		if _, err := r.Recommend(context.Background(), q); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}
