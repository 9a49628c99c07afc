package api

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/analyzer/rightsize"
	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

func TestReplicaRecommendations(t *testing.T) {
	s, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	// Minutes 0-4: 120 spans of 100 ms (2 requests/s); minutes 5-9: 240
	// spans of 1 s (4 requests/s, over the 0.8 s SLO).
	var spans []store.Span
	for m := range 10 {
		n, d := 120, 100*time.Millisecond
		if m >= 5 {
			n, d = 240, time.Second
		}
		for i := range n {
			sp := store.Span{Tenant: store.DefaultTenant, Service: "chat", Operation: "generate", DurationNano: int64(d),
				StartUnixNano: t0.Add(time.Duration(m)*time.Minute + time.Duration(i)*time.Minute/time.Duration(n)).UnixNano()}
			sp.TraceID[0], sp.TraceID[1], sp.SpanID[0], sp.SpanID[1], sp.SpanID[2] = 1, byte(m), byte(m), byte(i>>8), byte(i)
			spans = append(spans, sp)
		}
	}
	if err := s.WriteSpans(context.Background(), spans); err != nil {
		t.Fatal(err)
	}
	a := &API{Store: s, Now: func() time.Time { return t0.Add(10*time.Minute + 20*time.Second) }}
	mux := auth.NewMux(auth.Disabled())
	a.Register(mux)
	get := func(query string) (int, rightsize.ReplicaAdvice, string) {
		code, body := do(t, mux, "GET", "/api/v1/recommendations?kind=replicas&"+query, "", nil)
		var adv rightsize.ReplicaAdvice
		if code == 200 {
			if err := json.Unmarshal([]byte(body), &adv); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
		}
		return code, adv, body
	}

	// replicas=2: within the SLO 2 requests/s took 2 replicas, 1 each; 4
	// requests/s is a ratio of 4/2/1 = 2, so 4 replicas. The window is the
	// hour before now, to the last whole minute (10:10).
	code, adv, body := get("service=chat&latency_slo=0.8&deployment=chat&replicas=2")
	if code != 200 || adv.Current != 2 || adv.CurrentFrom != "parameter" || adv.Target != 1 || adv.Recommended != 4 || adv.Samples != 60 ||
		adv.LatestRPS != 4 || adv.LatestP95 != 1 || !adv.To.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("from the parameter: %d %s", code, body)
	}

	// kube-state-metrics says 1 replica now (and nothing earlier): the
	// target is 2/1 = 2, and 4 requests/s wants 2.
	series := store.NewSeries(store.DefaultTenant, rightsize.MetricDeploymentStatusReplicas, store.MetricGauge,
		store.Attributes{{Key: "namespace", Value: "inference"}, {Key: "deployment", Value: "chat"}})
	if err := s.WriteMetrics(context.Background(), []store.Series{series}, []store.Sample{{Tenant: store.DefaultTenant,
		Fingerprint: series.Fingerprint, TimestampMsec: t0.Add(9 * time.Minute).UnixMilli(), Value: 1}}); err != nil {
		t.Fatal(err)
	}
	code, adv, body = get("service=chat&operation=generate&latency_slo=0.8&deployment=chat&replicas=2&from=2026-11-20T10:00:00Z&to=2026-11-20T10:10:00Z")
	if code != 200 || adv.Current != 1 || adv.CurrentFrom != rightsize.MetricDeploymentStatusReplicas || adv.Namespace != "inference" ||
		adv.Target != 2 || adv.Recommended != 2 || adv.Samples != 10 {
		t.Errorf("from kube-state-metrics: %d %s", code, body)
	}

	for _, tc := range []struct{ query, want string }{
		{"latency_slo=0.8", `"service" is required`},
		{"service=chat", "needs latency_slo"},
		{"service=chat&latency_slo=-1", `"latency_slo": "-1" is not a positive number`},
		{"service=chat&latency_slo=0.8&replicas=x", `"replicas": "x"`},
		{"service=chat&latency_slo=0.8&deployment=other", "no current replica count: kube-state-metrics has no kube_deployment_status_replicas for deployment \"other\""},
		{"service=chat&latency_slo=0.8&replicas=2&from=2026-11-20T10:00:10Z&to=2026-11-20T10:00:50Z", "at least one whole minute"},
	} {
		code, _, body := get(tc.query)
		var e struct{ Error string }
		json.Unmarshal([]byte(body), &e)
		if code != 400 || !strings.Contains(e.Error, tc.want) {
			t.Errorf("%s: %d %s, want 400 and %q", tc.query, code, body, tc.want)
		}
	}
}
