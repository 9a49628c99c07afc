package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/sqlq"
)

// On ClickHouse, repricing is an ALTER TABLE spans UPDATE cost = ...
// mutation (see store/reprice.go for why the column is rewritten in place).
// Mutations run in the background: Reprice waits until system.mutations
// says the table has none left to do, so that when it returns the new costs
// are what readers see. In a cluster the mutation runs ON CLUSTER on the
// local tables, and Reprice waits for it on the replica of each shard that
// reads go to (the first one alive, as load_balancing in_order picks).

// repriceBatch is how many rules go into one mutation: every mutation
// rewrites the parts it touches, so fewer, larger ones are cheaper, while
// the statement stays far below max_query_size.
const repriceBatch = 100

// mutationPoll is how often Reprice looks at system.mutations.
const mutationPoll = 100 * time.Millisecond

// Reprice tallies the rules and, unless dryRun, rewrites the cost column
// with one mutation per batch of rules, waiting for each to finish.
func (s *Store) Reprice(ctx context.Context, rules []store.RepriceRule, dryRun bool) ([]store.RepriceTally, error) {
	if err := store.ValidateRepriceRules(rules); err != nil {
		return nil, err
	}
	tallies := make([]store.RepriceTally, 0, len(rules))
	for len(rules) > 0 {
		batch := rules[:min(repriceBatch, len(rules))]
		rules = rules[len(batch):]
		t, err := sqlq.Tally(ctx, s.dialect, sqlConn{s.conn}, batch)
		if err != nil {
			return nil, err
		}
		tallies = append(tallies, t...)
		if dryRun || !anyPriced(batch) {
			continue
		}
		update := sqlq.RepriceUpdate(s.dialect, batch)
		if err := s.conn.Exec(ctx, update.SQL, update.Args...); err != nil {
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

// waitMutations waits until the spans table has no unfinished mutation.
// ClickHouse 18.16 keeps retrying a mutation that fails and has no column
// saying why, so a stuck one shows as parts left to do when ctx ends.
func (s *Store) waitMutations(ctx context.Context) error {
	mutations := "system.mutations"
	if s.ddl.cluster != "" {
		mutations = "cluster(" + quoteString(s.ddl.cluster) + ", system, mutations)"
	}
	for {
		rows, err := s.conn.Query(ctx, `SELECT mutation_id, parts_to_do FROM `+mutations+`
			WHERE database = ? AND table = ? AND is_done = 0`, s.ddl.database, s.ddl.local("spans"))
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
