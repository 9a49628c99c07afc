// Package cost owns what things cost: LLM token price tables and pricing a
// request from its token counts, GPU and instance hourly prices, and the
// unit economics of self-hosted inference, and repricing stored spans when
// prices change. Everything here is pure arithmetic on exact decimals;
// loading and storing live at the edges (Reprice reads and writes through
// store.SpanRepricer, the rest of its work is the pure PlanReprice).
package cost

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// Usage is what one request consumed. Input counts every prompt token,
// including the ones read from or written to a prompt cache (as OpenAI and
// the OpenTelemetry GenAI conventions count them); Output counts every
// generated token, reasoning included.
type Usage struct {
	Input       int64
	Output      int64
	CachedInput int64 // prompt tokens read from the cache
	CacheWrite  int64 // prompt tokens written to the cache
	Reasoning   int64 // output tokens spent reasoning
}

// TokenPrices are USD per token. A kind left unset (nil) is charged at the
// input price (cache reads and writes) or the output price (reasoning).
type TokenPrices struct {
	Input       decimal.Decimal
	Output      decimal.Decimal
	CachedInput *decimal.Decimal
	CacheWrite  *decimal.Decimal
	Reasoning   *decimal.Decimal
}

// Cost prices a usage: uncached input, cache reads, cache writes, output
// other than reasoning, and reasoning, each at its price.
func (p TokenPrices) Cost(u Usage) decimal.Decimal {
	or := func(d *decimal.Decimal, def decimal.Decimal) decimal.Decimal {
		if d != nil {
			return *d
		}
		return def
	}
	uncached := max(u.Input-u.CachedInput-u.CacheWrite, 0)
	visible := max(u.Output-u.Reasoning, 0)
	if p.Reasoning == nil {
		visible = u.Output
	}
	c := p.Input.Mul(decimal.NewFromInt(uncached)).
		Add(or(p.CachedInput, p.Input).Mul(decimal.NewFromInt(u.CachedInput))).
		Add(or(p.CacheWrite, p.Input).Mul(decimal.NewFromInt(u.CacheWrite))).
		Add(p.Output.Mul(decimal.NewFromInt(visible)))
	if p.Reasoning != nil {
		c = c.Add(p.Reasoning.Mul(decimal.NewFromInt(u.Reasoning)))
	}
	return c
}

// Tokens names the token count a tier condition tests.
type Tokens string

const (
	InputTokens  Tokens = "input"
	OutputTokens Tokens = "output"
)

// Op is how a tier condition compares a token count to its value, named
// as price files write it.
type Op string

const (
	GreaterThan    Op = "gt"
	GreaterOrEqual Op = "gte"
	LessThan       Op = "lt"
	LessOrEqual    Op = "lte"
	Equal          Op = "eq"
	NotEqual       Op = "neq"
)

// holds reports whether v compares to limit by the op; false for an op
// that is none of these.
func (o Op) holds(v, limit int64) bool {
	switch o {
	case GreaterThan:
		return v > limit
	case GreaterOrEqual:
		return v >= limit
	case LessThan:
		return v < limit
	case LessOrEqual:
		return v <= limit
	case Equal:
		return v == limit
	case NotEqual:
		return v != limit
	}
	return false
}

// Condition is a tier's test on the usage, e.g. input > 200000.
type Condition struct {
	Usage Tokens
	Op    Op
	Value int64
}

func (c Condition) holds(u Usage) bool {
	v := u.Input
	if c.Usage == OutputTokens {
		v = u.Output
	}
	return c.Op.holds(v, c.Value)
}

func (c Condition) validate() error {
	if c.Usage != InputTokens && c.Usage != OutputTokens {
		return fmt.Errorf("condition on %q: want input or output", c.Usage)
	}
	switch c.Op {
	case GreaterThan, GreaterOrEqual, LessThan, LessOrEqual, Equal, NotEqual:
		return nil
	}
	return fmt.Errorf("condition operator %q: want gt, gte, lt, lte, eq or neq", c.Op)
}

// Tier is a set of prices that applies when all its conditions hold.
type Tier struct {
	Name       string
	Conditions []Condition
	Prices     TokenPrices
}

// ModelPrice prices one model (or family, by pattern) over a validity
// period, for every tenant or for one.
type ModelPrice struct {
	Model      string
	Provider   string
	Pattern    *regexp.Regexp // nil matches Model exactly, ignoring case and a "provider/" prefix
	Tenant     string         // "" applies to every tenant; a tenant's own row wins
	ValidFrom  time.Time      // zero: always
	ValidUntil time.Time      // zero: open-ended
	// Tiers are tried from the last to the first; the first tier is the
	// default and has no conditions.
	Tiers []Tier
	// Source says where the row came from (file, format), for listings.
	Source string
}

func (m *ModelPrice) matches(model string) bool {
	if m.Pattern != nil {
		return m.Pattern.MatchString(model)
	}
	if strings.EqualFold(model, m.Model) {
		return true
	}
	if i := strings.IndexByte(model, '/'); i >= 0 {
		return strings.EqualFold(model[i+1:], m.Model)
	}
	return false
}

func (m *ModelPrice) validAt(t time.Time) bool {
	return (m.ValidFrom.IsZero() || !t.Before(m.ValidFrom)) && (m.ValidUntil.IsZero() || t.Before(m.ValidUntil))
}

// prices picks the tier for a usage.
func (m *ModelPrice) prices(u Usage) TokenPrices {
	for i := len(m.Tiers) - 1; i > 0; i-- {
		all := true
		for _, c := range m.Tiers[i].Conditions {
			all = all && c.holds(u)
		}
		if all {
			return m.Tiers[i].Prices
		}
	}
	return m.Tiers[0].Prices
}

func (m *ModelPrice) validate() error {
	if m.Model == "" {
		return fmt.Errorf("a price row has no model name")
	}
	if len(m.Tiers) == 0 {
		return fmt.Errorf("model %s: no prices", m.Model)
	}
	if len(m.Tiers[0].Conditions) > 0 {
		return fmt.Errorf("model %s: the first (default) tier must have no conditions", m.Model)
	}
	for _, t := range m.Tiers {
		for _, c := range t.Conditions {
			if err := c.validate(); err != nil {
				return fmt.Errorf("model %s, tier %q: %w", m.Model, t.Name, err)
			}
		}
		if t.Prices.Input.IsNegative() || t.Prices.Output.IsNegative() {
			return fmt.Errorf("model %s, tier %q: negative price", m.Model, t.Name)
		}
	}
	if !m.ValidUntil.IsZero() && !m.ValidUntil.After(m.ValidFrom) {
		return fmt.Errorf("model %s: valid_until is not after valid_from", m.Model)
	}
	return nil
}

// PriceTable finds the price of a model call. Rows added later win over
// earlier ones for the same model, so a user's file overrides the built-in
// defaults. It is safe for concurrent use.
type PriceTable struct {
	rows []*ModelPrice

	mu      sync.Mutex
	unknown map[string]uint64 // guarded by mu: unpriced model -> calls
}

// NewPriceTable returns an empty table.
func NewPriceTable() *PriceTable { return &PriceTable{unknown: map[string]uint64{}} }

// Add appends rows after checking them.
func (t *PriceTable) Add(rows ...*ModelPrice) error {
	for _, r := range rows {
		if err := r.validate(); err != nil {
			return err
		}
	}
	t.rows = append(t.rows, rows...)
	return nil
}

// Lookup returns the row that prices model for tenant at time at: the
// tenant's own rows before everyone's, later-added rows before earlier
// ones, and among those the one valid at that time.
func (t *PriceTable) Lookup(tenant, model string, at time.Time) (*ModelPrice, bool) {
	var best *ModelPrice
	for i := len(t.rows) - 1; i >= 0; i-- {
		r := t.rows[i]
		if (r.Tenant != "" && r.Tenant != tenant) || !r.validAt(at) || !r.matches(model) {
			continue
		}
		if best == nil || (best.Tenant == "" && r.Tenant != "") {
			best = r
		}
	}
	return best, best != nil
}

// Price prices a call. A model without a price is counted (see Unknown)
// and reported with ok false: never priced at zero silently.
func (t *PriceTable) Price(tenant, model string, at time.Time, u Usage) (c decimal.Decimal, ok bool) {
	r, ok := t.Lookup(tenant, model, at)
	if !ok {
		t.mu.Lock()
		t.unknown[model]++
		t.mu.Unlock()
		return decimal.Zero, false
	}
	return r.prices(u).Cost(u), true
}

// UnknownModel is a model that calls were seen for without a price.
type UnknownModel struct {
	Model string
	Calls uint64
}

// Unknown lists models seen without a price, most calls first.
func (t *PriceTable) Unknown() []UnknownModel {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]UnknownModel, 0, len(t.unknown))
	for m, n := range t.unknown {
		out = append(out, UnknownModel{m, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Calls != out[j].Calls {
			return out[i].Calls > out[j].Calls
		}
		return out[i].Model < out[j].Model
	})
	return out
}

// Rows returns the table's rows in the order they were added.
func (t *PriceTable) Rows() []*ModelPrice { return append([]*ModelPrice(nil), t.rows...) }
