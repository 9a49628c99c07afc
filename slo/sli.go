package slo

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// SLI says which events an SLO counts and which of them are good. It is
// one of SpanLatency, SpanAvailability and SpanAttribute (spans of the
// SLO's service), MetricRatio and MetricThreshold (metric samples Vigil
// stores), or DriftVerdicts (a drift monitor's judgements).
type SLI interface {
	// Describe says what the SLI counts, for `vigil slo plan`.
	Describe(service string) string
	// minutes counts good and total events per minute over [from, to),
	// ascending: what the SLO's rollups are made of.
	minutes(ctx context.Context, src sources, tenant, service string, from, to time.Time) ([]minute, error)
}

// sliReader is what counting any SLI reads from the store.
type sliReader interface {
	store.SLIReader
	store.LogSLIReader
	store.MetricReader
	store.EventReader
}

// sources is what SLIs are counted from: the store, and the PromQL engine
// for SLIs written as queries (nil where none is wired: those SLIs fail).
type sources struct {
	store  sliReader
	promql PromQL
}

// minute is an SLI's good and total events in one minute.
type minute struct {
	at          time.Time
	good, total float64
}

// spanMinutes converts the store's span counts.
func spanMinutes(counts []store.MinuteCounts, err error) ([]minute, error) {
	out := make([]minute, len(counts))
	for i, c := range counts {
		out[i] = minute{at: c.Minute, good: float64(c.Good), total: float64(c.Total)}
	}
	return out, err
}

// SpanFilter selects the spans a span SLI counts: of one service (the
// telemetry service.name; "" is the SLO's service), operation and model
// ("" for any), with span or resource attributes of these values. An
// OpenSLO SLO's service names an OpenSLO Service, which groups SLOs and
// need not be the service.name its spans carry.
type SpanFilter struct {
	Service    string
	Operation  string
	Model      string
	Attributes map[string]string
}

// service is the service.name of the spans of an SLO of service.
func (f SpanFilter) service(service string) string {
	if f.Service != "" {
		return f.Service
	}
	return service
}

// scope describes the spans, for Describe.
func (f SpanFilter) scope(service string) string {
	scope := "spans of " + f.service(service)
	if f.Operation != "" {
		scope += fmt.Sprintf(", operation %q", f.Operation)
	}
	if f.Model != "" {
		scope += fmt.Sprintf(", model %q", f.Model)
	}
	for _, k := range slices.Sorted(maps.Keys(f.Attributes)) {
		scope += fmt.Sprintf(", %s=%q", k, f.Attributes[k])
	}
	return scope
}

// query selects the spans that started in [from, to); the caller says
// which are good.
func (f SpanFilter) query(tenant, service string, from, to time.Time) store.SLIQuery {
	return store.SLIQuery{Tenant: tenant, Service: f.service(service), Operation: f.Operation, Model: f.Model, Attributes: f.Attributes, Start: from, End: to}
}

// spanSLI is an SLI the store counts from spans: many of them can be
// counted in one read.
type spanSLI interface {
	// sliQuery counts the SLI's spans that started in [from, to).
	sliQuery(tenant, service string, from, to time.Time) store.SLIQuery
}

// spanMinutesOf counts a span SLI's minutes on its own.
func spanMinutesOf(ctx context.Context, src sources, sli spanSLI, tenant, service string, from, to time.Time) ([]minute, error) {
	return spanMinutes(src.store.SLICounts(ctx, sli.sliQuery(tenant, service, from, to)))
}

// TelemetryService is the service.name of the spans the SLO counts: its
// SLI's source's service, else the SLO's; "" when the SLI counts no spans
// (metrics, drift verdicts).
func (s *SLO) TelemetryService() string {
	var f SpanFilter
	switch sli := s.SLI.(type) {
	case SpanLatency:
		f = sli.SpanFilter
	case SpanAvailability:
		f = sli.SpanFilter
	case SpanAttribute:
		f = sli.SpanFilter
	default:
		return ""
	}
	return f.service(s.Service)
}

// SpanLatency counts the filtered spans; a span is good when it took at
// most Latency.
type SpanLatency struct {
	SpanFilter
	Latency time.Duration
}

func (s SpanLatency) Describe(service string) string {
	return fmt.Sprintf("good: %s faster than %s; total: all of them", s.scope(service), s.Latency)
}

func (s SpanLatency) sliQuery(tenant, service string, from, to time.Time) store.SLIQuery {
	q := s.query(tenant, service, from, to)
	q.Good, q.Latency = "latency", s.Latency
	return q
}

func (s SpanLatency) minutes(ctx context.Context, src sources, tenant, service string, from, to time.Time) ([]minute, error) {
	return spanMinutesOf(ctx, src, s, tenant, service, from, to)
}

// SpanAvailability counts the filtered spans; a span is good when its
// status is not an error.
type SpanAvailability struct {
	SpanFilter
}

func (s SpanAvailability) Describe(service string) string {
	return fmt.Sprintf("good: %s without an error status; total: all of them", s.scope(service))
}

func (s SpanAvailability) sliQuery(tenant, service string, from, to time.Time) store.SLIQuery {
	q := s.query(tenant, service, from, to)
	q.Good = "availability"
	return q
}

func (s SpanAvailability) minutes(ctx context.Context, src sources, tenant, service string, from, to time.Time) ([]minute, error) {
	return spanMinutesOf(ctx, src, s, tenant, service, from, to)
}

// SpanAttribute counts the filtered spans that have a number in the span
// attribute Attribute (so a time-to-first-token SLI counts only streamed
// calls); a span is good when that number compares to Threshold by Op.
type SpanAttribute struct {
	SpanFilter
	Attribute string
	Op        Op
	Threshold float64
}

func (s SpanAttribute) Describe(service string) string {
	return fmt.Sprintf("good: %s with %s %s %g; total: those with a number in %s", s.scope(service), s.Attribute, s.Op.Symbol(), s.Threshold, s.Attribute)
}

func (s SpanAttribute) sliQuery(tenant, service string, from, to time.Time) store.SLIQuery {
	q := s.query(tenant, service, from, to)
	q.Good, q.Attribute, q.Op, q.Threshold = "attribute", s.Attribute, string(s.Op), s.Threshold
	return q
}

func (s SpanAttribute) minutes(ctx context.Context, src sources, tenant, service string, from, to time.Time) ([]minute, error) {
	return spanMinutesOf(ctx, src, s, tenant, service, from, to)
}

// MetricRatio counts events per minute from PromQL queries (see
// promql.go for how a query's values become events): good is Good's
// events, or Total's less Bad's; total is Total's. Exactly one of Good and
// Bad is set. A histogram SLI is a MetricRatio whose Good is the bucket of
// its bound and whose Total is the histogram's count.
type MetricRatio struct {
	Good, Bad, Total string
	// Rates declares the queries rates even where they read no range
	// (OpenSLO's counter: false, for recording rules that hold rates).
	Rates bool
}

func (m MetricRatio) Describe(string) string {
	if m.Bad != "" {
		return fmt.Sprintf("good: %s minus %s; total: %s (per minute)", m.describe(m.Total), m.describe(m.Bad), m.describe(m.Total))
	}
	return fmt.Sprintf("good: %s; total: %s (per minute)", m.describe(m.Good), m.describe(m.Total))
}

// describe says how a query counts events.
func (m MetricRatio) describe(q string) string {
	c, err := compileQuery(q, m.Rates)
	switch {
	case err != nil:
		return q
	case c.kind == rateQuery && templated(q):
		return fmt.Sprintf("%s at each minute's start × %s", render(q, sampleRange), promFloat(c.scale))
	case c.kind == rateQuery:
		return fmt.Sprintf("%s at each minute's start × %s", q, promFloat(c.scale))
	}
	return "increase of " + q
}

// MetricThreshold counts the minutes that have values of the PromQL query
// Gauge; a minute is good when the mean of its values compares to
// Threshold by Op. A plain selector's values are its samples in the
// minute; any other query's, its series at the minute's start.
type MetricThreshold struct {
	Gauge     string
	Op        Op
	Threshold float64
}

func (m MetricThreshold) Describe(string) string {
	return fmt.Sprintf("good: minutes whose mean of %s is %s %g; total: minutes with samples", m.Gauge, m.Op.Symbol(), m.Threshold)
}

// RawRatio reads a precomputed ratio, the PromQL query Query (OpenSLO's
// rawType and raw, Sloth's raw SLI): each minute with a value is one
// event, as good as the ratio at the minute's start: the share of
// successes, or of failures when Failure. A window's SLI is then the mean
// of its minutes' ratios.
type RawRatio struct {
	Query   string
	Failure bool
}

func (r RawRatio) Describe(string) string {
	what := "successes"
	if r.Failure {
		what = "failures"
	}
	return fmt.Sprintf("good: the ratio of %s %s at each minute's start; total: minutes with a value", what, render(r.Query, sampleRange))
}

// DriftVerdicts counts the judgements of the drift monitor Monitor that
// have a verdict; one is good when it found no drift.
type DriftVerdicts struct {
	Monitor string
}

func (d DriftVerdicts) Describe(string) string {
	return fmt.Sprintf("good: judgements of drift monitor %s that found no drift; total: its judgements with a verdict", d.Monitor)
}
