package embedded

import (
	"context"
	"fmt"
	"strings"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/sqlq"
)

// upsert writes one row of a credential table, replacing the stored row
// with the same key only when the new one has a higher version: the same
// rule ClickHouse's ReplacingMergeTree applies.
func (s *Store) upsert(ctx context.Context, table, key, columns string, vals []any) error {
	cols := strings.Split(columns, ", ")
	set := make([]string, 0, len(cols))
	for _, c := range cols {
		if c != key {
			set = append(set, c+" = excluded."+c)
		}
	}
	q := "INSERT INTO " + table + " (" + columns + ") VALUES (?" + strings.Repeat(", ?", len(cols)-1) + ")" +
		" ON CONFLICT (" + key + ") DO UPDATE SET " + strings.Join(set, ", ") + " WHERE excluded.version > " + table + ".version"
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, err := s.db.ExecContext(ctx, q, vals...); err != nil {
		return fmt.Errorf("cannot write to %s: %w", table, err)
	}
	return nil
}

// PutUser implements store.Credentials.
func (s *Store) PutUser(ctx context.Context, u store.User) error {
	return s.upsert(ctx, "users", "name", sqlq.UserColumns, sqlq.UserValues(&u))
}

// PutToken implements store.Credentials.
func (s *Store) PutToken(ctx context.Context, t store.APIToken) error {
	return s.upsert(ctx, "api_tokens", "id", sqlq.TokenColumns, sqlq.TokenValues(&t))
}

// PutSession implements store.Credentials.
func (s *Store) PutSession(ctx context.Context, ss store.Session) error {
	return s.upsert(ctx, "sessions", "id_hash", sqlq.SessionColumns, sqlq.SessionValues(&ss))
}
