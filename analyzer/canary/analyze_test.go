package canary_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/analyzer/canary"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// spans writes n spans of one deployment and model version over ten
// minutes from t0, durations lognormal around median ms; every errEvery-th
// fails (0: none).
func spans(rng *rand.Rand, n int, deployment, version string, median float64, errEvery int) []store.Span {
	out := make([]store.Span, n)
	for i := range out {
		var tid store.TraceID
		var sid store.SpanID
		for k := range tid {
			tid[k] = byte(rng.UintN(256))
		}
		for k := range sid {
			sid[k] = byte(rng.UintN(256))
		}
		d := time.Duration(median * float64(time.Millisecond) * rng.ExpFloat64() / 0.6931471805599453)
		out[i] = store.Span{Tenant: "acme", TraceID: tid, SpanID: sid, Service: "chat", Operation: "generate", Kind: store.SpanKindServer,
			StartUnixNano: t0.Add(time.Duration(i) * 10 * time.Minute / time.Duration(n)).UnixNano(), DurationNano: int64(d),
			StatusCode: store.StatusOK, Model: "llama", ModelVersion: version, Deployment: deployment}
		if errEvery > 0 && i%errEvery == 0 {
			out[i].StatusCode = store.StatusError
		}
	}
	return out
}

func open(t *testing.T) *embedded.Store {
	s, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	rng := rand.New(rand.NewPCG(11, 12))
	var all []store.Span
	all = append(all, spans(rng, 600, "stable", "v1", 100, 100)...)
	all = append(all, spans(rng, 600, "canary", "v2", 180, 100)...)
	all = append(all, spans(rng, 20, "canary-small", "v3", 100, 0)...)
	all = append(all, spans(rng, 600, "twin", "v1", 100, 100)...)
	if err := s.WriteSpans(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAnalyze(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	spec := canary.Spec{Tenant: "acme", Service: "chat", Canary: "canary", Baseline: "stable", Start: t0, End: t0.Add(time.Hour)}
	for _, tc := range []struct {
		name    string
		edit    func(*canary.Spec)
		verdict canary.Verdict
		sampled bool
	}{
		{"slower canary", func(*canary.Spec) {}, canary.VerdictFail, false},
		{"by model version", func(s *canary.Spec) { s.By, s.Canary, s.Baseline = canary.ByModelVersion, "v2", "v1" }, canary.VerdictFail, false},
		{"sampled", func(s *canary.Spec) { s.Limit = 200 }, canary.VerdictFail, true},
		{"too little traffic", func(s *canary.Spec) { s.Canary = "canary-small" }, canary.VerdictInconclusive, false},
		{"no such operation", func(s *canary.Spec) { s.Operation = "embed" }, canary.VerdictInconclusive, false},
		{"same distribution", func(s *canary.Spec) { s.Canary = "twin" }, canary.VerdictPass, false},
		// Faster is never a failure: swap the roles.
		{"faster canary", func(s *canary.Spec) { s.Canary, s.Baseline = "stable", "canary" }, canary.VerdictPass, false},
	} {
		sp := spec
		tc.edit(&sp)
		a, err := canary.Analyze(ctx, s, sp)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if a.Verdict != tc.verdict || a.Sampled != tc.sampled {
			t.Errorf("%s: got %s sampled=%v (%s), want %s sampled=%v", tc.name, a.Verdict, a.Sampled, a.Reason, tc.verdict, tc.sampled)
		}
	}
	for _, bad := range []func(*canary.Spec){
		func(s *canary.Spec) { s.Service = "" },
		func(s *canary.Spec) { s.Baseline = s.Canary },
		func(s *canary.Spec) { s.By = "pod" },
		func(s *canary.Spec) { s.End = s.Start },
		func(s *canary.Spec) { s.Config.Alpha = 2 },
	} {
		sp := spec
		bad(&sp)
		if _, err := canary.Analyze(ctx, s, sp); err == nil {
			t.Errorf("%+v: want an error", sp)
		}
	}
}

func TestJobRecordsOneFindingPerVerdict(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	job := &canary.Job{Store: s, Monitors: []canary.Monitor{
		{Spec: canary.Spec{Tenant: "acme", Service: "chat", Canary: "canary", Baseline: "stable"}, Window: time.Hour},
		{Spec: canary.Spec{Tenant: "acme", Service: "chat", Canary: "canary-small", Baseline: "stable"}, Window: time.Hour},
	}}
	tick := t0.Add(30 * time.Minute)
	for range 2 { // a second replica, or a retry, on the same tick
		if err := job.Run(ctx, tick); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := canary.Analyses.Read(ctx, s, store.EventQuery{Tenant: "acme", Start: t0, End: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("got %d events, want 2: %+v", len(evs), evs)
	}
	got := map[string]store.Decoded[canary.Analysis]{}
	for _, e := range evs {
		got[e.Event.Subject] = e
	}
	fail, inc := got["chat/canary"], got["chat/canary-small"]
	if fail.Event.Severity != "critical" || !fail.Event.Time.Equal(tick) || !strings.Contains(fail.Event.Summary, "fail") ||
		fail.Value.Verdict != canary.VerdictFail || fail.Value.Spec.Canary != "canary" || len(fail.Value.Metrics) == 0 || fail.Value.Metrics[0].Latency == nil {
		t.Errorf("failing canary's finding: %+v", fail)
	}
	if inc.Event.Severity != "warning" || inc.Value.Verdict != canary.VerdictInconclusive {
		t.Errorf("small canary's finding: %+v", inc)
	}
	// A bad monitor is reported and does not stop the others.
	job.Monitors = append(job.Monitors, canary.Monitor{Spec: canary.Spec{Service: "chat"}, Window: time.Hour})
	if err := job.Run(ctx, tick); err == nil || !strings.Contains(err.Error(), "both the canary and the baseline") {
		t.Errorf("bad monitor: got %v", err)
	}
}

// BenchmarkAnalyzeEmbedded reads and judges 100,000 spans a side from the
// embedded store: two SpanDurations reads (counts and the sample) per
// side, then Evaluate.
func BenchmarkAnalyzeEmbedded(b *testing.B) {
	s, err := embedded.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(5, 6))
	for _, d := range []struct {
		name   string
		median float64
	}{{"stable", 100}, {"canary", 105}} {
		for range 10 {
			if err := s.WriteSpans(context.Background(), spans(rng, 10_000, d.name, "v1", d.median, 100)); err != nil {
				b.Fatal(err)
			}
		}
	}
	spec := canary.Spec{Tenant: "acme", Service: "chat", Canary: "canary", Baseline: "stable", Start: t0, End: t0.Add(time.Hour)}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := canary.Analyze(context.Background(), s, spec); err != nil {
			b.Fatal(err)
		}
	}
}
