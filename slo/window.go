package slo

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseDuration reads OpenSLO durations: <int><m|h|d|w|M|Q|Y>, with M as
// 30 days, Q as 90 and Y as 365 (as OpenSLO's reference SDK reads them).
func ParseDuration(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("duration %q: want a number and a unit (m, h, d, w, M, Q, Y), e.g. 30d", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("duration %q: want a positive whole number before the unit", s)
	}
	day := 24 * time.Hour
	unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': day, 'w': 7 * day, 'M': 30 * day, 'Q': 90 * day, 'Y': 365 * day}[s[len(s)-1]]
	if unit == 0 {
		return 0, fmt.Errorf("duration %q: unit %q is not m, h, d, w, M, Q or Y", s, s[len(s)-1:])
	}
	return time.Duration(n) * unit, nil
}

// TimeWindow is an SLO's compliance window: rolling (the last Duration) or
// calendar-aligned.
type TimeWindow struct {
	Duration time.Duration
	Rolling  bool
	// For calendar windows: the unit and count as written (1M is a calendar
	// month, 1w a week from Start's weekday, 1Q a calendar quarter...), and
	// the first window's start in its time zone.
	Unit     byte
	Count    int
	Start    time.Time
	Location *time.Location
}

// String describes the window: "a rolling 28d", "calendar 1M from
// 2026-01-01 00:00 Europe/Paris".
func (w TimeWindow) String() string {
	if w.Rolling {
		return "a rolling " + formatDuration(w.Duration)
	}
	loc := w.Location
	if loc == nil {
		loc = time.UTC
	}
	return fmt.Sprintf("calendar %d%c periods from %s %s", w.Count, w.Unit, w.Start.In(loc).Format("2006-01-02 15:04"), loc)
}

// Bounds returns the window that an evaluation at now covers: [now -
// Duration, now) for rolling windows, and the calendar period containing now
// (up to now) for calendar windows.
func (w TimeWindow) Bounds(now time.Time) (start, end time.Time) {
	if w.Rolling {
		return now.Add(-w.Duration), now
	}
	start, _ = w.Period(now)
	return start, now
}

// Period returns the whole calendar period containing t.
func (w TimeWindow) Period(t time.Time) (start, end time.Time) {
	loc := w.Location
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	first := w.Start.In(loc)
	switch w.Unit {
	case 'M', 'Q', 'Y':
		months := map[byte]int{'M': 1, 'Q': 3, 'Y': 12}[w.Unit] * w.Count
		// Whole periods of `months` since the first window's month.
		addMonths := func(n int) time.Time {
			return time.Date(first.Year(), first.Month()+time.Month(n), first.Day(), first.Hour(), first.Minute(), first.Second(), 0, loc)
		}
		// The period that starts in t's month may start after t (a start on
		// the 15th, t on the 10th): then it is the one before.
		k := floorDiv((t.Year()-first.Year())*12+int(t.Month())-int(first.Month()), months)
		start = addMonths(k * months)
		if start.After(t) {
			k--
			start = addMonths(k * months)
		}
		return start, addMonths((k + 1) * months)
	}
	// Fixed-length units (m, h, d, w): whole steps of wall-clock time since
	// the start, day steps in the zone's calendar so daylight saving time
	// does not shift them.
	if w.Unit == 'd' || w.Unit == 'w' {
		days := w.Count
		if w.Unit == 'w' {
			days *= 7
		}
		dayIndex := func(x time.Time) int {
			y, m, d := x.Date()
			return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
		}
		k := floorDiv(dayIndex(t)-dayIndex(first), days)
		start = time.Date(first.Year(), first.Month(), first.Day()+k*days, first.Hour(), first.Minute(), first.Second(), 0, loc)
		if start.After(t) {
			k--
			start = time.Date(first.Year(), first.Month(), first.Day()+k*days, first.Hour(), first.Minute(), first.Second(), 0, loc)
		}
		return start, time.Date(start.Year(), start.Month(), start.Day()+days, start.Hour(), start.Minute(), start.Second(), 0, loc)
	}
	k := t.Sub(first) / w.Duration
	if t.Before(first) {
		k--
	}
	start = first.Add(k * w.Duration)
	return start, start.Add(w.Duration)
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// CalendarWindow builds a calendar window from an OpenSLO duration, a start
// "YYYY-MM-DD hh:mm:ss" and an IANA time zone.
func CalendarWindow(duration, start, zone string) (TimeWindow, error) {
	d, err := ParseDuration(duration)
	if err != nil {
		return TimeWindow{}, err
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return TimeWindow{}, fmt.Errorf("time zone %q: %v", zone, err)
	}
	st, err := time.ParseInLocation("2006-01-02 15:04:05", strings.TrimSpace(start), loc)
	if err != nil {
		return TimeWindow{}, fmt.Errorf("start time %q: want YYYY-MM-DD hh:mm:ss", start)
	}
	n, _ := strconv.Atoi(duration[:len(duration)-1])
	return TimeWindow{Duration: d, Unit: duration[len(duration)-1], Count: n, Start: st, Location: loc}, nil
}
