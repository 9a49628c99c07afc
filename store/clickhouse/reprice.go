package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
)

// On ClickHouse, repricing is an ALTER TABLE spans UPDATE cost = ...
// mutation (see store/reprice.go for why the column is rewritten in place).
// Mutations run in the background: Reprice waits until system.mutations
// says the table has none left to do, so that when it returns the new costs
// are what readers see.

// callerCost is the caller's cost attribute: the span's when set, else the
// resource's (indexOf is 0 when the key is absent, and element 0 is ”).
const callerCost = `if(attr_values[indexOf(attr_keys, '` + store.CallerCostAttribute + `')] != '', ` +
	`attr_values[indexOf(attr_keys, '` + store.CallerCostAttribute + `')], ` +
	`resource_values[indexOf(resource_keys, '` + store.CallerCostAttribute + `')])`

var repriceDialect = store.RepriceDialect{
	CallerCost: callerCost,
	Match:      func(expr string) string { return "match(" + expr + ", ?)" },
}

// repriceBatch is how many rules go into one mutation: every mutation
// rewrites the parts it touches, so fewer, larger ones are cheaper, while
// the statement stays far below max_query_size.
const repriceBatch = 100

// mutationPoll is how often Reprice looks at system.mutations.
const mutationPoll = 100 * time.Millisecond

// SpanCosts summarises model spans by tenant and model.
func (s *Store) SpanCosts(ctx context.Context, q store.RepriceQuery) ([]store.SpanCostSummary, error) {
	from, to := secondsRange(q.Start, q.End)
	where := []string{"timestamp >= ?", "timestamp <= ?", "start_ns >= ?", "start_ns < ?", "model != ''"}
	args := []any{from, to, q.Start.UnixNano(), q.End.UnixNano()}
	if q.Tenant != "" {
		where = append(where, "tenant = ?")
		args = append(args, q.Tenant)
	}
	caller := repriceDialect.Match(callerCost)
	query := `SELECT tenant, model, count(), countIf(` + caller + `),
		countIf(NOT ` + caller + ` AND NOT (input_tokens > 0 OR output_tokens > 0)), sum(cost)
		FROM spans WHERE ` + strings.Join(where, " AND ") + ` GROUP BY tenant, model`
	args = append([]any{store.CallerCostPattern, store.CallerCostPattern}, args...)
	rows, err := s.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot summarise span costs: %w", err)
	}
	defer rows.Close()
	var out []store.SpanCostSummary
	for rows.Next() {
		var m store.SpanCostSummary
		if err := rows.Scan(&m.Tenant, &m.Model, &m.Spans, &m.CallerPriced, &m.NoTokens, &m.Cost); err != nil {
			return nil, fmt.Errorf("cannot summarise span costs: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot summarise span costs: %w", err)
	}
	store.SortSpanCostSummaries(out)
	return out, nil
}

// Reprice tallies the rules and, unless dryRun, rewrites the cost column
// with one mutation per batch of rules, waiting for each to finish.
func (s *Store) Reprice(ctx context.Context, rules []store.RepriceRule, dryRun bool) ([]store.RepriceTally, error) {
	if err := store.ValidateRepriceRules(rules); err != nil {
		return nil, err
	}
	if !dryRun && s.ddl.cluster != "" {
		// A mutation would have to run ON CLUSTER against every shard's
		// local table and be awaited on every replica; not built yet.
		return nil, fmt.Errorf("repricing spans on ClickHouse cluster %s: %w (use --dry-run to see what it would change)", s.ddl.cluster, errors.ErrUnsupported)
	}
	tallies := make([]store.RepriceTally, 0, len(rules))
	for len(rules) > 0 {
		batch := rules[:min(repriceBatch, len(rules))]
		rules = rules[len(batch):]
		t, err := s.tally(ctx, batch)
		if err != nil {
			return nil, err
		}
		tallies = append(tallies, t...)
		if dryRun || !anyPriced(batch) {
			continue
		}
		_, cost, where := store.RepriceSQL(batch, repriceDialect)
		from, to := secondsRange(store.RepriceBounds(batch))
		// The same expression that tallied After, so the stored costs are the
		// ones reported. The timestamp bounds let 18.16 skip other partitions.
		stmt := `ALTER TABLE spans UPDATE cost = ` + cost.SQL + ` WHERE timestamp >= ? AND timestamp <= ? AND ` + where.SQL
		args := append(append(append([]any(nil), cost.Args...), from, to), where.Args...)
		if err := s.conn.Exec(ctx, stmt, args...); err != nil {
			return nil, fmt.Errorf("cannot start repricing mutation on spans: %w", err)
		}
		if err := s.waitMutations(ctx); err != nil {
			return nil, err
		}
	}
	return tallies, nil
}

func anyPriced(rules []store.RepriceRule) bool {
	for _, r := range rules {
		if len(r.Tiers) > 0 {
			return true
		}
	}
	return false
}

// tally counts and sums each rule's spans now and as repriced, in one scan.
func (s *Store) tally(ctx context.Context, rules []store.RepriceRule) ([]store.RepriceTally, error) {
	rule, cost, where := store.RepriceSQL(rules, repriceDialect)
	from, to := secondsRange(store.RepriceBounds(rules))
	query := `SELECT CAST(` + rule.SQL + ` AS UInt32) AS rule, count(), sum(cost), sum(` + cost.SQL + `) FROM spans
		WHERE timestamp >= ? AND timestamp <= ? AND ` + where.SQL + ` GROUP BY rule`
	args := append(append(append(append([]any(nil), rule.Args...), cost.Args...), from, to), where.Args...)
	rows, err := s.conn.Query(ctx, query, args...)
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
			i             uint32
			n             uint64
			before, after decimal.Decimal
		)
		if err := rows.Scan(&i, &n, &before, &after); err != nil {
			return nil, fmt.Errorf("cannot tally spans to reprice: %w", err)
		}
		if i == 0 || int(i) > len(out) {
			continue
		}
		out[i-1] = store.RepriceTally{Spans: n, Before: before, After: after}
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

// waitMutations waits until the spans table has no unfinished mutation.
// ClickHouse 18.16 keeps retrying a mutation that fails and has no column
// saying why, so a stuck one shows as parts left to do when ctx ends.
func (s *Store) waitMutations(ctx context.Context) error {
	for {
		rows, err := s.conn.Query(ctx, `SELECT mutation_id, parts_to_do FROM system.mutations
			WHERE database = ? AND table = 'spans' AND is_done = 0`, s.ddl.database)
		if err != nil {
			return fmt.Errorf("cannot read system.mutations: %w", err)
		}
		var pending []string
		for rows.Next() {
			var id string
			var parts int64
			if err := rows.Scan(&id, &parts); err != nil {
				rows.Close()
				return fmt.Errorf("cannot read system.mutations: %w", err)
			}
			pending = append(pending, fmt.Sprintf("%s (%d parts to do)", id, parts))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("cannot read system.mutations: %w", err)
		}
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("repricing mutation on %s.spans not finished: %s: %w (it goes on in the server; see system.mutations, or KILL MUTATION)", s.ddl.database, strings.Join(pending, ", "), ctx.Err())
		case <-time.After(mutationPoll):
		}
	}
}
