package spanmetrics

import (
	"math"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
)

// The series of one label set, in a fixed layout: values and resumed
// samples are indexed by it.
const (
	idxCalls   = 0
	idxBuckets = 1 // one per bound, then +Inf
	idxSum     = idxBuckets + 18
	idxCount   = idxSum + 1
	idxTokens  = idxCount + 1 // input, output, cached
	idxCost    = idxTokens + 3
	seriesLen  = idxCost + 1
	genaiFrom  = idxTokens // the series from here on exist for model calls only
)

var tokenTypes = [3]string{"input", "output", "cached"}

// seriesSet is a label set's series, built once.
type seriesSet struct {
	series  [seriesLen]store.Series
	written bool // the series rows are in the store
}

func newSeriesSet(tenant, instance string, k key) *seriesSet {
	base := store.Attributes{
		{Key: "service", Value: k.service}, {Key: "operation", Value: k.operation}, {Key: "model", Value: k.model},
		{Key: "deployment", Value: k.deployment}, {Key: "status", Value: k.status}, {Key: InstanceLabel, Value: instance},
	}
	// An empty value is no label, as in Prometheus.
	base = nonEmpty(base)
	with := func(name, value string) store.Attributes {
		return append(base[:len(base):len(base)], store.KeyValue{Key: name, Value: value})
	}
	ss := &seriesSet{}
	ss.series[idxCalls] = store.NewSeries(tenant, CallsName, store.MetricCounter, base)
	for i, le := range DurationBounds {
		ss.series[idxBuckets+i] = store.NewSeries(tenant, DurationName+"_bucket", store.MetricHistogram, with("le", strconv.FormatFloat(le, 'f', -1, 64)))
	}
	ss.series[idxBuckets+len(DurationBounds)] = store.NewSeries(tenant, DurationName+"_bucket", store.MetricHistogram, with("le", "+Inf"))
	ss.series[idxSum] = store.NewSeries(tenant, DurationName+"_sum", store.MetricHistogram, base)
	ss.series[idxCount] = store.NewSeries(tenant, DurationName+"_count", store.MetricHistogram, base)
	for i, typ := range tokenTypes {
		ss.series[idxTokens+i] = store.NewSeries(tenant, TokensName, store.MetricCounter, with("type", typ))
	}
	ss.series[idxCost] = store.NewSeries(tenant, CostName, store.MetricCounter, base)
	return ss
}

func nonEmpty(a store.Attributes) store.Attributes {
	out := a[:0]
	for _, kv := range a {
		if kv.Value != "" {
			out = append(out, kv)
		}
	}
	return out
}

// values are the counts in the series layout; n is how many series the
// label set has (without the genai series when it saw no model call).
func (c *counts) values() (v [seriesLen]float64, n int) {
	v[idxCalls] = float64(c.calls)
	var cum uint64
	for i, b := range c.buckets {
		cum += b
		v[idxBuckets+i] = float64(cum)
	}
	v[idxSum], v[idxCount] = c.seconds, float64(c.calls)
	for i, t := range c.tokens {
		v[idxTokens+i] = float64(t)
	}
	v[idxCost] = c.cost.InexactFloat64()
	if c.genai {
		return v, seriesLen
	}
	return v, genaiFrom
}

// setValues is the inverse of values, for Resume.
func (c *counts) setValues(v *[seriesLen]float64, genai bool) {
	c.calls = uint64(v[idxCalls])
	prev := 0.0
	for i := range c.buckets {
		c.buckets[i] = uint64(v[idxBuckets+i] - prev)
		prev = v[idxBuckets+i]
	}
	c.seconds = v[idxSum]
	for i := range c.tokens {
		c.tokens[i] = int64(v[idxTokens+i])
	}
	c.cost = decimal.NewFromFloat(v[idxCost])
	c.genai = genai
}

// Emission is what one Flush writes: samples of every live series at one
// time, the series rows not yet known to be stored, and overflow events.
type Emission struct {
	Series  []store.Series
	Samples []store.Sample
	Events  []store.Event
	pending []*seriesSet
}

// Flush returns the current value of every series, ends (with a
// staleness marker) the label sets idle for longer than the expiry, and
// hands over the overflow events. Pass the emission to Done once written.
func (g *Generator) Flush() *Emission {
	now := g.opts.Now()
	ts := now.UnixMilli()
	g.mu.Lock()
	defer g.mu.Unlock()
	e := &Emission{Events: g.events}
	g.events = nil
	for name, t := range g.tenants {
		for k, c := range t.sets {
			if c.series == nil {
				c.series = newSeriesSet(name, g.opts.Instance, k)
			}
			v, n := c.values()
			expired := now.Sub(c.last) > g.opts.Expiry
			if expired {
				delete(t.sets, k)
				if !c.series.written {
					continue // never stored: nothing to end
				}
				for i := range v {
					v[i] = math.Float64frombits(store.StaleNaN)
				}
			}
			if !c.series.written && !expired {
				e.Series = append(e.Series, c.series.series[:n]...)
				e.pending = append(e.pending, c.series)
			}
			for i := 0; i < n; i++ {
				e.Samples = append(e.Samples, store.Sample{Tenant: name, Fingerprint: c.series.series[i].Fingerprint, TimestampMsec: ts, Value: v[i]})
			}
		}
		g.opts.Metrics.LabelSets.WithLabelValues(name).Set(float64(g.liveSets(t)))
		if g.liveSets(t) < g.opts.MaxLabelSets {
			t.overflowing = false
		}
	}
	return e
}

// Done records the outcome of writing an emission: written series need
// not be written again; events that failed are handed over again.
func (g *Generator) Done(e *Emission, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil {
		g.events = append(e.Events, g.events...)
		return
	}
	for _, ss := range e.pending {
		ss.written = true
	}
}

// overflowPeriod is how long one overflow event stands for: a limit hit
// again in the same minute is the same event.
const overflowPeriod = time.Minute

// OverflowEvent is the record of the spanmetrics.overflow event: a
// tenant's spans began to be counted as __overflow__.
type OverflowEvent struct {
	Instance     string `json:"instance"`
	MaxLabelSets int    `json:"max_label_sets"`
}

// OverflowEvents is the codec of overflow events.
var OverflowEvents = store.Codec[OverflowEvent]{Kind: store.KindFinding, Type: "spanmetrics.overflow", Version: 1}

func overflowEvent(tenant, instance string, limit int, now time.Time) (store.Event, error) {
	at := now.UTC().Truncate(overflowPeriod)
	return OverflowEvents.Event(store.Event{
		Tenant:   tenant,
		ID:       store.EventID(store.KindFinding, OverflowEvents.Type, tenant, instance, at.Format(time.RFC3339)),
		Subject:  "span metrics",
		Severity: "error",
		Time:     at,
		Summary: "span metrics: tenant " + tenant + " reached " + strconv.Itoa(limit) +
			" label sets; spans of further label sets are counted in the __overflow__ series",
	}, OverflowEvent{Instance: instance, MaxLabelSets: limit})
}
