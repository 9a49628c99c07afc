package embedded

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
)

// On DuckDB, repricing is an UPDATE of the cost column in the same
// transaction as the tally (see store/reprice.go for why the column is
// rewritten in place): a crash leaves every span as it was, or every span
// repriced.

// callerCost is the caller's cost attribute: the span's when set, else the
// resource's (list_position is NULL when the key is absent).
const callerCost = `CASE WHEN coalesce(attr_values[list_position(attr_keys, '` + store.CallerCostAttribute + `')], '') <> '' ` +
	`THEN attr_values[list_position(attr_keys, '` + store.CallerCostAttribute + `')] ` +
	`ELSE coalesce(resource_values[list_position(resource_keys, '` + store.CallerCostAttribute + `')], '') END`

var repriceDialect = store.RepriceDialect{
	CallerCost: callerCost,
	Match:      func(expr string) string { return "regexp_full_match(" + expr + ", ?)" },
}

// SpanCosts summarises model spans by tenant and model.
func (s *Store) SpanCosts(ctx context.Context, q store.RepriceQuery) ([]store.SpanCostSummary, error) {
	where := []string{"start_ns >= ?", "start_ns < ?", "model <> ''"}
	args := []any{q.Start.UnixNano(), q.End.UnixNano()}
	if q.Tenant != "" {
		where = append(where, "tenant = ?")
		args = append(args, q.Tenant)
	}
	caller := repriceDialect.Match(callerCost)
	query := `SELECT tenant, model, count(*), count(*) FILTER (WHERE ` + caller + `),
		count(*) FILTER (WHERE NOT ` + caller + ` AND NOT (input_tokens > 0 OR output_tokens > 0)), sum(cost)
		FROM spans WHERE ` + strings.Join(where, " AND ") + ` GROUP BY tenant, model`
	args = append([]any{store.CallerCostPattern, store.CallerCostPattern}, args...)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot summarise span costs: %w", err)
	}
	defer rows.Close()
	var out []store.SpanCostSummary
	for rows.Next() {
		var m store.SpanCostSummary
		var c money
		if err := rows.Scan(&m.Tenant, &m.Model, &m.Spans, &m.CallerPriced, &m.NoTokens, &c); err != nil {
			return nil, fmt.Errorf("cannot summarise span costs: %w", err)
		}
		m.Cost = c.d
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot summarise span costs: %w", err)
	}
	store.SortSpanCostSummaries(out)
	return out, nil
}

// Reprice tallies the rules and, unless dryRun, updates the cost column,
// all in one transaction.
func (s *Store) Reprice(ctx context.Context, rules []store.RepriceRule, dryRun bool) ([]store.RepriceTally, error) {
	if err := store.ValidateRepriceRules(rules); err != nil {
		return nil, err
	}
	if len(rules) == 0 {
		return nil, nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot reprice spans: %w", err)
	}
	defer tx.Rollback()
	tallies, err := tally(ctx, tx, rules)
	if err != nil {
		return nil, err
	}
	if dryRun {
		return tallies, nil
	}
	_, cost, where := store.RepriceSQL(rules, repriceDialect)
	start, end := store.RepriceBounds(rules)
	// The same expression that tallied After, so the stored costs are the
	// ones reported.
	stmt := `UPDATE spans SET cost = ` + cost.SQL + ` WHERE day >= ? AND day <= ? AND ` + where.SQL
	args := append(append(append([]any(nil), cost.Args...), dayOf(start), dayOf(end)), where.Args...)
	if _, err := tx.ExecContext(ctx, stmt, args...); err != nil {
		return nil, fmt.Errorf("cannot reprice spans: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("cannot reprice spans: %w", err)
	}
	return tallies, nil
}

// tally counts and sums each rule's spans now and as repriced, in one scan.
func tally(ctx context.Context, tx *sql.Tx, rules []store.RepriceRule) ([]store.RepriceTally, error) {
	rule, cost, where := store.RepriceSQL(rules, repriceDialect)
	start, end := store.RepriceBounds(rules)
	query := `SELECT ` + rule.SQL + ` AS rule, count(*), sum(cost), sum(` + cost.SQL + `) FROM spans
		WHERE day >= ? AND day <= ? AND ` + where.SQL + ` GROUP BY rule`
	args := append(append(append(append([]any(nil), rule.Args...), cost.Args...), dayOf(start), dayOf(end)), where.Args...)
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot tally spans to reprice: %w", err)
	}
	defer rows.Close()
	out := make([]store.RepriceTally, len(rules))
	for i := range out {
		out[i].Before, out[i].After = decimal.Zero, decimal.Zero
	}
	for rows.Next() {
		var (
			i             int64
			n             uint64
			before, after money
		)
		if err := rows.Scan(&i, &n, &before, &after); err != nil {
			return nil, fmt.Errorf("cannot tally spans to reprice: %w", err)
		}
		if i <= 0 || int(i) > len(out) {
			continue
		}
		out[i-1] = store.RepriceTally{Spans: n, Before: before.d, After: after.d}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot tally spans to reprice: %w", err)
	}
	for i, r := range rules {
		if len(r.Tiers) == 0 {
			out[i].After = out[i].Before
		}
	}
	return out, nil
}
