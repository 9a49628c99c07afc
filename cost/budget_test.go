package cost

import (
	"math"
	"testing"
	"time"
)

func TestBudgetPeriodsAndForecast(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) // a Thursday
	for _, c := range []struct {
		period     Period
		start, end string
	}{
		{"month", "2026-11-01", "2026-12-01"},
		{"week", "2026-11-23", "2026-11-30"},
		{"day", "2026-11-26", "2026-11-27"},
	} {
		b := Budget{Period: c.period}
		s, e := b.PeriodAt(at)
		if s.Format(time.DateOnly) != c.start || e.Format(time.DateOnly) != c.end {
			t.Errorf("%s: %s to %s", c.period, s, e)
		}
	}
	// 25.5 of 30 days gone, 850 spent: the month ends at 1000.
	b := Budget{Period: "month", Amount: d("900"), Thresholds: []int{50, 80, 100}, Forecast: true, Cost: "effective"}
	st := b.Status(d("850"), at)
	if !st.Forecast.Equal(d("1000")) || !st.ForecastOverrun || st.Percent.String() != "94.44" || len(st.Crossed) != 2 {
		t.Errorf("status %+v", st)
	}
	// Exactly at a threshold counts as crossed.
	if st := b.Status(d("450"), at); len(st.Crossed) != 1 || st.Crossed[0] != 50 {
		t.Errorf("at 50%%: %v", st.Crossed)
	}
	// In the first hour the forecast is the spend itself.
	if f := Forecast(d("10"), at, at.Add(24*time.Hour), at.Add(time.Minute)); !f.Equal(d("10")) {
		t.Errorf("early forecast %s", f)
	}
}

func TestAnomalyScore(t *testing.T) {
	a := Anomaly{MinDailySpend: d("10")}
	// History 10, 12, 11, 13, 11, 100 (one spike), 12: median 12, deviations
	// 2, 0, 1, 1, 1, 88, 0 -> MAD 1. A day of 20 scores 0.6745 * 8 = 5.396.
	h := []float64{10, 12, 11, 13, 11, 100, 12}
	s := a.Score(h, 20)
	if s.Median != 12 || s.MAD != 1 || math.Abs(s.Score-5.396) > 1e-9 || !s.Anomalous {
		t.Errorf("%+v", s)
	}
	if s := a.Score(h, 14); s.Anomalous { // 0.6745 * 2 = 1.35
		t.Errorf("a normal day flagged: %+v", s)
	}
	if s := a.Score(h, 5); s.Anomalous {
		t.Errorf("a cheap day flagged: %+v", s)
	}
	// A flat history: any rise is anomalous, if above the minimum.
	flat := []float64{50, 50, 50, 50}
	if s := a.Score(flat, 51); !s.Anomalous || !math.IsInf(s.Score, 1) {
		t.Errorf("flat history: %+v", s)
	}
	if s := (&Anomaly{MinDailySpend: d("100")}).Score(flat, 60); s.Anomalous {
		t.Errorf("below the minimum spend: %+v", s)
	}
}
