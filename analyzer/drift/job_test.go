package drift

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// writeTokens stores one span a second from start for the output tokens
// given, with a predicted class attribute.
func writeTokens(t *testing.T, st store.SpanWriter, start time.Time, first int, tokens []int64, class func(i int) string) {
	var spans []store.Span
	for i, n := range tokens {
		var sid store.SpanID
		var tid store.TraceID
		binary.BigEndian.PutUint64(sid[:], uint64(first+i+1))
		binary.BigEndian.PutUint64(tid[8:], uint64(first+i+1))
		spans = append(spans, store.Span{Tenant: store.DefaultTenant, TraceID: tid, SpanID: sid, Service: "chat", Operation: "chat",
			StartUnixNano: start.Add(time.Duration(i) * time.Second).UnixNano(), DurationNano: int64(time.Millisecond), OutputTokens: n,
			Attributes: store.Attributes{{Key: "prediction.class", Value: class(i)}}})
	}
	if err := st.WriteSpans(context.Background(), spans); err != nil {
		t.Fatal(err)
	}
}

func TestDriftJob(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	weekAgo := tick.Add(-168 * time.Hour)
	seq := func(from, n int) []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(from + i)
		}
		return out
	}
	// A week ago: 200 calls, 1..200 output tokens, classes cat and dog
	// alternating. Now: the same tokens shifted by 100, and all cats.
	writeTokens(t, st, weekAgo.Add(-time.Hour), 0, seq(1, 200), func(i int) string { return []string{"cat", "dog"}[i%2] })
	writeTokens(t, st, tick.Add(-time.Hour), 1000, seq(101, 200), func(int) string { return "cat" })
	monitors := []*Monitor{
		{Name: "tokens", Filter: Filter{Service: "chat"}, Watch: Watch{Kind: WatchOutputTokens}, Reference: Reference{Offset: 168 * time.Hour},
			Current: time.Hour, Every: time.Hour},
		{Name: "class", Filter: Filter{Service: "chat"}, Watch: Watch{Kind: WatchAttribute, Attribute: "prediction.class"},
			Reference: Reference{Offset: 168 * time.Hour}, Current: time.Hour, Every: time.Hour},
		{Name: "fixed-reference", Filter: Filter{Service: "chat"}, Watch: Watch{Kind: WatchOutputTokens},
			Reference: Reference{From: weekAgo.Add(-time.Hour), To: weekAgo}, Current: time.Hour, Every: time.Hour},
		{Name: "quiet", Filter: Filter{Service: "nobody"}, Watch: Watch{Kind: WatchDuration}, Reference: Reference{Offset: 168 * time.Hour},
			Current: time.Hour, Every: time.Hour},
	}
	job := &Job{Store: st, Monitors: monitors}
	for i := 0; i < 2; i++ { // a second run of the same tick writes nothing new
		if err := job.Run(ctx, tick); err != nil {
			t.Fatal(err)
		}
	}
	if err := job.Run(ctx, tick.Add(time.Minute)); err != nil { // not a multiple of Every: nothing judged
		t.Fatal(err)
	}
	evs, err := Verdicts.Read(ctx, st, store.EventQuery{Tenant: store.DefaultTenant, Start: tick.Add(-time.Hour), End: tick.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, ev := range evs {
		v := ev.Value
		if v.Monitor != ev.Event.Subject || v.Tested() != (v.Status == StatusTested) {
			t.Errorf("verdict %+v of event %+v", v, ev.Event)
		}
		got[v.Monitor] = fmt.Sprintf("%s %s %t %s", v.Status, v.Method, v.Drifted, ev.Event.Severity)
	}
	want := map[string]string{
		"tokens":          "tested ks true warning",      // KS D = 0.5 on 200 against 200
		"class":           "tested ztest true warning",   // two categories: all cats against half dogs
		"fixed-reference": "tested ks true warning",      // a fixed reference range, the same week-old data
		"quiet":           "not_enough_data  false info", // no spans at all
	}
	if len(evs) != 4 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("findings (%d):\n got %v\nwant %v", len(evs), got, want)
	}
	// The same data on both sides: no drift.
	same := &Monitor{Name: "same", Filter: Filter{Service: "chat"}, Watch: Watch{Kind: WatchOutputTokens}, Reference: Reference{From: tick.Add(-time.Hour), To: tick},
		Current: time.Hour}
	res, err := Evaluate(ctx, st, same, tick, 0)
	if err != nil || res.Drifted || res.Status != StatusTested || float64(res.Statistic) != 0 {
		t.Errorf("same windows: %+v %v", res, err)
	}
}

// A monitor loaded from YAML with a baseline CSV (a training set) as its
// reference, and one watching metric samples.
func TestDriftBaselineAndMetrics(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "baselines"), 0o755)
	csv := "output_tokens,label\n"
	for i := 1; i <= 200; i++ {
		csv += fmt.Sprintf("%d,x\n", i)
	}
	os.WriteFile(filepath.Join(dir, "baselines", "train.csv"), []byte(csv), 0o644)
	os.WriteFile(filepath.Join(dir, "drift.yaml"), []byte(`drift:
  - name: tokens-vs-training
    filter: {service: chat}
    watch: output_tokens
    reference: {file: baselines/train.csv, column: output_tokens}
    current: 1h
  - name: gpu-util
    watch: metric:gpu_util{job="vllm"}
    reference: {offset: 168h}
    current: 1h
  - name: broken
    watch: output_tokens
    reference: {file: baselines/missing.csv, column: output_tokens}
    current: 1h
`), 0o644)
	monitors, problems, err := LoadMonitors([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].String(), "drift.yaml:13: drift[2].reference.file: open ") {
		t.Fatalf("problems: %v", problems)
	}
	// Now the tokens run 101..300: drift against the 1..200 training set.
	writeTokens(t, st, tick.Add(-time.Hour), 0, func() []int64 {
		out := make([]int64, 200)
		for i := range out {
			out[i] = int64(101 + i)
		}
		return out
	}(), func(int) string { return "cat" })
	// GPU utilisation 0..59 a minute, a week ago and now alike: no drift.
	s := store.NewSeries(store.DefaultTenant, "gpu_util", store.MetricGauge, store.Attributes{{Key: "job", Value: "vllm"}})
	var samples []store.Sample
	for _, start := range []time.Time{tick.Add(-169 * time.Hour), tick.Add(-time.Hour)} {
		for m := 0; m < 60; m++ {
			samples = append(samples, store.Sample{Tenant: store.DefaultTenant, Fingerprint: s.Fingerprint, TimestampMsec: start.Add(time.Duration(m) * time.Minute).UnixMilli(), Value: float64(m)})
		}
	}
	if err := st.WriteMetrics(ctx, []store.Series{s}, samples); err != nil {
		t.Fatal(err)
	}
	for _, m := range monitors {
		res, err := Evaluate(ctx, st, m, tick, 0)
		if err != nil {
			t.Fatal(err)
		}
		switch m.Name {
		case "tokens-vs-training":
			if !res.Drifted || res.Reference.Values != 200 || res.Current.Values != 200 || float64(res.Statistic) != 0.5 {
				t.Errorf("%s: %+v", m.Name, res)
			}
		case "gpu-util":
			if res.Drifted || res.Status != StatusTested || res.Current.Values != 60 || float64(res.Statistic) != 0 {
				t.Errorf("%s: %+v", m.Name, res)
			}
		}
	}
}
