// Package spanmetrics turns every span the collector accepts into
// Prometheus series, as the OpenTelemetry collector's spanmetrics
// connector and Tempo's metrics generator do, so PromQL reads request
// rates, latency histograms, tokens and cost without the user sending
// metrics:
//
//	vigil_span_calls_total
//	vigil_span_duration_seconds_bucket / _sum / _count
//	vigil_genai_tokens_total{type="input"|"output"|"cached"}
//	vigil_genai_cost_total (USD)
//
// each per service, operation, model, deployment and status, in the
// span's tenant, and per collector instance (collector_instance): the
// counters are cumulative in each collector's memory, so two replicas
// keep two series instead of writing one series' samples out of order,
// and PromQL's sum(rate(...)) adds them up. A restart resumes the
// counters from the last values this instance wrote (Resume); a series
// that sees no span for the expiry is ended with a staleness marker and
// forgotten.
//
// Each tenant has a bound on its label sets: spans of a label set beyond
// it are counted in one series whose every label is __overflow__, never
// dropped, and the first overflow is logged, counted and recorded as an
// event.
package spanmetrics

import (
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
)

// Metric names.
const (
	CallsName    = "vigil_span_calls_total"
	DurationName = "vigil_span_duration_seconds"
	TokensName   = "vigil_genai_tokens_total"
	CostName     = "vigil_genai_cost_total"
)

// InstanceLabel names the collector that counted a series.
const InstanceLabel = "collector_instance"

// Overflow is the value of every label of the series that counts the
// spans of label sets beyond a tenant's limit.
const Overflow = "__overflow__"

// DurationBounds is the duration histogram's layout, "native schema 0":
// its upper bounds are the powers of two from 2^-10 s (about 1 ms) to
// 2^6 s (64 s, for slow model calls), which are bucket boundaries of a
// native histogram of schema 0. Each classic bucket is one native bucket,
// so native histograms can follow without changing what was counted.
var DurationBounds = func() []float64 {
	b := make([]float64, 0, 17)
	for e := -10; e <= 6; e++ {
		b = append(b, math.Ldexp(1, e))
	}
	return b
}()

// key is a label set: the dimensions one span counts under.
type key struct {
	service, operation, model, deployment, status string
}

var overflowKey = key{Overflow, Overflow, Overflow, Overflow, Overflow}

func keyOf(s *store.Span) key {
	return key{s.Service, s.Operation, s.Model, s.Deployment, s.StatusCode.String()}
}

// counts are one label set's cumulative totals.
type counts struct {
	calls   uint64
	buckets []uint64 // per bucket (not cumulative), the last for (2^6 s, +Inf]
	seconds float64
	tokens  [3]int64 // input, output, cached
	cost    decimal.Decimal
	genai   bool      // a model call was counted: the genai series exist
	last    time.Time // when the last span was counted
	series  *seriesSet
}

func newCounts() *counts { return &counts{buckets: make([]uint64, len(DurationBounds)+1)} }

func (c *counts) add(s *store.Span, now time.Time) {
	c.calls++
	sec := float64(s.DurationNano) / 1e9
	c.seconds += sec
	b := 0
	for b < len(DurationBounds) && sec > DurationBounds[b] {
		b++
	}
	c.buckets[b]++
	c.tokens[0] += s.InputTokens
	c.tokens[1] += s.OutputTokens
	c.tokens[2] += s.CachedTokens
	c.cost = c.cost.Add(s.Cost)
	c.genai = c.genai || s.Model != "" || s.InputTokens != 0 || s.OutputTokens != 0 || !s.Cost.IsZero()
	c.last = now
}

// tenant is one tenant's label sets.
type tenant struct {
	sets map[key]*counts
	// overflowing is set while the tenant is at its limit, so the event
	// and the log line come once per episode, not once per span.
	overflowing bool
}

// Options configure a Generator.
type Options struct {
	// Instance is this collector's collector_instance label: stable
	// across restarts (so Resume finds its series) and unique among
	// replicas sharing a store.
	Instance string
	// MaxLabelSets bounds each tenant's label sets; 0 means 2000.
	MaxLabelSets int
	// Expiry ends a label set that has seen no span for this long; 0
	// means 10 minutes.
	Expiry  time.Duration
	Metrics *Metrics // nil: none
	Logger  *slog.Logger
	// Now is the clock samples are stamped with; nil means time.Now.
	Now func() time.Time
}

// Generator counts spans into cumulative series. It is safe for
// concurrent use.
type Generator struct {
	opts Options

	mu      sync.Mutex
	tenants map[string]*tenant // guarded by mu
	events  []store.Event      // overflow events not yet written; guarded by mu
}

// New returns an empty generator.
func New(o Options) *Generator {
	if o.MaxLabelSets == 0 {
		o.MaxLabelSets = 2000
	}
	if o.Expiry == 0 {
		o.Expiry = 10 * time.Minute
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Generator{opts: o, tenants: map[string]*tenant{}}
}

// Add counts spans that the collector has made durable.
func (g *Generator) Add(spans []store.Span) {
	now := g.opts.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := range spans {
		s := &spans[i]
		g.setFor(s.Tenant, keyOf(s), now).add(s, now)
	}
}

// setFor returns the counts of a tenant's label set, or of its overflow
// series when the set is new and the tenant is at its limit. Call with
// g.mu held.
func (g *Generator) setFor(name string, k key, now time.Time) *counts {
	t := g.tenants[name]
	if t == nil {
		t = &tenant{sets: map[key]*counts{}}
		g.tenants[name] = t
	}
	if c := t.sets[k]; c != nil {
		return c
	}
	if g.liveSets(t) >= g.opts.MaxLabelSets {
		g.overflow(name, t, now)
		k = overflowKey
		if c := t.sets[k]; c != nil {
			return c
		}
	}
	c := newCounts()
	t.sets[k] = c
	g.opts.Metrics.LabelSets.WithLabelValues(name).Set(float64(g.liveSets(t)))
	return c
}

// liveSets is the label sets a tenant's limit counts: all but overflow.
func (g *Generator) liveSets(t *tenant) int {
	if _, ok := t.sets[overflowKey]; ok {
		return len(t.sets) - 1
	}
	return len(t.sets)
}

func (g *Generator) overflow(name string, t *tenant, now time.Time) {
	g.opts.Metrics.Overflow.WithLabelValues(name).Inc()
	if t.overflowing {
		return
	}
	t.overflowing = true
	g.opts.Logger.Error("span metrics label-set limit reached: further label sets are counted as __overflow__",
		"tenant", name, "limit", g.opts.MaxLabelSets, "instance", g.opts.Instance)
	ev, err := overflowEvent(name, g.opts.Instance, g.opts.MaxLabelSets, now)
	if err != nil {
		g.opts.Logger.Error("cannot record the overflow event", "err", err)
		return
	}
	g.events = append(g.events, ev)
}
