package prom

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
)

// parseTime reads Unix seconds (with a fraction, to the millisecond) or
// RFC 3339, as Prometheus does.
func parseTime(s string) (time.Time, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		frac = math.Round(frac*1000) / 1000
		return time.Unix(int64(sec), int64(frac*float64(time.Second))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// timeParam reads an optional time; ok is false when it is absent.
func timeParam(r *http.Request, name string) (t time.Time, ok bool, err *apiError) {
	s := r.FormValue(name)
	if s == "" {
		return time.Time{}, false, nil
	}
	t, e := parseTime(s)
	if e != nil {
		return t, false, invalidParam(name, e)
	}
	return t, true, nil
}

// rangeParams reads the optional start and end of a series or label
// lookup as Unix milliseconds; an absent bound is open.
func rangeParams(r *http.Request) (mint, maxt int64, err *apiError) {
	mint, maxt = math.MinInt64, math.MaxInt64
	if t, ok, err := timeParam(r, "start"); err != nil {
		return 0, 0, err
	} else if ok {
		mint = t.UnixMilli()
	}
	if t, ok, err := timeParam(r, "end"); err != nil {
		return 0, 0, err
	} else if ok {
		maxt = t.UnixMilli()
	}
	return mint, maxt, nil
}

// parseDuration reads seconds (with a fraction) or a Prometheus duration
// such as 1m30s.
func parseDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		d := f * float64(time.Second)
		if math.IsNaN(d) || d >= float64(math.MaxInt64) || d < float64(math.MinInt64) {
			return 0, fmt.Errorf("cannot parse %q to a valid duration. It overflows int64", s)
		}
		return time.Duration(d), nil
	}
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
}

// limitParam reads the optional limit; 0 is none.
func limitParam(r *http.Request) (int, *apiError) {
	s := r.FormValue("limit")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err == nil && n < 0 {
		err = errors.New("limit must be non-negative")
	}
	if err != nil {
		return 0, invalidParam("limit", err)
	}
	return n, nil
}

// truncated is the warning Prometheus adds when a limit cut a result.
var truncated = errors.New("results truncated due to limit")
