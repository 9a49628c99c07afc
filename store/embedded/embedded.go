// Package embedded is the store on DuckDB: one file under the data
// directory, so Vigil runs on one machine with no database server — as
// Jaeger's all-in-one runs on Badger and Grafana on SQLite.
package embedded

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/sqlq"
)

// FileName is the database file Open creates in the data directory.
const FileName = "vigil.duckdb"

// Store implements store.Store on DuckDB.
type Store struct {
	*reads // every read but events'
	db     *sql.DB
	path   string

	// writeMu serialises writers: DuckDB's optimistic concurrency would
	// otherwise turn two batches touching the same keys into a conflict
	// error, and batches are large enough that one at a time is no loss.
	writeMu sync.Mutex
	// pendingTraces is the number of rows in trace_pending (traces.go),
	// guarded by writeMu.
	pendingTraces int
	runRows       int // runRows, but for tests
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database in dir and brings its schema
// up to date.
func Open(ctx context.Context, dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	connector, err := duckdb.NewConnector(path, nil)
	if isLockConflict(err) {
		return nil, fmt.Errorf("cannot open %s: %w: %w", path, store.ErrLocked, err)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", path, err)
	}
	s := &Store{db: sql.OpenDB(connector), path: path, runRows: runRows}
	s.reads = sqlq.NewReader(sqlq.DuckDB, sqlConn{s.db})
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	// DuckDB checkpoints when its WAL reaches checkpoint_threshold (16MB
	// by default): about every 30,000 spans, each time rewriting the
	// row group still filling (122,880 rows) from the start. At 256MB a
	// million spans took a quarter less CPU to write, checkpoints
	// included (BENCHMARKS.md, issue 19); a crash replays at most that
	// much WAL on the next Open. Larger (1GB) left so much to one
	// checkpoint that the total was slower again.
	if _, err := s.db.ExecContext(ctx, `SET GLOBAL checkpoint_threshold = '256MB'`); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("cannot configure %s: %w", path, err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM trace_pending`).Scan(&s.pendingTraces); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("cannot read the trace index of %s: %w", path, err)
	}
	return s, nil
}

// isLockConflict tells whether opening failed because another process
// holds the file's lock. DuckDB reports it as an IO error and has no type
// of its own for it, so its message is read here, once, for every caller
// to check store.ErrLocked instead.
func isLockConflict(err error) bool {
	var de *duckdb.Error
	return errors.As(err, &de) && de.Type == duckdb.ErrorTypeIO && strings.Contains(de.Msg, "Could not set lock")
}

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS vigil_schema (version INTEGER NOT NULL, applied TIMESTAMP NOT NULL)`); err != nil {
		return fmt.Errorf("cannot create schema table in %s: %w", s.path, err)
	}
	var version int
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM vigil_schema`).Scan(&version); err != nil {
		return fmt.Errorf("cannot read schema version of %s: %w", s.path, err)
	}
	if version > len(migrations) {
		return &store.SchemaTooNewError{Database: s.path, Version: version, Known: len(migrations)}
	}
	for v := version + 1; v <= len(migrations); v++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[v-1]); err != nil {
			tx.Rollback()
			return fmt.Errorf("cannot apply schema migration %d to %s: %w", v, s.path, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO vigil_schema (version, applied) VALUES (?, ?)`, v, time.Now().UTC()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("cannot apply schema migration %d to %s: %w", v, s.path, err)
		}
	}
	return nil
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close checkpoints and closes the database file.
func (s *Store) Close() error { return s.db.Close() }

// appendRows writes rows with DuckDB's appender on one connection. With a
// query, the rows land in a temporary table named appended_data and the
// query moves them (INSERT OR REPLACE for rows with identities).
func (s *Store) appendRows(ctx context.Context, table, query string, n int, row func(i int) []driver.Value) error {
	if n == 0 {
		return nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error { return appendTo(dc.(driver.Conn), table, query, n, row) })
}

// appendTo appends n rows to table on the connection dc: in its
// transaction when one is open, else in one of their own.
func appendTo(dc driver.Conn, table, query string, n int, row func(i int) []driver.Value) error {
	var a *duckdb.Appender
	var err error
	if query == "" {
		a, err = duckdb.NewAppenderFromConn(dc, "", table)
	} else {
		a, err = duckdb.NewTableAppender(dc, query, "", "", table, nil)
	}
	if err != nil {
		return fmt.Errorf("cannot append to %s: %w", table, err)
	}
	for i := 0; i < n; i++ {
		if err := a.AppendRow(row(i)...); err != nil {
			a.Clear()
			a.Close()
			return fmt.Errorf("cannot append row %d to %s: %w", i, table, err)
		}
	}
	if err := a.Close(); err != nil {
		return fmt.Errorf("cannot write %d rows to %s: %w", n, table, err)
	}
	return nil
}

// inTxLocked runs write in one transaction on one connection and commits
// it if write returns nil. The caller holds writeMu. write may append
// (appendTo) and run statements (execOn) on the connection; both belong
// to the transaction.
func (s *Store) inTxLocked(ctx context.Context, write func(dc driver.Conn) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// BEGIN as a statement on the driver's connection rather than
	// conn.BeginTx: the appender needs that connection (conn.Raw), which
	// database/sql does not hand out of a *sql.Tx.
	return conn.Raw(func(raw any) error {
		dc := raw.(driver.Conn)
		if err := execOn(ctx, dc, `BEGIN TRANSACTION`); err != nil {
			return fmt.Errorf("cannot begin a transaction: %w", err)
		}
		err := write(dc)
		if err == nil {
			if err = execOn(ctx, dc, `COMMIT`); err != nil {
				err = fmt.Errorf("cannot commit: %w", err)
			}
		}
		if err != nil {
			// If COMMIT failed, DuckDB may have rolled back already, and
			// then this ROLLBACK fails, harmlessly.
			execOn(context.WithoutCancel(ctx), dc, `ROLLBACK`)
			return err
		}
		return nil
	})
}

// execOn runs a statement without arguments on the driver's connection.
func execOn(ctx context.Context, dc driver.Conn, query string) error {
	_, err := dc.(driver.ExecerContext).ExecContext(ctx, query, nil)
	return err
}

// moneyValue converts an amount to DECIMAL(38,12)'s unscaled integer.
func moneyValue(d decimal.Decimal) (*big.Int, error) { return decimalValue(d, store.MoneyScale) }

// decimalValue converts an amount to DECIMAL(38,scale)'s unscaled integer,
// what the appender takes.
func decimalValue(d decimal.Decimal, scale int32) (*big.Int, error) {
	m, err := store.Scaled(d, scale)
	if err != nil {
		return nil, err
	}
	return m.Shift(scale).BigInt(), nil
}

// money scans a DECIMAL column into the decimal.Decimal it converts from.
type money decimal.Decimal

func (m *money) Scan(v any) error {
	switch x := v.(type) {
	case duckdb.Decimal:
		*m = money(decimal.NewFromBigInt(x.Value, -int32(x.Scale)))
	case nil:
		*m = money(decimal.Zero)
	default:
		return fmt.Errorf("cannot scan %T as money", v)
	}
	return nil
}

// strings scans a VARCHAR[] column.
type stringList []string

func (s *stringList) Scan(v any) error {
	list, ok := v.([]any)
	if !ok && v != nil {
		return fmt.Errorf("cannot scan %T as a list of strings", v)
	}
	out := make([]string, len(list))
	for i, e := range list {
		out[i], _ = e.(string)
	}
	*s = out
	return nil
}

type int8List []int8

func (s *int8List) Scan(v any) error {
	list, ok := v.([]any)
	if !ok && v != nil {
		return fmt.Errorf("cannot scan %T as a list of TINYINT", v)
	}
	out := make([]int8, len(list))
	for i, e := range list {
		n, ok := e.(int8)
		if !ok {
			return fmt.Errorf("cannot scan list element %T as a TINYINT", e)
		}
		out[i] = n
	}
	*s = out
	return nil
}

func dayOf(t time.Time) time.Time { return store.RetentionDay(t) }

// lastOfEach returns, in the order keys first appear, the index of the last
// of the n items with each key: one DuckDB statement may not write a key
// twice, and a later row of a batch replaces an earlier one.
func lastOfEach[K comparable](n int, key func(i int) K) []int {
	at := make(map[K]int, n)
	var keep []int
	for i := 0; i < n; i++ {
		k := key(i)
		if j, ok := at[k]; ok {
			keep[j] = i
			continue
		}
		at[k] = len(keep)
		keep = append(keep, i)
	}
	return keep
}
