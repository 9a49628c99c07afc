// Package clickhouse is the store of record on ClickHouse, through
// clickhouse-go v2 over the native protocol. Its schema and queries run on
// every ClickHouse from 18.16 (Debian's package) to current releases; with a
// cluster name it creates Replicated tables under Distributed tables.
package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/sqlq"
)

// Config says where the store lives.
type Config struct {
	Options  *ch.Options // connection options, Auth.Database included
	Database string
	Cluster  string // "" for one server
}

// DefaultDatabase is used when the URL names none.
const DefaultDatabase = "vigil"

// ParseURL reads clickhouse://user:pass@host:9000/db?cluster=name&setting=v.
// Query parameters other than cluster are clickhouse-go's DSN options and
// ClickHouse settings.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		err = ue.Err // url.Error repeats the URL, password and all
	}
	if err != nil {
		return Config{}, fmt.Errorf("cannot parse store URL: %w", err)
	}
	if u.Scheme != "clickhouse" {
		return Config{}, fmt.Errorf("store URL %q: scheme must be clickhouse", redact(u))
	}
	if u.Host == "" {
		return Config{}, fmt.Errorf("store URL %q names no host", redact(u))
	}
	q := u.Query()
	cfg := Config{Cluster: q.Get("cluster"), Database: strings.Trim(u.Path, "/")}
	q.Del("cluster")
	if cfg.Database == "" {
		cfg.Database = DefaultDatabase
	}
	if strings.Contains(cfg.Database, "/") {
		return Config{}, fmt.Errorf("store URL %q: database name %q contains '/'", redact(u), cfg.Database)
	}
	u.RawQuery = q.Encode()
	opts, err := ch.ParseDSN(u.String())
	if err != nil {
		return Config{}, fmt.Errorf("store URL %q: %w", redact(u), err)
	}
	cfg.Options = opts
	return cfg, nil
}

func redact(u *url.URL) string { return u.Redacted() }

// Store implements store.Store on ClickHouse.
type Store struct {
	*reads  // every read but events'
	conn    driver.Conn
	opts    ch.Options // conn's options: onShards connects to replicas with them
	ddl     ddl
	dialect sqlq.Dialect
	addr    string
}

var _ store.Store = (*Store)(nil)

// Open connects, creates the database if needed and brings its schema up
// to date.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	opts := *cfg.Options
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 5 * time.Second
	}
	if cfg.Cluster != "" {
		opts.Settings = clusterSettings(opts.Settings)
	}
	addr := strings.Join(opts.Addr, ",")
	// Connect without a database first: it may not exist yet.
	opts.Auth.Database = ""
	boot, err := ch.Open(&opts)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to ClickHouse at %s: %w", addr, err)
	}
	d := ddl{database: cfg.Database, cluster: cfg.Cluster}
	if err := boot.Ping(ctx); err != nil {
		boot.Close()
		return nil, fmt.Errorf("cannot reach ClickHouse at %s: %w", addr, firstLine(err))
	}
	if cfg.Cluster != "" {
		if err := checkCluster(ctx, boot, cfg.Cluster); err != nil {
			boot.Close()
			return nil, fmt.Errorf("ClickHouse at %s: %w", addr, err)
		}
	}
	err = boot.Exec(ctx, d.createDatabase())
	boot.Close()
	if err != nil {
		return nil, fmt.Errorf("cannot create database %s on ClickHouse at %s: %w", cfg.Database, addr, err)
	}
	opts.Auth.Database = cfg.Database
	conn, err := ch.Open(&opts)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to ClickHouse at %s: %w", addr, err)
	}
	dialect := sqlq.ClickHouse
	if cfg.Cluster != "" {
		dialect = sqlq.ClickHouseCluster(cfg.Cluster, cfg.Database)
	}
	s := &Store{reads: sqlq.NewReader(dialect, sqlConn{conn}), conn: conn, opts: opts, ddl: d, dialect: dialect, addr: addr}
	if err := s.migrate(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

// clusterSettings are what keeps a write visible to every read that starts
// after it returns (actions/doc.go relies on it) on Distributed tables:
//   - insert_distributed_sync: an insert returns once every shard has
//     its rows, not when they are queued on the node that took them;
//   - load_balancing in_order, prefer_localhost_replica off: every node,
//     for inserts and reads alike, picks the first live replica of a
//     shard in remote_servers order, so a read goes where the write went
//     rather than to a replica that has not fetched it yet.
//
// load_balancing is not among them: 18.16's protocol carries only integer
// settings from a client, so the user's profile must set it, which
// checkCluster verifies. Settings the URL names win.
func clusterSettings(url ch.Settings) ch.Settings {
	s := ch.Settings{"insert_distributed_sync": 1, "prefer_localhost_replica": 0}
	maps.Copy(s, url)
	return s
}

// checkCluster refuses a cluster the server does not know, and a profile
// whose load balancing would read from a replica other than the one a
// write went to (see clusterSettings): the reads would miss rows for as
// long as replication lags, which no error would show.
func checkCluster(ctx context.Context, conn driver.Conn, cluster string) error {
	var hosts uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.clusters WHERE cluster = ?", cluster).Scan(&hosts); err != nil {
		return fmt.Errorf("cannot read system.clusters: %w", err)
	}
	if hosts == 0 {
		return fmt.Errorf("no cluster %q in the server's remote_servers (the store URL's cluster parameter names it)", cluster)
	}
	var lb string
	if err := conn.QueryRow(ctx, "SELECT value FROM system.settings WHERE name = 'load_balancing'").Scan(&lb); err != nil {
		return fmt.Errorf("cannot read system.settings: %w", err)
	}
	if lb != "in_order" {
		return fmt.Errorf("cluster %q: the user's profile sets load_balancing = %s, and Vigil needs in_order so that a read goes to the replica its write went to; set <load_balancing>in_order</load_balancing> in the profile (deploy/clickhouse/users.xml)", cluster, lb)
	}
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	for _, stmt := range s.ddl.createTable(schemaTable) {
		if err := s.conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("cannot create schema table in %s: %w", s.ddl.database, err)
		}
	}
	var version uint32
	if err := s.conn.QueryRow(ctx, "SELECT max(version) FROM vigil_schema").Scan(&version); err != nil {
		return fmt.Errorf("cannot read schema version of %s: %w", s.ddl.database, err)
	}
	if int(version) > len(migrations) {
		return &store.SchemaTooNewError{Database: s.ddl.database + " on " + s.addr, Version: int(version), Known: len(migrations)}
	}
	for v := int(version) + 1; v <= len(migrations); v++ {
		// Every statement is idempotent (IF NOT EXISTS, or a column found
		// added), so a migration cut short, or run by two Vigils at once, is
		// finished by the next start.
		if err := s.apply(ctx, migrations[v-1]); err != nil {
			return fmt.Errorf("cannot apply schema migration %d to %s: %w", v, s.ddl.database, err)
		}
		b, err := s.conn.PrepareBatch(ctx, "INSERT INTO vigil_schema (version, applied)")
		if err != nil {
			return err
		}
		if err := b.Append(uint32(v), time.Now().UTC()); err != nil {
			return err
		}
		if err := b.Send(); err != nil {
			return fmt.Errorf("cannot record schema migration %d in %s: %w", v, s.ddl.database, err)
		}
	}
	return nil
}

func (s *Store) apply(ctx context.Context, m migration) error {
	for _, step := range s.ddl.createSteps(m) {
		if err := s.execAll(ctx, step); err != nil {
			return err
		}
	}
	for _, a := range m.alters {
		if err := s.alter(ctx, a); err != nil {
			return err
		}
	}
	for _, stmt := range m.fills {
		if err := s.conn.Exec(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// execAll runs statements that do not depend on each other: at once over
// a cluster, where each waits about 0.25 s for the DDL queue whatever it
// does; one after the other on one server.
func (s *Store) execAll(ctx context.Context, stmts []string) error {
	if s.ddl.cluster == "" {
		for _, stmt := range stmts {
			if err := s.conn.Exec(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, len(stmts))
	var wg sync.WaitGroup
	for i, stmt := range stmts {
		wg.Go(func() { errs[i] = s.conn.Exec(ctx, stmt) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// alter applies a change of columns in one statement, one DDL round over a
// cluster instead of one per action. When a column it adds exists (an
// earlier run was cut short after adding it) the statement changes
// nothing, so each action runs on its own, a column that exists counting
// as added. In a cluster the Distributed table is then made again over
// the altered local tables.
func (s *Store) alter(ctx context.Context, a alter) error {
	err := s.onShards(ctx, func(conn driver.Conn) error {
		stmt := s.ddl.alterTable(a.table, a.actions...)
		err := conn.Exec(ctx, stmt)
		if !columnExists(stmt, err) {
			return err
		}
		for _, action := range a.actions {
			stmt := s.ddl.alterTable(a.table, action)
			if err := conn.Exec(ctx, stmt); err != nil && !columnExists(stmt, err) {
				return err
			}
		}
		return nil
	})
	if err != nil || s.ddl.cluster == "" {
		return err
	}
	for _, stmt := range s.ddl.redistribute(a.table) {
		if err := s.conn.Exec(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// onShards runs an ALTER of local tables (columns, partitions, mutations)
// so that every replica takes it: do gets the one server; in a cluster it
// gets one replica of each shard in turn, the first in remote_servers
// order that answers (the one reads go to), whose replicated table hands
// the change to the others through ZooKeeper. Not ON CLUSTER: 18.16's DDL
// queue runs an ALTER ON CLUSTER of a replicated table on one replica of
// each shard through a lock in ZooKeeper, and when two replicas raced for
// it one failed with "Node exists" and its queue stopped, so every later
// ON CLUSTER statement of the cluster timed out after 180 s (CI met it
// while two conformance runs altered tables at once).
func (s *Store) onShards(ctx context.Context, do func(driver.Conn) error) error {
	if s.ddl.cluster == "" {
		return do(s.conn)
	}
	shards, err := s.shardReplicas(ctx)
	if err != nil {
		return err
	}
	for i, addrs := range shards {
		conn, err := s.dialFirst(ctx, addrs)
		if err == nil {
			err = do(conn)
			conn.Close()
		}
		if err != nil {
			return fmt.Errorf("shard %d of cluster %s: %w", i+1, s.ddl.cluster, err)
		}
	}
	return nil
}

// shardReplicas lists each shard's replicas (host:port of their native
// protocol) in remote_servers order.
func (s *Store) shardReplicas(ctx context.Context) ([][]string, error) {
	rows, err := s.conn.Query(ctx, `SELECT shard_num, host_address, port FROM system.clusters
		WHERE cluster = ? ORDER BY shard_num, replica_num`, s.ddl.cluster)
	if err != nil {
		return nil, fmt.Errorf("cannot read the replicas of cluster %s: %w", s.ddl.cluster, err)
	}
	defer rows.Close()
	var shards [][]string
	last := uint32(0)
	for rows.Next() {
		var (
			shard uint32
			host  string
			port  uint16
		)
		if err := rows.Scan(&shard, &host, &port); err != nil {
			return nil, err
		}
		if shard != last {
			shards, last = append(shards, nil), shard
		}
		shards[len(shards)-1] = append(shards[len(shards)-1], net.JoinHostPort(host, strconv.Itoa(int(port))))
	}
	return shards, rows.Err()
}

// dialFirst connects to the first of addrs that answers.
func (s *Store) dialFirst(ctx context.Context, addrs []string) (driver.Conn, error) {
	var errs []error
	for _, addr := range addrs {
		opts := s.opts
		opts.Addr = []string{addr}
		conn, err := ch.Open(&opts)
		if err == nil {
			if err = conn.Ping(ctx); err == nil {
				return conn, nil
			}
			conn.Close()
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, firstLine(err)))
	}
	return nil, fmt.Errorf("no replica answers: %w", errors.Join(errs...))
}

// columnExists reports whether err is an ADD COLUMN's for a column the
// table has: ILLEGAL_COLUMN (44) in ClickHouse 18.16, DUPLICATE_COLUMN (15)
// in later releases.
func columnExists(stmt string, err error) bool {
	var ex *ch.Exception
	return strings.Contains(stmt, " ADD COLUMN ") && errors.As(err, &ex) && (ex.Code == 44 || ex.Code == 15)
}

// Ping checks the server answers; on a cluster, that what an insert needs
// answers too: a replica of every shard (the one writes go to), none of
// whose tables of this database is read-only for want of ZooKeeper. The
// collector tells an outage from a batch the store refuses by Ping: with
// only the first server asked, a shard or ZooKeeper down would read as a
// refusal, and the spooled batches would be set aside after some retries
// instead of waiting.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.conn.Ping(ctx); err != nil || s.ddl.cluster == "" {
		return err
	}
	var readOnly uint64
	err := s.conn.QueryRow(ctx, "SELECT count() FROM cluster("+quoteString(s.ddl.cluster)+", system, replicas) WHERE database = ? AND is_readonly",
		s.ddl.database).Scan(&readOnly)
	if err != nil {
		return fmt.Errorf("ClickHouse cluster %s: not every shard answers: %w", s.ddl.cluster, firstLine(err))
	}
	if readOnly > 0 {
		return fmt.Errorf("ClickHouse cluster %s: %d tables are read-only (ZooKeeper lost)", s.ddl.cluster, readOnly)
	}
	return nil
}

// Close closes the connections.
func (s *Store) Close() error { return s.conn.Close() }

// DropDatabase removes the store's database and everything in it: for tests.
func (s *Store) DropDatabase(ctx context.Context) error {
	return s.conn.Exec(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(s.ddl.database)+s.ddl.onCluster())
}

// insert sends rows as one batch with an explicit column list (ClickHouse
// 18.16 refuses a bare INSERT from this driver).
func (s *Store) insert(ctx context.Context, table, columns string, n int, row func(i int) ([]any, error)) error {
	if n == 0 {
		return nil
	}
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+columns+")")
	if err != nil {
		return fmt.Errorf("cannot insert into %s: %w", table, err)
	}
	defer b.Abort()
	for i := 0; i < n; i++ {
		vals, err := row(i)
		if err == nil {
			err = b.Append(vals...)
		}
		if err != nil {
			return fmt.Errorf("cannot insert into %s: row %d: %w", table, i, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("cannot insert %d rows into %s: %w", n, table, err)
	}
	return nil
}

// insertColumns sends one batch given as whole columns, in the order of
// the column list.
func (s *Store) insertColumns(ctx context.Context, table, columns string, cols []any) error {
	return insertColumns(ctx, s.conn, table, columns, cols)
}

// insertColumns is Store.insertColumns on any connection: the store's,
// or one to a single server of a cluster.
func insertColumns(ctx context.Context, conn driver.Conn, table, columns string, cols []any) error {
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+columns+")")
	if err != nil {
		return fmt.Errorf("cannot insert into %s: %w", table, err)
	}
	defer b.Abort()
	for i, c := range cols {
		col := b.Column(i)
		var err error
		if arrays, ok := c.([][]string); ok {
			// The driver appends a whole array column through reflection,
			// element by element; row by row it has a typed path.
			for _, a := range arrays {
				if err = col.AppendRow(a); err != nil {
					break
				}
			}
		} else {
			err = col.Append(c)
		}
		if err != nil {
			return fmt.Errorf("cannot insert into %s: column %d: %w", table, i, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("cannot insert %d rows into %s: %w", b.Rows(), table, err)
	}
	return nil
}

// firstLine keeps an error to one line: network errors can carry several.
func firstLine(err error) error {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		return errors.New(msg[:i])
	}
	return err
}

// dateTime is a DateTime column's value for t: whole seconds, UTC.
func dateTime(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// secondsRange returns DateTime bounds that cover [start, end) so the
// primary key and partitions prune, while the exact bound is applied on a
// nanosecond column.
func secondsRange(start, end time.Time) (time.Time, time.Time) {
	return dateTime(start), dateTime(end.Add(time.Second - 1))
}
