package embedded

import (
	"context"
	"fmt"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/sqlq"
)

// Reprice tallies the rules and, unless dryRun, updates the cost column in
// the same transaction (see store/reprice.go for why the column is
// rewritten in place): a crash leaves every span as it was, or every span
// repriced.
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
	tallies, err := sqlq.Tally(ctx, sqlq.DuckDB, sqlConn{tx}, rules)
	if err != nil || dryRun {
		return tallies, err
	}
	update := sqlq.RepriceUpdate(sqlq.DuckDB, rules)
	if _, err := tx.ExecContext(ctx, update.SQL, update.Args...); err != nil {
		return nil, fmt.Errorf("cannot reprice spans: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("cannot reprice spans: %w", err)
	}
	return tallies, nil
}
