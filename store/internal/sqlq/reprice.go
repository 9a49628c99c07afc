package sqlq

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
)

// The SQL of repricing (see store/reprice.go for why the cost column is
// rewritten in place). A backend runs Tally and RepriceUpdate in its own
// write path: ClickHouse as a mutation it waits for, DuckDB in a
// transaction with the tally.

// callerCost is the caller's cost attribute: the span's when set, else the
// resource's, else the empty string.
func callerCost(d Dialect) string {
	key := "'" + store.CallerCostAttribute + "'" // a constant with no quote in it
	span := d.lookup("attr_keys", "attr_values", key)
	return "CASE WHEN " + span + " <> '' THEN " + span + " ELSE " + d.lookup("resource_keys", "resource_values", key) + " END"
}

// callerPriced is true for spans whose cost the caller supplied, which are
// never repriced; it takes store.CallerCostPattern as its argument.
func callerPriced(d Dialect) string { return d.match(callerCost(d), "?") }

// SpanCosts summarises model spans by tenant and model.
func (r *Reader) SpanCosts(ctx context.Context, q store.RepriceQuery) ([]store.SpanCostSummary, error) {
	var c conds
	c.spansStarting(r.d, q.Start, q.End)
	c.add("model <> ''")
	if q.Tenant != "" {
		c.add("tenant = ?", q.Tenant)
	}
	caller := callerPriced(r.d)
	query := Query{
		SQL: "SELECT tenant, model, count(*), " + r.d.countIf(caller) + ", " +
			r.d.countIf("NOT "+caller+" AND NOT (input_tokens > 0 OR output_tokens > 0)") + ", sum(cost)" +
			" FROM spans WHERE " + c.String() + " GROUP BY tenant, model",
		Args: append([]any{store.CallerCostPattern, store.CallerCostPattern}, c.args...),
	}
	var m store.SpanCostSummary
	out, err := collect(ctx, r, "summarise span costs", query, []any{&m.Tenant, &m.Model, &m.Spans, &m.CallerPriced, &m.NoTokens, r.conn.Money(&m.Cost)},
		func() (store.SpanCostSummary, error) { return m, nil })
	if err != nil {
		return nil, err
	}
	store.SortSpanCostSummaries(out)
	return out, nil
}

// Tally counts and sums each rule's spans now and as repriced, in one
// scan of conn (a connection, or a backend's transaction).
func Tally(ctx context.Context, d Dialect, conn Conn, rules []store.RepriceRule) ([]store.RepriceTally, error) {
	rule, cost, where := repriceSQL(d, rules)
	query := Query{
		SQL: "SELECT " + d.cast(rule.SQL, typeInt64) + " AS rule, count(*), sum(cost), sum(" + cost.SQL + ")" +
			" FROM spans WHERE " + where.SQL + " GROUP BY rule",
		Args: slices.Concat(rule.Args, cost.Args, where.Args),
	}
	out := make([]store.RepriceTally, len(rules))
	for i := range out {
		out[i].Before, out[i].After = decimal.Zero, decimal.Zero
	}
	r := &Reader{d: d, conn: conn}
	var i int64
	var t store.RepriceTally
	err := r.each(ctx, "tally spans to reprice", query, []any{&i, &t.Spans, conn.Money(&t.Before), conn.Money(&t.After)}, func() error {
		if i > 0 && int(i) <= len(out) {
			out[i-1] = t
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, ru := range rules {
		if len(ru.Tiers) == 0 {
			out[i].After = out[i].Before
		}
	}
	return out, nil
}

// RepriceUpdate sets the cost of the spans the rules price to the very
// expression Tally reports as After, so the stored costs are the ones
// reported.
func RepriceUpdate(d Dialect, rules []store.RepriceRule) Query {
	_, cost, where := repriceSQL(d, rules)
	return Query{SQL: d.update("spans", "cost = "+cost.SQL, where.SQL), Args: slices.Concat(cost.Args, where.Args)}
}

// repriceSQL builds the parts of a repricing:
//   - rule: the 1-based index of the rule a span belongs to, 0 for none;
//   - cost: the span's new cost (its current one outside every priced rule);
//   - where: the spans of any rule, within the time the rules cover.
func repriceSQL(d Dialect, rules []store.RepriceRule) (rule, cost, where Query) {
	caller := callerPriced(d)
	preds := make([]string, len(rules))
	predArgs := make([][]any, len(rules))
	for i, r := range rules {
		preds[i] = "(tenant = ? AND model = ? AND start_ns >= " + strconv.FormatInt(r.Start.UnixNano(), 10) +
			" AND start_ns < " + strconv.FormatInt(r.End.UnixNano(), 10) +
			" AND (input_tokens > 0 OR output_tokens > 0) AND NOT " + caller + ")"
		predArgs[i] = []any{r.Tenant, r.Model, store.CallerCostPattern}
	}
	var rb, cb sqlBuilder
	rb.write("CASE")
	for i, p := range preds {
		rb.write(" WHEN "+p, predArgs[i]...)
		rb.write(" THEN " + strconv.Itoa(i+1))
	}
	rb.write(" ELSE 0 END")

	cb.write("CASE")
	priced := 0
	for i, p := range preds {
		if len(rules[i].Tiers) > 0 {
			priced++
			cb.write(" WHEN "+p, predArgs[i]...)
			cb.write(" THEN " + tierSQL(rules[i].Tiers))
		}
	}
	cb.write(" ELSE cost END")
	if priced == 0 {
		cb = sqlBuilder{}
		cb.write("cost")
	}

	// The bounds of every rule, outside the OR, so that both databases
	// skip the partitions and row groups no rule covers.
	var c conds
	start, end := store.RepriceBounds(rules)
	c.spansStarting(d, start, end)
	var ofAny sqlBuilder
	ofAny.write("(")
	for i, p := range preds {
		if i > 0 {
			ofAny.write(" OR ")
		}
		ofAny.write(p, predArgs[i]...)
	}
	if len(preds) == 0 {
		ofAny.write("1 = 0")
	}
	ofAny.write(")")
	c.add(ofAny.b.String(), ofAny.args...)
	return rb.query(), cb.query(), Query{SQL: c.String(), Args: c.args}
}

// tierSQL is the cost of a span under a rule's tiers, tried from the last
// to the first as a price table does.
func tierSQL(tiers []store.RateTier) string {
	if len(tiers) == 1 {
		return rateSQL(tiers[0].Rate)
	}
	var b strings.Builder
	b.WriteString("CASE")
	for i := len(tiers) - 1; i > 0; i-- {
		b.WriteString(" WHEN ")
		if len(tiers[i].When) == 0 {
			b.WriteString("1 = 1")
		}
		for j, c := range tiers[i].When {
			if j > 0 {
				b.WriteString(" AND ")
			}
			fmt.Fprintf(&b, "%s_tokens %s %d", c.Tokens, c.Operator(), c.Value)
		}
		b.WriteString(" THEN " + rateSQL(tiers[i].Rate))
	}
	b.WriteString(" ELSE " + rateSQL(tiers[0].Rate) + " END")
	return b.String()
}

// rateSQL multiplies exact prices (validated to fit store.MoneyScale
// places) by integer token counts, so the product is exact at MoneyScale
// places, as ingest computes it.
func rateSQL(r store.TokenRate) string {
	lit := func(d decimal.Decimal) string {
		return fmt.Sprintf("CAST('%s' AS Decimal(38, %d))", d.StringFixed(store.MoneyScale), store.MoneyScale)
	}
	return "(" + lit(r.Input) + " * greatest(input_tokens - cached_tokens, 0) + " +
		lit(r.CachedInput) + " * cached_tokens + " + lit(r.Output) + " * output_tokens)"
}

// sqlBuilder writes a statement piece by piece with its arguments.
type sqlBuilder struct {
	b    strings.Builder
	args []any
}

func (s *sqlBuilder) write(sql string, args ...any) {
	s.b.WriteString(sql)
	s.args = append(s.args, args...)
}

func (s *sqlBuilder) query() Query { return Query{SQL: s.b.String(), Args: s.args} }
