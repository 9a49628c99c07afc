package drift

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// Reader is what a monitor reads: span values, or metric samples.
type Reader interface {
	store.SpanValueReader
	store.MetricReader
}

// JobStore is what the drift job reads and writes.
type JobStore interface {
	Reader
	store.EventWriter
}

// Verdict is a monitor's judgement at a tick, the record of its
// drift.verdict events. Every judgement is recorded, drifted or not, so
// quality SLOs can count the share of windows without drift.
type Verdict struct {
	Monitor string `json:"monitor"`
	Watch   string `json:"watch"` // what was compared, as the monitor describes it
	ColumnResult
}

// Tested reports whether the verdict says drifted or not; without enough
// values there is no verdict either way.
func (v Verdict) Tested() bool { return v.Status == StatusTested }

// Verdicts is the codec of drift verdict events.
var Verdicts = store.Codec[Verdict]{Kind: store.KindFinding, Type: "drift.verdict", Version: 1}

// Job judges the drift monitors: each at the ticks that are multiples of
// its Every, over the windows that end at the tick, recording a finding
// per judgement. It implements the analyzer scheduler's Job interface.
type Job struct {
	Store    JobStore
	Monitors []*Monitor
	// Current, when set, returns the monitors as the config directory
	// defines them now; it is called at every tick instead of reading
	// Monitors.
	Current func() []*Monitor
	// Owns, when set, says which monitors this replica judges (the
	// analyzer's Owns, by the key "drift/<tenant>/<name>").
	Owns func(ctx context.Context, key string) bool
	// Limit bounds the values read per window (0: the store's default,
	// a uniform sample by span id above it).
	Limit int
	// Publisher, when set, is handed the verdicts once recorded: the
	// dispatcher, which delivers them to the actions that act on them.
	Publisher Publisher
}

// Publisher hands events that must leave the job to the dispatcher.
type Publisher interface {
	Publish(events ...store.Event)
}

// Name implements the scheduler's Job.
func (j *Job) Name() string { return "drift" }

// Run implements the scheduler's Job.
func (j *Job) Run(ctx context.Context, tick time.Time) error {
	var events []store.Event
	var errs []error
	monitors := j.Monitors
	if j.Current != nil {
		monitors = j.Current()
	}
	for _, m := range monitors {
		if m.Every > 0 && !tick.Truncate(m.Every).Equal(tick) {
			continue
		}
		if j.Owns != nil && !j.Owns(ctx, "drift/"+tenantOr(m.Tenant)+"/"+m.Name) {
			continue
		}
		res, err := Evaluate(ctx, j.Store, m, tick, j.Limit)
		if err != nil {
			errs = append(errs, fmt.Errorf("drift monitor %s: %w", m.Name, err))
			continue
		}
		ev, err := Finding(m, tick, res)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		events = append(events, ev)
	}
	if len(events) > 0 {
		if err := j.Store.WriteEvents(ctx, events); err != nil {
			errs = append(errs, fmt.Errorf("cannot record drift findings: %w", err))
		} else if j.Publisher != nil {
			j.Publisher.Publish(events...)
		}
	}
	return errors.Join(errs...)
}

func tenantOr(t string) string {
	if t == "" {
		return store.DefaultTenant
	}
	return t
}

// Evaluate compares the monitor's reference (its window as it stands at
// now, or its baseline file) with its current window.
func Evaluate(ctx context.Context, r Reader, m *Monitor, now time.Time, limit int) (ColumnResult, error) {
	refFrom, refTo, curFrom, curTo := m.Windows(now)
	read := func(from, to time.Time) ([]string, error) { return Values(ctx, r, m, from, to, limit) }
	cur, err := read(curFrom, curTo)
	if err != nil {
		return ColumnResult{}, err
	}
	if base := m.Reference.Baseline; base != nil {
		return CompareColumn(base, columnLike(base, cur), m.Options), nil
	}
	ref, err := read(refFrom, refTo)
	if err != nil {
		return ColumnResult{}, err
	}
	refCol, curCol := columnsOf(m.Watch.String(), ref, cur, m.Kind)
	return CompareColumn(refCol, curCol, m.Options), nil
}

// Values are the values the monitor watches in [from, to): its spans'
// field or attribute, or its metric selector's samples; at most limit.
func Values(ctx context.Context, r Reader, m *Monitor, from, to time.Time, limit int) ([]string, error) {
	if m.Watch.Kind == WatchMetric {
		return metricValues(ctx, r, tenantOr(m.Tenant), m.Watch.Query, from, to, limit)
	}
	q := store.ValueQuery{Tenant: tenantOr(m.Tenant), Service: m.Filter.Service, Operation: m.Filter.Operation, Model: m.Filter.Model,
		ModelVersion: m.Filter.ModelVersion, Field: string(m.Watch.Kind), Attribute: m.Watch.Attribute, Start: from, End: to, Limit: limit}
	v, err := r.SpanValues(ctx, q)
	return v.Values, err
}

// metricValues are the values of the samples a selector matches in
// [from, to), every series pooled, at most limit of them (the first in
// series and time order).
func metricValues(ctx context.Context, r store.MetricReader, tenant, query string, from, to time.Time, limit int) ([]string, error) {
	samples, err := store.SelectSamples(ctx, r, tenant, query, from, to)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = store.DefaultDurationLimit
	}
	out := make([]string, 0, min(len(samples), limit))
	for _, s := range samples[:min(len(samples), limit)] {
		out = append(out, strconv.FormatFloat(s.Value, 'g', -1, 64))
	}
	return out, nil
}

// columnLike types values as the baseline column is typed.
func columnLike(base *Column, values []string) *Column {
	if base.Kind == Numeric {
		_, col := columnsOf(base.Name, nil, values, &base.Kind)
		return col
	}
	labels := make([]string, len(values))
	for i, v := range values {
		if f, ok := parseNumber(v); ok {
			v = canonicalNumber(f) // as the CSV reader keeps numbers among labels
		}
		labels[i] = v
	}
	return CategoricalColumn(base.Name, labels, func(i int) bool { return isMissing(values[i]) })
}

// columnsOf types both windows alike: numeric when kind says so, or, with
// no kind, when every value of both parses as a number (as the CSV reader
// decides), categorical otherwise.
func columnsOf(name string, ref, cur []string, kind *Kind) (*Column, *Column) {
	numeric := kind != nil && *kind == Numeric
	if kind == nil {
		numeric = true
		for _, side := range [][]string{ref, cur} {
			for _, v := range side {
				if _, ok := parseNumber(v); !ok && !isMissing(v) {
					numeric = false
				}
			}
		}
	}
	build := func(values []string) *Column {
		if !numeric {
			return CategoricalColumn(name, values, func(i int) bool { return isMissing(values[i]) })
		}
		fs := make([]float64, len(values))
		for i, v := range values {
			f, ok := parseNumber(v)
			if !ok {
				f = math.NaN()
			}
			fs[i] = f
		}
		return NumericColumn(name, fs)
	}
	return build(ref), build(cur)
}

// Finding records one judgement; its id is the monitor and the tick, so a
// replica or a retry judging the same tick writes the same event.
func Finding(m *Monitor, tick time.Time, res ColumnResult) (store.Event, error) {
	severity, summary := "info", fmt.Sprintf("%s: %s", m.Name, res.Status)
	switch {
	case res.Drifted:
		severity = "warning"
		summary = fmt.Sprintf("%s drifted: %s %s = %s (threshold %s)", m.Name, m.Watch, res.Method, formatNumber(res.Statistic), strconv.FormatFloat(res.Threshold, 'g', -1, 64))
	case res.Status == StatusTested:
		summary = fmt.Sprintf("%s: no drift in %s (%s = %s)", m.Name, m.Watch, res.Method, formatNumber(res.Statistic))
	case res.Reason != "":
		summary += ": " + res.Reason
	}
	tenant := tenantOr(m.Tenant)
	ev, err := Verdicts.Event(store.Event{
		Tenant: tenant, ID: store.EventID(store.KindFinding, tenant, Verdicts.Type, m.Name, tick.UTC().Format(time.RFC3339)),
		Subject: m.Name, Severity: severity, Time: tick, Summary: summary,
	}, Verdict{Monitor: m.Name, Watch: m.Watch.String(), ColumnResult: res})
	if err != nil {
		return store.Event{}, fmt.Errorf("drift monitor %s: %w", m.Name, err)
	}
	return ev, nil
}

func formatNumber(n Number) string { return strconv.FormatFloat(float64(n), 'g', -1, 64) }
