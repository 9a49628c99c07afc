package embedded

import (
	"context"
	"database/sql"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store/internal/sqlq"
)

// reads are the store's queries, shared with the ClickHouse store (see
// store/internal/sqlq). The alias keeps the embedded field unexported.
type reads = sqlq.Reader

// sqlConn is database/sql as the shared queries use it: the store's
// *sql.DB, or a repricing's *sql.Tx.
type sqlConn struct {
	q interface {
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	}
}

func (c sqlConn) Query(ctx context.Context, query string, args ...any) (sqlq.Rows, error) {
	rows, err := c.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err // not a nil *sql.Rows in a non-nil interface
	}
	return rows, nil
}

// Strings converts the []any DuckDB's driver gives for a list.
func (sqlConn) Strings(p *[]string) any { return (*stringList)(p) }

// Int8s converts the []any DuckDB's driver gives for a list.
func (sqlConn) Int8s(p *[]int8) any { return (*int8List)(p) }

// Money converts the duckdb.Decimal DuckDB's driver gives for a DECIMAL.
func (sqlConn) Money(p *decimal.Decimal) any { return (*money)(p) }
