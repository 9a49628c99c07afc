package clickhouse

import (
	"context"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store/internal/sqlq"
)

// reads are the store's queries, shared with the embedded store (see
// store/internal/sqlq). The alias keeps the embedded field unexported.
type reads = sqlq.Reader

// sqlConn is the driver as the shared queries use it. clickhouse-go scans
// arrays and decimals into their Go types directly.
type sqlConn struct{ conn driver.Conn }

func (c sqlConn) Query(ctx context.Context, query string, args ...any) (sqlq.Rows, error) {
	return c.conn.Query(ctx, query, args...)
}

func (sqlConn) Strings(p *[]string) any { return p }

func (sqlConn) Int8s(p *[]int8) any { return p }

func (sqlConn) Money(p *decimal.Decimal) any { return p }
