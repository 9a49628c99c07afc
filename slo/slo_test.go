package slo

import (
	"fmt"
	"math"
	"testing"
	"time"
)

const day = 24 * time.Hour

func TestDefaultAlertWindows(t *testing.T) {
	for _, c := range []struct {
		period time.Duration
		want   string
	}{
		{30 * day, "[14.4 6 3 1]"},
		{28 * day, "[13.44 5.6 2.8 0.9333333333333333]"},
	} {
		var got []float64
		for _, w := range DefaultAlertWindows(c.period) {
			got = append(got, w.Factor)
		}
		if fmt.Sprint(got) != c.want {
			t.Errorf("%s: %v, want %s", c.period, got, c.want)
		}
	}
	w := DefaultAlertWindows(30 * day)[0]
	if w.String() != "page: burn rate > 14.4 over 1h and 5m (2% of the budget when it fires)" {
		t.Errorf("%q", w.String())
	}
}

func TestBurnRates(t *testing.T) {
	cases := []struct {
		name                  string
		errorRatio, objective float64
		want                  float64
	}{
		{"1% errors at 99.9% burns 10x", 0.01, 0.999, 10},
		{"at the objective burns 1x", 0.005, 0.995, 1},
		{"no errors", 0, 0.99, 0},
		{"a total outage at 90%", 1, 0.9, 10},
	}
	for _, c := range cases {
		if got := BurnRate(c.errorRatio, c.objective); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	// At 90% a total outage burns at 10: the 14.4x page rule can never fire.
	ws := DefaultAlertWindows(30 * day)
	fire := []bool{}
	for _, w := range ws {
		fire = append(fire, w.CanFire(0.9))
	}
	if fmt.Sprint(fire) != "[false true true true]" {
		t.Errorf("at 90%%: %v", fire)
	}
	for _, w := range ws {
		if !w.CanFire(0.999) {
			t.Errorf("%s cannot fire at 99.9%%", w)
		}
	}
}

func TestBudgets(t *testing.T) {
	b := OccurrencesBudget(Counts{Good: 9950, Total: 10000}, 0.99)
	if math.Abs(b.SLI-0.995) > 1e-12 || math.Abs(b.Consumed-0.5) > 1e-9 || math.Abs(b.Remaining-0.5) > 1e-9 {
		t.Errorf("occurrences: %+v", b)
	}
	if b := OccurrencesBudget(Counts{Good: 9800, Total: 10000}, 0.99); math.Abs(b.Remaining+1) > 1e-9 {
		t.Errorf("overspent twice: %+v", b)
	}
	if b := OccurrencesBudget(Counts{}, 0.99); !b.NoData {
		t.Errorf("no data is not good: %+v", b)
	}
	slices := []Counts{{100, 100}, {95, 100}, {99, 100}, {0, 0}}
	// Two of the three slices with data reach 99%.
	if b := TimeslicesBudget(slices, 0.99, 0.5); math.Abs(b.SLI-2.0/3) > 1e-12 {
		t.Errorf("timeslices: %+v", b)
	}
	// The mean of 1, 0.95 and 0.99.
	if b := RatioTimeslicesBudget(slices, 0.95); math.Abs(b.SLI-0.98) > 1e-12 || math.Abs(b.Consumed-0.4) > 1e-9 {
		t.Errorf("ratio timeslices: %+v", b)
	}
	if b := TimeslicesBudget([]Counts{{0, 0}}, 0.99, 0.9); !b.NoData {
		t.Errorf("no slice with data: %+v", b)
	}
}

func TestParseDuration(t *testing.T) {
	for s, want := range map[string]time.Duration{"5m": 5 * time.Minute, "1h": time.Hour, "30d": 30 * day, "2w": 14 * day, "1M": 30 * day, "1Q": 90 * day, "1Y": 365 * day} {
		if got, err := ParseDuration(s); err != nil || got != want {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	for _, bad := range []string{"", "d", "0d", "-1d", "1.5h", "1s", "30D"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCalendarWindows(t *testing.T) {
	at := func(zone, s string) time.Time {
		loc, _ := time.LoadLocation(zone)
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		duration, start, zone, now string
		wantStart, wantEnd         string
	}{
		{"1M", "2026-01-01 00:00:00", "UTC", "2026-11-26 10:00", "2026-11-01 00:00", "2026-12-01 00:00"},
		{"1M", "2026-01-15 00:00:00", "UTC", "2026-11-10 10:00", "2026-10-15 00:00", "2026-11-15 00:00"},
		{"1M", "2026-06-01 00:00:00", "UTC", "2026-03-15 10:00", "2026-03-01 00:00", "2026-04-01 00:00"},
		{"1Q", "2026-01-01 00:00:00", "Europe/Berlin", "2026-11-26 10:00", "2026-10-01 00:00", "2027-01-01 00:00"},
		{"1w", "2026-11-02 00:00:00", "UTC", "2026-11-26 10:00", "2026-11-23 00:00", "2026-11-30 00:00"},
		// A day across the start of daylight saving time is 23 hours long.
		{"1d", "2026-03-01 00:00:00", "America/New_York", "2026-03-08 12:00", "2026-03-08 00:00", "2026-03-09 00:00"},
		{"7d", "2026-11-02 06:00:00", "UTC", "2026-11-09 05:59", "2026-11-02 06:00", "2026-11-09 06:00"},
	}
	for _, c := range cases {
		w, err := CalendarWindow(c.duration, c.start, c.zone)
		if err != nil {
			t.Fatal(err)
		}
		s, e := w.Period(at(c.zone, c.now))
		if !s.Equal(at(c.zone, c.wantStart)) || !e.Equal(at(c.zone, c.wantEnd)) {
			t.Errorf("%s from %s (%s) at %s: %s to %s, want %s to %s", c.duration, c.start, c.zone, c.now, s, e, c.wantStart, c.wantEnd)
		}
	}
	ny, _ := CalendarWindow("1d", "2026-03-01 00:00:00", "America/New_York")
	s, e := ny.Period(at("America/New_York", "2026-03-08 12:00"))
	if e.Sub(s) != 23*time.Hour {
		t.Errorf("DST day is %s", e.Sub(s))
	}
	if _, err := CalendarWindow("1M", "2026-01-01", "UTC"); err == nil {
		t.Error("a start without a time was accepted")
	}
	if _, err := CalendarWindow("1M", "2026-01-01 00:00:00", "Mars/Olympus"); err == nil {
		t.Error("an unknown zone was accepted")
	}
	// Rolling windows end now.
	r := TimeWindow{Duration: 30 * day, Rolling: true}
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	if s, e := r.Bounds(now); !e.Equal(now) || now.Sub(s) != 30*day {
		t.Errorf("rolling: %s to %s", s, e)
	}
}

func TestPercentObjectivesAreExact(t *testing.T) {
	for in, want := range map[string]float64{"99.9%": 0.999, "99.95%": 0.9995, "95%": 0.95, "0.999": 0.999} {
		if got, err := ParseObjective(in); err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
}

func TestInclusiveRules(t *testing.T) {
	above, atOrAbove := AlertWindow{Factor: 14.4}, AlertWindow{Factor: 14.4, Inclusive: true}
	if above.Exceeds(14.4) || !above.Exceeds(14.41) || !atOrAbove.Exceeds(14.4) || atOrAbove.Exceeds(14.39) {
		t.Error("a burn rate at the factor fires only an inclusive (gte) rule")
	}
}
