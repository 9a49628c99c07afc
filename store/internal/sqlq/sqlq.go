// Package sqlq owns the SQL that both store backends run: every read of
// the store interfaces, and the repricing statements. Each query is built
// once, here, from a Dialect (ClickHouse or DuckDB) that supplies the few
// functions and clauses that differ, and its rows are scanned here too, so
// a query cannot mean one thing on one backend and another on the other.
//
// The contract with a backend (store/clickhouse, store/embedded):
//   - The backend owns its schema, and both schemas name the columns the
//     queries read alike. Beyond them the queries use only what Dialect
//     describes: ClickHouse's DateTime partition columns (timestamp on spans
//     and samples) and the tables its views fill from spans (trace_index,
//     trace_locations, span_names).
//   - The backend owns its write path (batches, appenders, upserts), its
//     transactions and its mutations. sqlq only builds the statements whose
//     SQL is shared (Tally, RepriceUpdate), and lists the columns reads
//     select in an order inserts may follow too (SpanColumns, CostColumns,
//     with CostValues), so writes and reads cannot drift apart.
//   - The backend gives a Conn: its driver running a query, and scan
//     destinations for the two column types whose Go form differs between
//     the drivers. A Reader embedded in the backend's store then provides
//     the read methods of the store interfaces.
package sqlq

import (
	"context"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// Rows is a result set as both drivers return it.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Conn is what the reads need of a backend's driver.
type Conn interface {
	// Query runs a query with ? placeholders.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// Strings returns the scan destination that stores an Array(String)
	// (VARCHAR[]) column's value in *p.
	Strings(p *[]string) any
	// Int8s returns the scan destination that stores an Array(Int8)
	// (TINYINT[]) column's value in *p.
	Int8s(p *[]int8) any
	// Money returns the scan destination that stores a Decimal(38, 12)
	// column's value in *p; a NULL (a DuckDB sum over no rows) is zero.
	Money(p *decimal.Decimal) any
}

// Query is a statement with ? placeholders and its arguments, in order.
type Query struct {
	SQL  string
	Args []any
}

// Reader runs the reads of the store interfaces on one backend. A backend
// embeds it, so its methods are the backend's.
type Reader struct {
	d    Dialect
	conn Conn
}

// NewReader returns the reads of a backend that speaks d through conn.
func NewReader(d Dialect, conn Conn) *Reader { return &Reader{d: d, conn: conn} }

// each runs q and, for every row, scans it into dest and calls row, which
// reads the variables dest points to. dest is built once per query, not per
// row: through the Rows interface a per-row argument list would be one more
// allocation a row. Errors say what was being done ("cannot " + what).
func (r *Reader) each(ctx context.Context, what string, q Query, dest []any, row func() error) error {
	rows, err := r.conn.Query(ctx, q.SQL, q.Args...)
	if err != nil {
		return fmt.Errorf("cannot %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		err := rows.Scan(dest...)
		if err == nil {
			err = row()
		}
		if err != nil {
			return fmt.Errorf("cannot %s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cannot %s: %w", what, err)
	}
	return nil
}

// collect runs q and returns a value per row, made by row from the
// variables dest points to, which the next row overwrites.
func collect[T any](ctx context.Context, r *Reader, what string, q Query, dest []any, row func() (T, error)) ([]T, error) {
	var out []T
	err := r.each(ctx, what, q, dest, func() error {
		v, err := row()
		out = append(out, v)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// one runs a query that returns one row (an aggregate without GROUP BY)
// and scans it into dest.
func (r *Reader) one(ctx context.Context, what string, q Query, dest ...any) error {
	found := false
	err := r.each(ctx, what, q, dest, func() error { found = true; return nil })
	if err == nil && !found {
		err = fmt.Errorf("cannot %s: no row", what)
	}
	return err
}

// conds collects the conditions of a WHERE clause and their arguments.
type conds struct {
	sql  []string
	args []any
}

// add appends a condition and its arguments.
func (c *conds) add(cond string, args ...any) {
	c.sql, c.args = append(c.sql, cond), append(c.args, args...)
}

// equal appends "column = ?" for each column whose value is set: the
// optional filters of span reads, where "" matches everything.
func (c *conds) equal(columnValues ...string) {
	for i := 0; i+1 < len(columnValues); i += 2 {
		if columnValues[i+1] != "" {
			c.add(columnValues[i]+" = ?", columnValues[i+1])
		}
	}
}

// String joins the conditions with AND.
func (c *conds) String() string { return strings.Join(c.sql, " AND ") }
