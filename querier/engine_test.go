package querier

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// fixture writes, for tenant acme: two counters every 15 s for 10 minutes
// (svc=a rising 1/s, svc=b reset to 0 at 5 minutes), and a gauge that
// Prometheus marked stale at 5 minutes; and one series of tenant globex.
func fixture(t *testing.T) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := store.NewSeries("acme", "req_total", store.MetricCounter, store.Attributes{{Key: "svc", Value: "a"}})
	b := store.NewSeries("acme", "req_total", store.MetricCounter, store.Attributes{{Key: "svc", Value: "b"}})
	gone := store.NewSeries("acme", "gone", store.MetricGauge, nil)
	foreign := store.NewSeries("globex", "req_total", store.MetricCounter, store.Attributes{{Key: "svc", Value: "a"}})
	var samples []store.Sample
	add := func(s store.Series, i int, v float64) {
		samples = append(samples, store.Sample{Tenant: s.Tenant, Fingerprint: s.Fingerprint, TimestampMsec: t0.Add(time.Duration(i) * 15 * time.Second).UnixMilli(), Value: v})
	}
	for i := 0; i <= 40; i++ {
		add(a, i, float64(i*15))
		add(b, i, float64(i%20*30))
		add(foreign, i, 1000)
		if i < 20 {
			add(gone, i, 7)
		}
	}
	add(gone, 20, math.Float64frombits(store.StaleNaN))
	if err := st.WriteMetrics(context.Background(), []store.Series{a, b, gone, foreign}, samples); err != nil {
		t.Fatal(err)
	}
	return st
}

func instant(t *testing.T, e *Engine, tenant, qs string, at time.Time) promql.Vector {
	t.Helper()
	q, err := e.NewInstantQuery(context.Background(), tenant, qs, at, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	res := q.Exec(context.Background())
	if res.Err != nil {
		t.Fatalf("%s: %v", qs, res.Err)
	}
	v, err := res.Vector()
	if err != nil {
		t.Fatal(err)
	}
	return append(promql.Vector(nil), v...)
}

func TestInstantQueries(t *testing.T) {
	e := NewEngine(fixture(t), DefaultOptions)
	at := t0.Add(4*time.Minute + 7*time.Second)
	v := instant(t, e, "acme", `sum by (svc) (rate(req_total[1m]))`, at)
	if len(v) != 2 || math.Abs(v[0].F+v[1].F-3) > 1e-9 {
		t.Errorf("rates: %v, want 1 and 2", v)
	}
	// The reset at 5 minutes is a reset, not a drop.
	if v := instant(t, e, "acme", `resets(req_total{svc="b"}[2m])`, t0.Add(6*time.Minute)); len(v) != 1 || v[0].F != 1 {
		t.Errorf("resets: %v", v)
	}
	if v := instant(t, e, "acme", `gone`, t0.Add(4*time.Minute+50*time.Second)); len(v) != 1 || v[0].F != 7 {
		t.Errorf("gone before its marker: %v", v)
	}
	// After the marker the series is gone at once, not after 5 minutes.
	if v := instant(t, e, "acme", `gone`, t0.Add(5*time.Minute+time.Second)); len(v) != 0 {
		t.Errorf("gone after its staleness marker: %v", v)
	}
	if v := instant(t, e, "globex", `count(req_total)`, at); len(v) != 1 || v[0].F != 1 {
		t.Errorf("globex sees %v, want its one series", v)
	}
}

// TestBatches reads a selector over a year, so the first batch is one
// series (a year at 15 s would be 2M samples) and the next ones hold the
// rest: every series gets its own samples, in order.
func TestBatches(t *testing.T) {
	e := NewEngine(fixture(t), DefaultOptions)
	q, err := e.NewRangeQuery(context.Background(), "acme", `count_over_time({__name__=~"req_total|gone"}[400d])`, t0.Add(10*time.Minute), t0.Add(10*time.Minute), time.Minute, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	res := q.Exec(context.Background())
	m, err := res.Matrix()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, s := range m {
		got[s.Metric.String()] = s.Floats[0].F
	}
	// The staleness marker is read but not counted.
	want := map[string]float64{`{svc="a"}`: 41, `{svc="b"}`: 41, `{}`: 20}
	if len(got) != len(want) || got[`{svc="a"}`] != 41 || got[`{svc="b"}`] != 41 || got[`{}`] != 20 {
		t.Errorf("counts %v, want %v", got, want)
	}
	if q.SamplesRead() != 41+41+21 {
		t.Errorf("read %d samples, want 103", q.SamplesRead())
	}
}

// TestIterateTwice: a series' samples are handed to its iterator; a second
// iterator reads them again.
func TestIterateTwice(t *testing.T) {
	e := NewEngine(fixture(t), DefaultOptions)
	qr := e.Querier("acme", t0.UnixMilli(), t0.Add(time.Hour).UnixMilli())
	set := qr.Select(context.Background(), true, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "req_total"))
	var ss []storage.Series
	for set.Next() {
		ss = append(ss, set.At())
	}
	if len(ss) != 2 || ss[0].Labels().Get("svc") != "a" {
		t.Fatalf("series %v", ss)
	}
	for pass := 0; pass < 2; pass++ {
		n := 0
		it := ss[1].Iterator(nil)
		for it.Next() != 0 {
			n++
		}
		if n != 41 || it.Err() != nil {
			t.Errorf("pass %d: %d samples, %v", pass, n, it.Err())
		}
	}
	if err := qr.Close(); err != nil {
		t.Error(err)
	}
}

type failingStore struct{ store.MetricQuerier }

func (failingStore) ScanSamples(context.Context, string, []uint64, int64, int64, func(uint64, int64, float64)) error {
	return errors.New("disk on fire")
}

// TestReadErrorFailsTheQuery: the engine does not look at every
// iterator's error; the query still fails.
func TestReadErrorFailsTheQuery(t *testing.T) {
	e := NewEngine(failingStore{fixture(t)}, DefaultOptions)
	q, err := e.NewRangeQuery(context.Background(), "acme", `sum(req_total)`, t0, t0.Add(5*time.Minute), time.Minute, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var es promql.ErrStorage
	if res := q.Exec(context.Background()); !errors.As(res.Err, &es) || es.Err.Error() != "disk on fire" {
		t.Errorf("error %v, want the storage error", res.Err)
	}
}

func TestLimits(t *testing.T) {
	o := DefaultOptions
	o.MaxSamples = 10
	e := NewEngine(fixture(t), o)
	q, err := e.NewInstantQuery(context.Background(), "acme", `req_total[10m]`, t0.Add(10*time.Minute), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var tooMany promql.ErrTooManySamples
	if res := q.Exec(context.Background()); !errors.As(res.Err, &tooMany) || res.Err.Error() != "query processing would load too many samples into memory in query execution" {
		t.Errorf("error %v, want Prometheus's ErrTooManySamples", res.Err)
	}

	// A full engine makes a query wait for a slot, until its context ends.
	s := newSlots(1)
	if _, err := s.Insert(context.Background(), "first"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := s.Insert(ctx, "second"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second query: %v, want to wait out its deadline", err)
	}
	s.Delete(0)
	if _, err := s.Insert(context.Background(), "third"); err != nil {
		t.Errorf("after a query ends: %v", err)
	}
}

// TestQueryRange: the whole range query as values, a copy that outlives
// the query, and a parse error as the parser words it.
func TestQueryRange(t *testing.T) {
	e := NewEngine(fixture(t), DefaultOptions)
	m, err := e.QueryRange(context.Background(), "acme", `sum(rate(req_total{svc="a"}[1m]))`, t0.Add(2*time.Minute), t0.Add(4*time.Minute), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || len(m[0].Floats) != 3 {
		t.Fatalf("got %v, want one series of 3 points", m)
	}
	for _, p := range m[0].Floats {
		if math.Abs(p.F-1) > 1e-12 {
			t.Errorf("rate at %d is %g, want 1", p.T, p.F)
		}
	}
	if _, err := e.QueryRange(context.Background(), "acme", `sum(rate(req_total[1m])`, t0, t0, time.Minute); err == nil || err.Error() != `1:24: parse error: unclosed left parenthesis` {
		t.Errorf("parse error: %v", err)
	}
	if _, err := ParseExpr(`rate(x[5m]`); err == nil {
		t.Error("ParseExpr accepted an unclosed call")
	}
}
