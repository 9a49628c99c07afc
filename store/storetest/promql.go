package storetest

import (
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// testMetricQuerier checks the reads behind PromQL: every matcher type as
// Prometheus means it (regexps anchored, . matching newlines, UTF-8, a
// missing label equal to ""), the time range of active series, label names
// and values, and samples with NaN, infinities and staleness markers kept
// bit for bit.
func testMetricQuerier(t *testing.T, s store.Store) {
	c := ctx(t)
	kv := func(pairs ...string) store.Attributes {
		var a store.Attributes
		for i := 0; i < len(pairs); i += 2 {
			a = append(a, store.KeyValue{Key: pairs[i], Value: pairs[i+1]})
		}
		return a
	}
	chat := store.NewSeries("acme", "requests_total", store.MetricCounter, kv("service", "chat", "code", "200"))
	chat5 := store.NewSeries("acme", "requests_total", store.MetricCounter, kv("service", "chat", "code", "503"))
	embed := store.NewSeries("acme", "requests_total", store.MetricCounter, kv("service", "embéd", "code", "200"))
	multi := store.NewSeries("acme", "note", store.MetricGauge, kv("text", "line one\nline two"))
	bucket := store.NewSeries("acme", "latency_seconds_bucket", store.MetricHistogram, kv("le", "+Inf", "service", "chat"))
	old := store.NewSeries("acme", "old_gauge", store.MetricGauge, kv("Zone", "a"))
	foreign := store.NewSeries("globex", "requests_total", store.MetricCounter, kv("service", "chat", "code", "200", "secret", "x"))
	series := []store.Series{chat, chat5, embed, multi, bucket, old, foreign}

	stale := math.Float64frombits(store.StaleNaN)
	at := func(m int) int64 { return base.Add(time.Duration(m) * time.Minute).UnixMilli() }
	samples := []store.Sample{
		{Tenant: "acme", Fingerprint: chat.Fingerprint, TimestampMsec: at(1), Value: 1},
		{Tenant: "acme", Fingerprint: chat.Fingerprint, TimestampMsec: at(2), Value: math.NaN()},
		{Tenant: "acme", Fingerprint: chat.Fingerprint, TimestampMsec: at(3), Value: math.Inf(1)},
		{Tenant: "acme", Fingerprint: chat.Fingerprint, TimestampMsec: at(4), Value: math.Inf(-1)},
		{Tenant: "acme", Fingerprint: chat.Fingerprint, TimestampMsec: at(5), Value: stale},
		{Tenant: "acme", Fingerprint: chat5.Fingerprint, TimestampMsec: at(3), Value: 3},
		{Tenant: "acme", Fingerprint: embed.Fingerprint, TimestampMsec: at(3), Value: 4},
		{Tenant: "acme", Fingerprint: multi.Fingerprint, TimestampMsec: at(3), Value: 5},
		{Tenant: "acme", Fingerprint: bucket.Fingerprint, TimestampMsec: at(3), Value: 6},
		{Tenant: "acme", Fingerprint: old.Fingerprint, TimestampMsec: at(-600), Value: 7},
		{Tenant: "globex", Fingerprint: foreign.Fingerprint, TimestampMsec: at(3), Value: 8},
	}
	if err := s.WriteMetrics(c, series, samples); err != nil {
		t.Fatalf("WriteMetrics: %v", err)
	}

	m := func(typ store.MatchType, name, value string) *store.Matcher { return mustMatcher(t, typ, name, value) }
	name := func(n string) *store.Matcher { return m(store.MatchEqual, store.MetricNameLabel, n) }
	acme := func(ms ...*store.Matcher) store.SeriesQuery { return store.SeriesQuery{Tenant: "acme", Matchers: ms} }
	active := func(from, to int, ms ...*store.Matcher) store.SeriesQuery {
		return store.SeriesQuery{Tenant: "acme", Matchers: ms, Active: true, MinT: at(from), MaxT: at(to)}
	}
	selects := []struct {
		name string
		q    store.SeriesQuery
		want []store.Series
	}{
		{"every series", acme(), []store.Series{chat, chat5, embed, multi, bucket, old}},
		{"name", acme(name("requests_total")), []store.Series{chat, chat5, embed}},
		{"not equal", acme(name("requests_total"), m(store.MatchNotEqual, "code", "200")), []store.Series{chat5}},
		{"regexp is anchored", acme(m(store.MatchRegexp, "code", "5")), nil},
		{"regexp", acme(m(store.MatchRegexp, "code", "5.."), name("requests_total")), []store.Series{chat5}},
		{"regexp alternation", acme(m(store.MatchRegexp, store.MetricNameLabel, "note|old_.*")), []store.Series{multi, old}},
		{"dot matches newline", acme(m(store.MatchRegexp, "text", "line.*two")), []store.Series{multi}},
		{"dot is a UTF-8 character", acme(m(store.MatchRegexp, "service", "emb.d")), []store.Series{embed}},
		{"case-insensitive flag", acme(m(store.MatchRegexp, "service", "(?i)CHAT")), []store.Series{chat, chat5, bucket}},
		{"not regexp", acme(name("requests_total"), m(store.MatchNotRegexp, "service", "ch.*")), []store.Series{embed}},
		{"missing label equals empty", acme(m(store.MatchEqual, "service", "")), []store.Series{multi, old}},
		{"missing label matches empty regexp", acme(name("note"), m(store.MatchRegexp, "service", ".*")), []store.Series{multi}},
		{"not empty means present", acme(m(store.MatchNotEqual, "le", "")), []store.Series{bucket}},
		{"value with quotes and backslash", acme(m(store.MatchEqual, "service", `x'"\`)), nil},
		{"label name with upper case", acme(m(store.MatchEqual, "Zone", "a")), []store.Series{old}},
		{"active in a range", active(0, 10, name("requests_total"), m(store.MatchEqual, "code", "200")), []store.Series{chat, embed}},
		{"active bounds are inclusive", active(-600, -600), []store.Series{old}},
		{"inactive in a range", active(6, 10), nil},
		{"tenant isolation", store.SeriesQuery{Tenant: "globex", Matchers: []*store.Matcher{m(store.MatchEqual, "secret", "x")}}, []store.Series{foreign}},
		{"all tenants", store.SeriesQuery{AllTenants: true, Matchers: []*store.Matcher{m(store.MatchEqual, "code", "200")}, Active: true, MinT: at(0), MaxT: at(10)}, []store.Series{chat, embed, foreign}},
	}
	for _, tc := range selects {
		t.Run("SelectSeries/"+tc.name, func(t *testing.T) {
			got, err := s.SelectSeries(c, tc.q)
			if err != nil {
				t.Fatalf("SelectSeries: %v", err)
			}
			store.SortSeries(tc.want)
			if len(got) != 0 || len(tc.want) != 0 {
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("got  %+v\nwant %+v", got, tc.want)
				}
			}
		})
	}

	t.Run("LabelNames", func(t *testing.T) {
		check := func(q store.SeriesQuery, want ...string) {
			t.Helper()
			got, err := s.LabelNames(c, q)
			if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("LabelNames(%+v) = %q, %v; want %q", q, got, err, want)
			}
		}
		check(acme(), "Zone", "__name__", "code", "le", "service", "text")
		check(acme(name("note")), "__name__", "text")
		check(active(0, 10, m(store.MatchRegexp, "code", ".+")), "__name__", "code", "service")
		check(store.SeriesQuery{Tenant: "initech"})
	})
	t.Run("LabelValues", func(t *testing.T) {
		check := func(q store.SeriesQuery, label string, want ...string) {
			t.Helper()
			got, err := s.LabelValues(c, q, label)
			if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("LabelValues(%+v, %s) = %q, %v; want %q", q, label, got, err, want)
			}
		}
		check(acme(), "service", "chat", "embéd")
		check(acme(m(store.MatchEqual, "code", "503")), "service", "chat")
		check(acme(), store.MetricNameLabel, "latency_seconds_bucket", "note", "old_gauge", "requests_total")
		check(active(-601, -599), store.MetricNameLabel, "old_gauge")
		check(acme(), "secret")
	})
	t.Run("MetricFamilies", func(t *testing.T) {
		got, err := s.MetricFamilies(c, acme(m(store.MatchRegexp, store.MetricNameLabel, "requests_total|latency.*")))
		want := []store.MetricFamily{{Name: "latency_seconds_bucket", Type: store.MetricHistogram}, {Name: "requests_total", Type: store.MetricCounter}}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("MetricFamilies = %+v, %v; want %+v", got, err, want)
		}
	})

	t.Run("ScanSamples", func(t *testing.T) {
		type row struct {
			fp   uint64
			t    int64
			bits uint64
		}
		var got []row
		err := s.ScanSamples(c, "acme", []uint64{chat.Fingerprint, chat5.Fingerprint, foreign.Fingerprint}, at(2), at(5), func(fp uint64, t int64, v float64) {
			got = append(got, row{fp, t, math.Float64bits(v)})
		})
		if err != nil {
			t.Fatalf("ScanSamples: %v", err)
		}
		var want []row
		for _, sm := range samples {
			if sm.Tenant == "acme" && (sm.Fingerprint == chat.Fingerprint || sm.Fingerprint == chat5.Fingerprint) && sm.TimestampMsec >= at(2) && sm.TimestampMsec <= at(5) {
				want = append(want, row{sm.Fingerprint, sm.TimestampMsec, math.Float64bits(sm.Value)})
			}
		}
		if chat5.Fingerprint < chat.Fingerprint {
			want = append(want[len(want)-1:], want[:len(want)-1]...)
		}
		// NaN's payload may differ; the staleness marker's must not.
		for i := range got {
			if i < len(want) && math.IsNaN(math.Float64frombits(got[i].bits)) && !store.IsStaleNaN(math.Float64frombits(want[i].bits)) && math.IsNaN(math.Float64frombits(want[i].bits)) {
				got[i].bits = want[i].bits
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got  %x\nwant %x", got, want)
		}
	})
	t.Run("Samples leave staleness markers out", func(t *testing.T) {
		got, err := s.Samples(c, "acme", []uint64{chat.Fingerprint}, base, base.Add(time.Hour))
		if err != nil || len(got) != 4 || !math.IsNaN(got[1].Value) || !math.IsInf(got[3].Value, -1) {
			t.Errorf("Samples = %v, %v; want 4 values, NaN second, -Inf last", got, err)
		}
	})
}
