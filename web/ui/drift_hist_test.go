package ui

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/analyzer/drift"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// TestDriftHistogramsOfMetricsAndBaselines: the drift report draws the
// histograms of a monitor that watches a metric (both windows read from
// its samples) and of one judged against a CSV baseline (the baseline
// is the reference), not only of span monitors.
func TestDriftHistogramsOfMetricsAndBaselines(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	series := store.NewSeries(store.DefaultTenant, "gpu_utilization", store.MetricGauge, store.Attributes{{Key: "pool", Value: "a100"}})
	var samples []store.Sample
	// 30 samples a window, a minute apart: the reference hour low, the
	// current one high.
	for i := range 60 {
		v := 0.2
		if i >= 30 {
			v = 0.9
		}
		ts := at.Add(time.Duration(i-60) * time.Minute)
		samples = append(samples, store.Sample{Tenant: store.DefaultTenant, Fingerprint: series.Fingerprint, TimestampMsec: ts.UnixMilli(), Value: v + float64(i%3)/100})
	}
	if err := st.WriteMetrics(ctx, []store.Series{series}, samples); err != nil {
		t.Fatal(err)
	}
	u := New(Options{Store: st})

	metric := &drift.Monitor{Name: "gpu", Watch: drift.Watch{Kind: drift.WatchMetric, Query: `gpu_utilization{pool="a100"}`},
		Reference: drift.Reference{Offset: 30 * time.Minute}, Current: 30 * time.Minute}
	j := &judgement{At: at}
	j.Kind = "numeric"
	h, err := u.histogramOf(ctx, metric, j)
	if err != nil {
		t.Fatal(err)
	}
	if h.RefN != 30 || h.CurN != 30 || len(h.Bins) == 0 || h.Baseline != "" {
		t.Fatalf("metric watch: %d reference and %d current values in %d bins (baseline %q), want 30 and 30", h.RefN, h.CurN, len(h.Bins), h.Baseline)
	}
	// Equal-width bins from 0.2 to 0.92: the reference fills the lower
	// half, the current window the upper.
	var refLow, curHigh float64
	for i, b := range h.Bins {
		if i < len(h.Bins)/2 {
			refLow += b.Ref
		} else {
			curHigh += b.Cur
		}
	}
	if refLow < 0.99 || curHigh < 0.99 {
		t.Errorf("metric watch: %.2f of the reference in the lower bins and %.2f of the current in the upper, want all of each: %+v", refLow, curHigh, h.Bins)
	}

	base := drift.CategoricalColumn("model", []string{"gpt-4o", "gpt-4o", "", "claude"}, func(i int) bool { return i == 2 })
	baseline := &drift.Monitor{Name: "models", Filter: drift.Filter{Service: "chat"}, Watch: drift.Watch{Kind: drift.WatchAttribute, Attribute: "gen_ai.request.model"},
		Reference: drift.Reference{Baseline: base, File: "baseline.csv", Column: "model"}, Current: 30 * time.Minute}
	j = &judgement{At: at}
	j.Kind = "categorical"
	h, err = u.histogramOf(ctx, baseline, j)
	if err != nil {
		t.Fatal(err)
	}
	if h.RefN != 3 || h.CurN != 0 || h.Baseline != "baseline.csv, column model" {
		t.Fatalf("baseline: %d reference values (want the baseline's 3 present), %d current (want 0), baseline %q", h.RefN, h.CurN, h.Baseline)
	}
}
