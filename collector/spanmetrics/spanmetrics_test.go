package spanmetrics

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func span(tenant, service, model string, d time.Duration, status store.StatusCode) store.Span {
	s := store.Span{Tenant: tenant, Service: service, Operation: "chat", Model: model, DurationNano: int64(d), StatusCode: status}
	if model != "" {
		s.InputTokens, s.OutputTokens, s.CachedTokens, s.Cost = 100, 20, 5, decimal.RequireFromString("0.0015")
	}
	return s
}

// clock is a settable time for the generator.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newGen(o Options) (*Generator, *clock) {
	c := &clock{t: t0}
	o.Now = c.now
	return New(o), c
}

// values maps "name{labels}" to the value of each sample of an emission.
func values(e *Emission, all []store.Series) map[string]float64 {
	names := map[uint64]string{}
	for _, s := range all {
		names[s.Fingerprint] = s.Name + labelString(s.Labels)
	}
	out := map[string]float64{}
	for _, sm := range e.Samples {
		out[names[sm.Fingerprint]] = sm.Value
	}
	return out
}

func labelString(a store.Attributes) string {
	s := "{"
	for i, kv := range a {
		if i > 0 {
			s += ","
		}
		s += kv.Key + "=" + kv.Value
	}
	return s + "}"
}

func TestCounts(t *testing.T) {
	g, _ := newGen(Options{Instance: "c1"})
	g.Add([]store.Span{
		span("acme", "gw", "gpt-4o", 300*time.Millisecond, store.StatusOK),
		span("acme", "gw", "gpt-4o", 3*time.Second, store.StatusOK),
		span("acme", "gw", "", 1*time.Millisecond/2, store.StatusError),
	})
	e := g.Flush()
	v := values(e, e.Series)
	ok := "{collector_instance=c1,model=gpt-4o,operation=chat,service=gw,status=ok"
	bucket := func(le string) string {
		return DurationName + "_bucket{collector_instance=c1,le=" + le + ",model=gpt-4o,operation=chat,service=gw,status=ok}"
	}
	want := map[string]float64{
		CallsName + ok + "}":               2,
		bucket("0.25"):                     0,
		bucket("0.5"):                      1,
		bucket("4"):                        2,
		bucket("+Inf"):                     2,
		DurationName + "_sum" + ok + "}":   3.3,
		DurationName + "_count" + ok + "}": 2,
		TokensName + ok + ",type=input}":   200,
		TokensName + ok + ",type=cached}":  10,
		CostName + ok + "}":                0.003,
		CallsName + "{collector_instance=c1,operation=chat,service=gw,status=error}":                           1,
		DurationName + "_bucket{collector_instance=c1,le=0.0009765625,operation=chat,service=gw,status=error}": 1,
	}
	for k, w := range want {
		if got, ok := v[k]; !ok || math.Abs(got-w) > 1e-12 {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, w)
		}
	}
	// A label set without model calls has no genai series.
	if _, ok := v[TokensName+"{collector_instance=c1,operation=chat,service=gw,status=error,type=input}"]; ok {
		t.Error("genai series for spans that are not model calls")
	}
	if len(e.Series) != seriesLen+genaiFrom || len(e.Samples) != len(e.Series) {
		t.Errorf("%d series, %d samples", len(e.Series), len(e.Samples))
	}
	// Once written, series rows are not written again; samples are.
	g.Done(e, nil)
	if e2 := g.Flush(); len(e2.Series) != 0 || len(e2.Samples) != len(e.Samples) {
		t.Errorf("second flush: %d series, %d samples", len(e2.Series), len(e2.Samples))
	}
}

func TestOverflow(t *testing.T) {
	m := NewMetrics(nil)
	g, _ := newGen(Options{Instance: "c1", MaxLabelSets: 2, Metrics: m})
	for _, svc := range []string{"a", "b", "c", "d", "c"} {
		g.Add([]store.Span{span("acme", svc, "", time.Millisecond, store.StatusOK)})
	}
	g.Add([]store.Span{span("globex", "z", "", time.Millisecond, store.StatusOK)})
	e := g.Flush()
	v := values(e, e.Series)
	of := "{collector_instance=c1,deployment=__overflow__,model=__overflow__,operation=__overflow__,service=__overflow__,status=__overflow__}"
	if v[CallsName+of] != 3 {
		t.Errorf("overflow calls %v, want 3 (c, d, c)", v[CallsName+of])
	}
	if v[CallsName+"{collector_instance=c1,operation=chat,service=a,status=ok}"] != 1 {
		t.Error("the first label sets are counted as themselves")
	}
	if len(e.Events) != 1 || e.Events[0].Tenant != "acme" || e.Events[0].Severity != "error" {
		t.Fatalf("events %+v, want one error event for acme", e.Events)
	}
	if ev, err := OverflowEvents.Decode(e.Events[0]); err != nil || ev.MaxLabelSets != 2 {
		t.Errorf("event payload %+v, %v", ev, err)
	}
	// A failed write hands the event over again.
	g.Done(e, context.DeadlineExceeded)
	if e2 := g.Flush(); len(e2.Events) != 1 {
		t.Errorf("events after a failed write: %d", len(e2.Events))
	}
}

func TestExpiry(t *testing.T) {
	g, clk := newGen(Options{Instance: "c1", Expiry: time.Minute})
	g.Add([]store.Span{span("acme", "a", "", time.Millisecond, store.StatusOK)})
	g.Done(g.Flush(), nil)
	clk.t = clk.t.Add(2 * time.Minute)
	e := g.Flush()
	if len(e.Samples) != genaiFrom || !store.IsStaleNaN(e.Samples[0].Value) {
		t.Fatalf("expired set: %d samples, first %v; want staleness markers", len(e.Samples), e.Samples[0].Value)
	}
	if e := g.Flush(); len(e.Samples) != 0 {
		t.Errorf("an ended set is still written: %d samples", len(e.Samples))
	}
}

// TestResume: a new generator of the same instance continues the
// counters from what the last one wrote.
func TestResume(t *testing.T) {
	st, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	g, _ := newGen(Options{Instance: "c1"})
	g.Add([]store.Span{span("acme", "gw", "gpt-4o", 300*time.Millisecond, store.StatusOK), span("globex", "x", "", time.Second, store.StatusError)})
	e := g.Flush()
	if err := st.WriteMetrics(context.Background(), e.Series, e.Samples); err != nil {
		t.Fatal(err)
	}
	other, _ := newGen(Options{Instance: "c2"})
	if err := other.Resume(context.Background(), st); err != nil || len(other.tenants) != 0 {
		t.Fatalf("another instance resumed %d tenants, %v", len(other.tenants), err)
	}
	g2, clk := newGen(Options{Instance: "c1"})
	clk.t = t0.Add(time.Minute)
	if err := g2.Resume(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	g2.Add([]store.Span{span("acme", "gw", "gpt-4o", 3*time.Second, store.StatusOK)})
	e2 := g2.Flush()
	if len(e2.Series) != 0 {
		t.Errorf("resumed series written again: %d", len(e2.Series))
	}
	v := values(e2, e.Series)
	ok := "{collector_instance=c1,model=gpt-4o,operation=chat,service=gw,status=ok"
	for k, w := range map[string]float64{
		CallsName + ok + "}": 2, DurationName + "_sum" + ok + "}": 3.3,
		DurationName + "_bucket{collector_instance=c1,le=0.5,model=gpt-4o,operation=chat,service=gw,status=ok}": 1,
		TokensName + ok + ",type=output}": 40, CostName + ok + "}": 0.003,
	} {
		if got := v[k]; math.Abs(got-w) > 1e-12 {
			t.Errorf("%s = %v, want %v", k, got, w)
		}
	}
	if len(g2.tenants["globex"].sets) != 1 {
		t.Error("globex's label set was not resumed")
	}
}
