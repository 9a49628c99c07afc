package slo

import (
	"strings"
	"testing"
	"time"
)

// TestErrorRatioQueries: the PromQL a dashboard reads an SLO with, over a
// window written as text, gives the error ratio Vigil's evaluator judges
// over that window, and the events per second it counts (40 a minute).
// Selectors and Sloth's {{.window}} are read with rate(), which
// extrapolates where Vigil counts exact increases, as the exported rules
// do; they are held to the rules' numbers instead.
func TestErrorRatioQueries(t *testing.T) {
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	st, engine, _ := promFixture(t, tick)
	slos := loadSLOs(t, promSpec)
	e := &Evaluator{Store: st, SLOs: slos, PromQL: engine}
	at := tick.Add(-30 * time.Second)
	if err := e.Run(t.Context(), at); err != nil {
		t.Fatal(err)
	}
	last := tick.Add(-time.Minute)
	for _, s := range slos {
		status := statusOf(t, st, s, at)
		rule := status.Burns[0].Rule
		vigil, _ := status.Burns[0].Long.ErrorRatio()
		var text string
		switch sli := s.SLI.(type) {
		case MetricRatio:
			text = sli.ErrorRatioQuery(formatDuration(rule.Long))
			total, bad := sli.EventRateQueries("5m")
			if got := scalarAt(t, engine, total, last); !same(got, 40.0/60) && s.Name != "selectors" && s.Name != "sloth-window" {
				t.Errorf("%s: %s = %g events a second, want 40 a minute", s.Name, total, got)
			}
			if got := scalarAt(t, engine, bad, last); got < 0.0666 || got > 0.0667 {
				t.Errorf("%s: %s = %g bad events a second, want 4 a minute", s.Name, bad, got)
			}
		case MetricThreshold:
			text = sli.ErrorRatioQuery(formatDuration(rule.Long))
		default:
			t.Fatalf("%s: %T", s.Name, s.SLI)
		}
		got := scalarAt(t, engine, text, last)
		want := vigil
		if s.Name == "selectors" || s.Name == "sloth-window" {
			want = scalarAt(t, engine, s.SLI.(promSLI).errorRatio(rule.Long), last)
		}
		if !same(got, want) {
			t.Errorf("%s over %s: %s = %.15g, want %.15g", s.Name, formatDuration(rule.Long), text, got, want)
		}
		if strings.Contains(text, "{{") {
			t.Errorf("%s: the window is not written in: %s", s.Name, text)
		}
	}

	// A raw ratio of failures reads its own query, its window written in.
	raw := RawRatio{Query: `sum(rate(http_requests_total{job="api",code="500"}[{{.window}}])) / sum(rate(http_requests_total{job="api"}[{{.window}}]))`, Failure: true}
	if got := scalarAt(t, engine, raw.ErrorRatioQuery("30m"), last); got < 0.0999 || got > 0.1001 {
		t.Errorf("raw ratio over 30m = %g, want 0.1", got)
	}
}
