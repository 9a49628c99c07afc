package store

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/shopspring/decimal"
)

// Repricing recomputes the cost of model spans after prices change.
//
// Why the backends rewrite the cost column in place, and how that stays
// correct:
//
//   - The alternative, a table of cost overrides keyed by span identity that
//     every reader prefers, would put a join (and on ClickHouse a FINAL) on
//     every cost read, and every reader of spans (usage sums, traces, the
//     Jaeger API) would have to learn it. Rewriting the column keeps readers
//     as they are and as fast as they are.
//   - The new cost is an expression over the span's own columns (tenant,
//     model, start, token counts, the caller's cost attribute), one branch
//     per price row and tier, never a value computed elsewhere and copied
//     in. So the rewrite is idempotent: running it again, or running it
//     twice at once, sets the same values. On ClickHouse it is one
//     ALTER TABLE ... UPDATE mutation per batch of rules; mutations are
//     persisted by the server when accepted and finish even if Vigil dies,
//     and a run cut short between batches is finished by running it again.
//     On DuckDB the measuring and the UPDATE are one transaction.
//   - Concurrent ingestion: a ClickHouse mutation rewrites the parts that
//     exist when it is accepted; spans inserted afterwards keep the cost the
//     collector gave them at ingest. Load the new prices into the collectors
//     first (--cost.price-file), then reprice the past. The embedded store
//     is open in one process only, so there is nothing concurrent there.
//   - Exactness: ingest prices a span as an exact decimal, rounded to
//     MoneyScale places. A per-token price with at most MoneyScale places
//     times an integer token count is exact at MoneyScale places in both
//     databases, so the SQL gives the same cost to the last digit. Rules
//     whose prices have more places are refused rather than rounded
//     differently.

// CallerCostAttribute is the span (or resource) attribute through which a
// caller supplies a cost it computed itself; such a cost wins at ingest and
// is never repriced.
const CallerCostAttribute = "gen_ai.usage.cost"

// CallerCostPattern matches the attribute values the collector accepts as a
// caller's cost: the numbers shopspring/decimal's NewFromString parses
// (ASCII or Unicode minus, optional point, optional exponent). Values it
// does not match were priced at ingest from tokens and are repriced. The
// two disagree only on amounts beyond ±10^26 or exponents beyond ±999,
// which are no one's cost (see the fuzz test).
const CallerCostPattern = `^(\+|-|−)?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?0*[0-9]{1,3})?$`

var callerCostRE = regexp.MustCompile(CallerCostPattern)

// IsCallerCost reports whether an attribute value is a cost the collector
// took from the caller, by CallerCostPattern.
func IsCallerCost(v string) bool { return callerCostRE.MatchString(v) }

// RepriceQuery selects the model spans of a repricing: spans with a model
// starting in [Start, End), of one tenant or ("" ) of every tenant.
type RepriceQuery struct {
	Tenant     string
	Start, End time.Time
}

// SpanCostSummary describes the model spans of one tenant and model in a
// range, as they are stored now.
type SpanCostSummary struct {
	Tenant, Model string
	Spans         uint64          // every span with this model
	CallerPriced  uint64          // spans whose caller supplied the cost
	NoTokens      uint64          // spans with no input or output tokens: not priced at ingest either
	Cost          decimal.Decimal // sum of the cost of every span
}

// TokenCondition is a tier's test on a span's token counts.
type TokenCondition struct {
	Tokens string // "input" or "output"
	Op     string // gt, gte, lt, lte, eq or neq
	Value  int64
}

// TokenRate is USD per token. A span costs
// Input×max(input−cached, 0) + CachedInput×cached + Output×output, which
// is how the collector prices a span at ingest (spans carry no cache-write
// or reasoning counts).
type TokenRate struct {
	Input, CachedInput, Output decimal.Decimal
}

// RateTier is a rate that applies when all its conditions hold.
type RateTier struct {
	When []TokenCondition
	Rate TokenRate
}

// RepriceRule prices the spans of one tenant and model starting in
// [Start, End) that have tokens and no caller-supplied cost. As in a price
// table, Tiers[0] is the default and has no conditions; the others are
// tried from the last to the first. A rule with no tiers is an unpriced
// model: its spans are counted and keep the cost they have.
type RepriceRule struct {
	Tenant, Model string
	Start, End    time.Time
	Tiers         []RateTier
}

// RepriceTally is what a rule covers: spans and the sum of their cost now
// (Before) and as the rule prices them (After; equal to Before for an
// unpriced rule).
type RepriceTally struct {
	Spans         uint64
	Before, After decimal.Decimal
}

// SpanRepricer recomputes span costs. It is separate from SpanWriter
// because it rewrites stored rows, which nothing else does.
type SpanRepricer interface {
	// SpanCosts summarises the model spans in the range by tenant and
	// model, ordered by tenant, then model.
	SpanCosts(ctx context.Context, q RepriceQuery) ([]SpanCostSummary, error)
	// Reprice tallies each rule (one tally per rule, in order) and, unless
	// dryRun, sets the cost of the spans each rule prices. When it returns
	// nil without dryRun, readers see the new costs. The rules of one call
	// must not overlap (same tenant and model, overlapping times).
	Reprice(ctx context.Context, rules []RepriceRule, dryRun bool) ([]RepriceTally, error)
}

// ValidateRepriceRules checks rules before a backend turns them into SQL.
func ValidateRepriceRules(rules []RepriceRule) error {
	for i, r := range rules {
		where := fmt.Sprintf("reprice rule %d (tenant %q, model %q)", i, r.Tenant, r.Model)
		if r.Model == "" {
			return fmt.Errorf("%s: no model", where)
		}
		if !r.End.After(r.Start) {
			return fmt.Errorf("%s: end %s is not after start %s", where, r.End.Format(time.RFC3339Nano), r.Start.Format(time.RFC3339Nano))
		}
		if len(r.Tiers) > 0 && len(r.Tiers[0].When) > 0 {
			return fmt.Errorf("%s: the first (default) tier has conditions", where)
		}
		for _, t := range r.Tiers {
			for _, c := range t.When {
				if c.Tokens != "input" && c.Tokens != "output" {
					return fmt.Errorf("%s: condition on %q tokens: want input or output", where, c.Tokens)
				}
				if c.Operator() == "" {
					return fmt.Errorf("%s: condition operator %q: want gt, gte, lt, lte, eq or neq", where, c.Op)
				}
			}
			for _, p := range []decimal.Decimal{t.Rate.Input, t.Rate.CachedInput, t.Rate.Output} {
				if !p.Equal(p.Truncate(MoneyScale)) {
					return fmt.Errorf("%s: price %s per token has more than %d decimal places, which the store cannot multiply exactly as ingest does; round the price file", where, p, MoneyScale)
				}
				if _, err := Money(p); err != nil {
					return fmt.Errorf("%s: %w", where, err)
				}
			}
		}
	}
	return nil
}

var conditionOps = map[string]string{"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=", "neq": "!="}

// Operator is the comparison c.Op names (">", ">=", ...), the same in Go
// and SQL, or "" when it names none.
func (c TokenCondition) Operator() string { return conditionOps[c.Op] }

// RepriceBounds is the smallest range covering every rule, for the
// partition pruning both backends do.
func RepriceBounds(rules []RepriceRule) (start, end time.Time) {
	for i, r := range rules {
		if i == 0 || r.Start.Before(start) {
			start = r.Start
		}
		if i == 0 || r.End.After(end) {
			end = r.End
		}
	}
	return start, end
}

// SortSpanCostSummaries orders summaries by tenant, then model.
func SortSpanCostSummaries(s []SpanCostSummary) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Tenant != s[j].Tenant {
			return s[i].Tenant < s[j].Tenant
		}
		return s[i].Model < s[j].Model
	})
}
