package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/sqlq"
)

// On ClickHouse, repricing is an ALTER TABLE spans UPDATE cost = ...
// mutation (see store/reprice.go for why the column is rewritten in place).
// Mutations run in the background: Reprice waits until system.mutations
// says the table has none left to do, so that when it returns the new costs
// are what readers see. In a cluster the mutation goes to the local table
// of one replica of each shard (see onShards), and Reprice waits for it on the replica of each shard that
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
		if err := s.onShards(ctx, func(conn driver.Conn) error { return s.mutate(ctx, conn, update) }); err != nil {
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

// mutations lists the spans table's mutations on one server: their ids,
// and those not done yet.
func (s *Store) mutations(ctx context.Context, conn driver.Conn) (ids map[string]bool, pending []string, err error) {
	rows, err := conn.Query(ctx, `SELECT mutation_id, is_done, parts_to_do FROM system.mutations
		WHERE database = ? AND table = ?`, s.ddl.database, s.ddl.local("spans"))
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read system.mutations: %w", err)
	}
	defer rows.Close()
	ids = map[string]bool{}
	for rows.Next() {
		var (
			id    string
			done  uint8
			parts int64
		)
		if err := rows.Scan(&id, &done, &parts); err != nil {
			return nil, nil, fmt.Errorf("cannot read system.mutations: %w", err)
		}
		ids[id] = true
		if done == 0 {
			pending = append(pending, fmt.Sprintf("%s (%d parts to do)", id, parts))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("cannot read system.mutations: %w", err)
	}
	return ids, pending, nil
}

// mutate starts a mutation of the spans table on one server and waits
// until the server lists a mutation it did not list before and none
// unfinished. A replicated table lists a mutation only once the replica
// has taken it from ZooKeeper, which may be after the ALTER returned, so
// waiting for none unfinished alone returned before the mutation began.
// ClickHouse 18.16 keeps retrying a mutation that fails and has no column
// saying why, so a stuck one shows as parts left to do when ctx ends.
func (s *Store) mutate(ctx context.Context, conn driver.Conn, q sqlq.Query) error {
	before, _, err := s.mutations(ctx, conn)
	if err != nil {
		return err
	}
	if err := conn.Exec(ctx, q.SQL, q.Args...); err != nil {
		return fmt.Errorf("cannot start repricing mutation on spans: %w", err)
	}
	for {
		ids, pending, err := s.mutations(ctx, conn)
		if err != nil {
			return err
		}
		started := false
		for id := range ids {
			started = started || !before[id]
		}
		if started && len(pending) == 0 {
			return nil
		}
		if !started {
			pending = append(pending, "not listed yet")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("repricing mutation on %s.spans not finished: %s: %w (it goes on in the server; see system.mutations, or KILL MUTATION)", s.ddl.database, strings.Join(pending, ", "), ctx.Err())
		case <-time.After(mutationPoll):
		}
	}
}
