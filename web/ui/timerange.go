package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// timeRange is a page's time range as the URL gives it (from and to, each
// "now", "now-1h" or an RFC 3339 time, as Grafana writes them) and as
// absolute times.
type timeRange struct {
	From, To   string    // as in the URL
	Start, End time.Time // resolved
}

// defaultFrom is every page's range unless its URL says otherwise: the
// last hour, because a remembered month of spans is what makes such pages
// slow (SigNoz #9364).
const defaultFrom = "now-1h"

// parseRange reads from and to at now (from defaults to def). A problem
// names the parameter.
func parseRange(from, to, def string, now time.Time, maxSpan time.Duration) (timeRange, *fieldError) {
	if from == "" {
		from = def
	}
	if to == "" {
		to = "now"
	}
	tr := timeRange{From: from, To: to}
	var err error
	if tr.Start, err = parseTime(from, now); err != nil {
		return tr, &fieldError{"from", err.Error()}
	}
	if tr.End, err = parseTime(to, now); err != nil {
		return tr, &fieldError{"to", err.Error()}
	}
	if !tr.End.After(tr.Start) {
		return tr, &fieldError{"from", "the start must be before the end"}
	}
	if maxSpan > 0 && tr.End.Sub(tr.Start) > maxSpan {
		return tr, &fieldError{"from", fmt.Sprintf("the range is longer than this page reads at once (%s): narrow it", shortDuration(maxSpan))}
	}
	return tr, nil
}

// parseTime reads "now", "now-15m", "now-2d", or an RFC 3339 time.
func parseTime(s string, now time.Time) (time.Time, error) {
	if rest, ok := strings.CutPrefix(s, "now"); ok {
		if rest == "" {
			return now, nil
		}
		ago, ok := strings.CutPrefix(rest, "-")
		d, err := parseSpan(ago)
		if !ok || err != nil {
			return time.Time{}, fmt.Errorf("%q is not now-N followed by s, m, h, d or w (e.g. now-15m)", s)
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither now, now-1h nor an RFC 3339 time such as 2026-12-01T09:00:00Z", s)
	}
	return t.UTC(), nil
}

var spanUnits = map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}

// parseSpan reads a positive whole number of s, m, h, d or w.
func parseSpan(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("%q is not a span such as 15m", s)
	}
	unit, ok := spanUnits[s[len(s)-1]]
	n, err := strconv.Atoi(s[:len(s)-1])
	if !ok || err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a span such as 15m", s)
	}
	return time.Duration(n) * unit, nil
}

// absolute is the time as an absolute URL value.
func absolute(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// relative reports whether the range ends now and starts a span before,
// and that span.
func (tr timeRange) relative() (string, bool) {
	ago, ok := strings.CutPrefix(tr.From, "now-")
	return ago, ok && tr.To == "now"
}

// quickRanges are the ranges the picker offers.
var quickRanges = []string{"5m", "15m", "1h", "3h", "6h", "12h", "24h", "2d", "7d"}

// zoomOut doubles the range around its middle; a range ending now stays
// relative.
func (tr timeRange) zoomOut() (from, to string) {
	span := tr.End.Sub(tr.Start)
	if _, ok := tr.relative(); ok {
		return "now-" + shortDuration(2*span), "now"
	}
	return absolute(tr.Start.Add(-span / 2)), absolute(tr.End.Add(span / 2))
}

// shift moves the range by half its length, back (dir -1) or forward.
func (tr timeRange) shift(dir int) (from, to string) {
	d := time.Duration(dir) * tr.End.Sub(tr.Start) / 2
	return absolute(tr.Start.Add(d)), absolute(tr.End.Add(d))
}

// niceSteps are the chart steps a range is split into.
var niceSteps = []time.Duration{
	time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// step is the smallest nice step that splits the range into at most n
// buckets.
func (tr timeRange) step(n int) time.Duration {
	want := tr.End.Sub(tr.Start) / time.Duration(n)
	for _, s := range niceSteps {
		if s >= want {
			return s
		}
	}
	return niceSteps[len(niceSteps)-1]
}

// shortDuration writes 90m as 90m, 2h as 2h, 48h as 2d: the form
// parseSpan reads.
func shortDuration(d time.Duration) string {
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{7 * 24 * time.Hour, "w"}, {24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}} {
		if d >= u.unit && d%u.unit == 0 {
			return strconv.FormatInt(int64(d/u.unit), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}
