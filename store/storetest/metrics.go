package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

func mustMatcher(t *testing.T, typ store.MatchType, name, value string) *store.Matcher {
	t.Helper()
	m, err := store.NewMatcher(typ, name, value)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func testMetrics(t *testing.T, s store.Store) {
	c := ctx(t)
	lbl := func(kv ...string) store.Attributes {
		var a store.Attributes
		for i := 0; i < len(kv); i += 2 {
			a = append(a, store.KeyValue{Key: kv[i], Value: kv[i+1]})
		}
		return a
	}
	reqA := store.NewSeries("acme", "http_requests_total", store.MetricCounter, lbl("service", "chat", "code", "200"))
	reqB := store.NewSeries("acme", "http_requests_total", store.MetricCounter, lbl("service", "chat", "code", "503"))
	reqC := store.NewSeries("acme", "http_requests_total", store.MetricCounter, lbl("service", "embed", "code", "200"))
	bucket := store.NewSeries("acme", "latency_seconds_bucket", store.MetricHistogram, lbl("le", "0.5", "service", "chat"))
	gauge := store.NewSeries("acme", "gpu_utilization", store.MetricGauge, nil)
	foreign := store.NewSeries("globex", "http_requests_total", store.MetricCounter, lbl("service", "chat", "code", "200"))
	if reqA.Labels[0].Key != "code" {
		t.Fatalf("NewSeries did not sort labels: %v", reqA.Labels)
	}
	if reqA.Fingerprint != foreign.Fingerprint {
		t.Fatalf("fingerprint depends on tenant")
	}
	series := []store.Series{reqA, reqB, reqC, bucket, gauge, foreign}

	var samples []store.Sample
	for i, sr := range series {
		for m := 0; m < 5; m++ {
			samples = append(samples, store.Sample{
				Tenant: sr.Tenant, Fingerprint: sr.Fingerprint,
				TimestampMsec: base.Add(time.Duration(m) * time.Minute).UnixMilli(),
				Value:         float64(i*100+m) + 0.25,
			})
		}
	}
	if err := s.WriteMetrics(c, series, samples); err != nil {
		t.Fatalf("WriteMetrics: %v", err)
	}
	// Writing the same series again adds nothing.
	if err := s.WriteMetrics(c, series[:2], nil); err != nil {
		t.Fatalf("WriteMetrics again: %v", err)
	}

	name := func(n string) *store.Matcher { return mustMatcher(t, store.MatchEqual, store.MetricNameLabel, n) }
	cases := []struct {
		name     string
		tenant   string
		matchers []*store.Matcher
		want     []store.Series
	}{
		{"by name", "acme", []*store.Matcher{name("http_requests_total")}, []store.Series{reqA, reqB, reqC}},
		{"equal", "acme", []*store.Matcher{name("http_requests_total"), mustMatcher(t, store.MatchEqual, "code", "200")}, []store.Series{reqA, reqC}},
		{"not equal", "acme", []*store.Matcher{name("http_requests_total"), mustMatcher(t, store.MatchNotEqual, "service", "chat")}, []store.Series{reqC}},
		{"regexp anchored", "acme", []*store.Matcher{name("http_requests_total"), mustMatcher(t, store.MatchRegexp, "code", "5..")}, []store.Series{reqB}},
		{"regexp partial does not match", "acme", []*store.Matcher{name("http_requests_total"), mustMatcher(t, store.MatchRegexp, "code", "5")}, nil},
		{"not regexp", "acme", []*store.Matcher{name("http_requests_total"), mustMatcher(t, store.MatchNotRegexp, "service", "ch.*")}, []store.Series{reqC}},
		{"name regexp", "acme", []*store.Matcher{mustMatcher(t, store.MatchRegexp, store.MetricNameLabel, "(gpu|latency).*")}, []store.Series{gauge, bucket}},
		{"missing label is empty", "acme", []*store.Matcher{mustMatcher(t, store.MatchEqual, "service", "")}, []store.Series{gauge}},
		{"label without name", "acme", []*store.Matcher{mustMatcher(t, store.MatchEqual, "service", "chat")}, []store.Series{reqA, reqB, bucket}},
		{"tenant isolation", "globex", []*store.Matcher{name("http_requests_total")}, []store.Series{foreign}},
		{"unknown tenant", "initech", []*store.Matcher{name("http_requests_total")}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Series(c, tc.tenant, tc.matchers)
			if err != nil {
				t.Fatalf("Series: %v", err)
			}
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			store.SortSeries(tc.want)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}

	t.Run("samples", func(t *testing.T) {
		got, err := s.Samples(c, "acme", []uint64{reqB.Fingerprint, gauge.Fingerprint}, base.Add(time.Minute), base.Add(3*time.Minute))
		if err != nil {
			t.Fatalf("Samples: %v", err)
		}
		var want []store.Sample
		for _, sm := range samples {
			if sm.Tenant == "acme" && (sm.Fingerprint == reqB.Fingerprint || sm.Fingerprint == gauge.Fingerprint) &&
				sm.TimestampMsec >= base.Add(time.Minute).UnixMilli() && sm.TimestampMsec < base.Add(3*time.Minute).UnixMilli() {
				want = append(want, sm)
			}
		}
		if reqB.Fingerprint > gauge.Fingerprint {
			want[0], want[1], want[2], want[3] = want[2], want[3], want[0], want[1]
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got  %v\nwant %v", got, want)
		}
		// The same fingerprint in another tenant is another series.
		got, err = s.Samples(c, "globex", []uint64{reqA.Fingerprint}, base, base.Add(time.Hour))
		if err != nil || len(got) != 5 || got[0].Value != 500.25 {
			t.Errorf("globex samples = %v, %v; want 5 starting at 500.25", got, err)
		}
	})
}
