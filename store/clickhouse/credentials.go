package clickhouse

import (
	"context"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/sqlq"
)

// PutUser implements store.Credentials; ReplacingMergeTree keeps the
// highest version of each user.
func (s *Store) PutUser(ctx context.Context, u store.User) error {
	return s.insert(ctx, "users", sqlq.UserColumns, 1, func(int) ([]any, error) { return sqlq.UserValues(&u), nil })
}

// PutToken implements store.Credentials.
func (s *Store) PutToken(ctx context.Context, t store.APIToken) error {
	return s.insert(ctx, "api_tokens", sqlq.TokenColumns, 1, func(int) ([]any, error) { return sqlq.TokenValues(&t), nil })
}

// PutSession implements store.Credentials.
func (s *Store) PutSession(ctx context.Context, ss store.Session) error {
	return s.insert(ctx, "sessions", sqlq.SessionColumns, 1, func(int) ([]any, error) { return sqlq.SessionValues(&ss), nil })
}
