package sqlq

import (
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// Dialect is what differs between ClickHouse's SQL and DuckDB's in the
// queries both backends run: a handful of functions and clauses, how a time
// argument is bound, how rows that replace each other are read, and the two
// schema features only ClickHouse has (tables partitioned by a DateTime
// column, and a trace index). Its methods are unexported: ClickHouse and
// DuckDB are the only dialects, and a backend hands its own to NewReader
// instead of writing SQL of its own.
type Dialect interface {
	// has is true when the array column contains elem.
	has(array, elem string) string
	// lookup is the element of values at elem's position in keys, the empty
	// string when keys lacks it: attributes are parallel key and value
	// arrays.
	lookup(keys, values, elem string) string
	// countIf counts the rows where cond holds.
	countIf(cond string) string
	// sum adds expr up over the rows where cond holds (every row when cond
	// is ""), as t; it is 0, not NULL, over no rows.
	sum(expr, cond string, t sqlType) string
	// intDiv divides non-negative integers, dropping the remainder.
	intDiv(a, b string) string
	cast(expr string, t sqlType) string
	// tryCast is NULL where expr does not convert.
	tryCast(expr string, t sqlType) string
	// match is true when the whole of expr matches the regular expression.
	match(expr, pattern string) string
	// namesOf yields a row for __name__ and one for each element of a
	// series' label key array.
	namesOf(keys string) string
	// unixSeconds is a DateTime (TIMESTAMP) column as Int64 seconds.
	unixSeconds(column string) string
	// nthSmallest is the rank-th (from 1) smallest value of expr in a group.
	nthSmallest(expr, rank string) string
	// argMax is arg's value in the row of a group where val is largest.
	argMax(arg, val string) string
	// argMin is arg's value in the row of a group where val is smallest.
	argMin(arg, val string) string
	// sortedList is a group's values of expr as an array, ascending.
	sortedList(expr string) string
	// element is an array's index-th element (from 1).
	element(array, index string) string
	// final reads a table whose rows replace each other by key (cost
	// lines, series) with only the surviving rows.
	final(table string) string
	// latest is a subquery of the keys and values of the newest version of
	// each key's rows that match where: the cheap form of final for tables
	// read a few keys at a time (rollups).
	latest(table string, keys, values []string, where string) string
	// update rewrites rows in place; set is "column = expression".
	update(table, set, where string) string
	// traceID is what a trace_id column holding id equals, and its one
	// argument.
	traceID(id store.TraceID) (expr string, arg any)
	// time is the argument for a DateTime (TIMESTAMP) column.
	time(t time.Time) any
	// prune bounds a table's partitioning DateTime column so that only the
	// partitions that can hold [start, end) are read; nothing where the
	// dialect has no such column. A zero bound is open.
	prune(c *conds, column string, start, end time.Time)
	// traceIndex is whether the trace_index table names the days a trace
	// has spans on.
	traceIndex() bool
	// spanNames is whether the span_names table holds the services and
	// operations that have spans.
	spanNames() bool
	// colocated is the table to read in an IN subquery over table whose
	// rows live on the same shard as the outer query's rows they match
	// (the two tables share their sharding key): on a cluster each shard
	// then answers from its own rows, where a second Distributed read is
	// refused (distributed_product_mode) or, as GLOBAL IN, ships the whole
	// subquery's result to every shard.
	colocated(table string) string
	// globalIn is the IN operator for a subquery that must see every
	// shard's rows, such as one that ranks and limits them: on a cluster
	// it runs once and its result goes to every shard.
	globalIn() string

	// tokenRows counts the rows of word in the dialect's token index for a
	// tenant's logs in [start, end), reading no more than limit+1 of
	// them: a result above limit means "more than limit". It is empty
	// when the dialect has no token index.
	tokenRows(tenant, word string, start, end time.Time, limit int) Query
	// hasWords is true for the log rows whose tokens hold every word, for
	// a tenant's logs in [start, end) (zero bounds are open), found
	// through the token index's rows of via when via is not empty, and by
	// reading every row's tokens when it is. prewhere, when not empty, is
	// a condition to read first, before any other column (ClickHouse's
	// PREWHERE), with its own arguments; where is the rest.
	hasWords(tenant string, words []string, via string, start, end time.Time) (prewhere Query, where Query)
}

// sqlType is a type queries cast to.
type sqlType int

const (
	typeInt64 sqlType = iota
	typeFloat64
	typeString
)

// ClickHouse is the SQL every ClickHouse from 18.16 runs: no DateTime64,
// Map or LowCardinality, arrays indexed from 1 with a default element at 0.
var ClickHouse Dialect = clickHouse{}

// DuckDB is the embedded store's SQL.
var DuckDB Dialect = duckDB{}

// ClickHouseCluster is ClickHouse's SQL over the Distributed tables of a
// cluster's database: reads are the same, but a mutation cannot go
// through a Distributed table, so it goes to every shard's table_local
// (the backend's name for the Replicated table under a Distributed one)
// ON CLUSTER, and subqueries say whether they run on each shard or once.
func ClickHouseCluster(cluster, database string) Dialect {
	return clickHouseCluster{cluster: cluster, database: database}
}

type clickHouse struct{}

var clickHouseTypes = [...]string{typeInt64: "Int64", typeFloat64: "Float64", typeString: "String"}

func (clickHouse) has(array, elem string) string { return "has(" + array + ", " + elem + ")" }

// lookup relies on indexOf being 0 for a missing key, and element 0 of an
// array being the type's default, the empty string.
func (clickHouse) lookup(keys, values, elem string) string {
	return values + "[indexOf(" + keys + ", " + elem + ")]"
}

// countIf: a NULL condition does not hold, as in DuckDB's FILTER; 18.16's
// countIf of a Nullable condition is itself NULL over rows where it is.
func (clickHouse) countIf(cond string) string { return "countIf(ifNull(" + cond + ", 0))" }

func (d clickHouse) sum(expr, cond string, t sqlType) string {
	if cond == "" {
		return d.cast("sum("+expr+")", t)
	}
	return d.cast("sumIf("+expr+", "+cond+")", t)
}

func (clickHouse) intDiv(a, b string) string { return "intDiv(" + a + ", " + b + ")" }

func (clickHouse) cast(expr string, t sqlType) string {
	return "CAST(" + expr + " AS " + clickHouseTypes[t] + ")"
}

func (clickHouse) tryCast(expr string, t sqlType) string {
	return "to" + clickHouseTypes[t] + "OrNull(" + expr + ")"
}

func (clickHouse) match(expr, pattern string) string { return "match(" + expr + ", " + pattern + ")" }

func (clickHouse) namesOf(keys string) string {
	return "arrayJoin(arrayPushFront(" + keys + ", '__name__'))"
}

func (clickHouse) unixSeconds(column string) string {
	return "toInt64(toUInt32(" + column + "))"
}

// nthSmallest sorts the group's values: quantileExact ranks differently
// from the nearest rank both backends promise.
func (clickHouse) nthSmallest(expr, rank string) string {
	return "arrayElement(arraySort(groupArray(" + expr + ")), toUInt64(" + rank + "))"
}

func (clickHouse) argMax(arg, val string) string { return "argMax(" + arg + ", " + val + ")" }

func (clickHouse) argMin(arg, val string) string { return "argMin(" + arg + ", " + val + ")" }

func (clickHouse) sortedList(expr string) string { return "arraySort(groupArray(" + expr + "))" }

func (clickHouse) element(array, index string) string {
	return "arrayElement(" + array + ", toUInt64(" + index + "))"
}

func (clickHouse) final(table string) string { return table + " FINAL" }

// latest groups by key with argMax over the version column (the write
// time): it reads only the keys asked for, where FINAL on 18.16 merges
// whole partitions (ten times slower for a month of one SLO's minutes
// among 1,000 SLOs: 0.42 s against 0.042 s).
func (clickHouse) latest(table string, keys, values []string, where string) string {
	cols := append([]string(nil), keys...)
	for _, v := range values {
		cols = append(cols, "argMax("+v+", version) AS "+v)
	}
	return "(SELECT " + strings.Join(cols, ", ") + " FROM " + table + " WHERE " + where +
		" GROUP BY " + strings.Join(keys, ", ") + ")"
}

// update is a mutation: it runs in the background, and the caller waits
// for system.mutations to show it done.
func (clickHouse) update(table, set, where string) string {
	return "ALTER TABLE " + table + " UPDATE " + set + " WHERE " + where
}

// traceID binds the id as hex: the driver writes arguments into the query
// text, where raw bytes do not belong.
func (clickHouse) traceID(id store.TraceID) (string, any) {
	return "toFixedString(unhex(?), " + strconv.Itoa(len(id)) + ")", hex.EncodeToString(id[:])
}

// time drops the fraction: the driver binds a time with one as DateTime64,
// which 18.16 does not have.
// time clamps to what a DateTime holds (1970 to 2106): an open API range
// (PromQL's label and series reads) asks for far beyond it.
func (clickHouse) time(t time.Time) any {
	return time.Unix(min(max(t.Unix(), 0), math.MaxUint32), 0).UTC()
}

// prune bounds the whole seconds that can hold [start, end): from start's
// second to before end rounded up to a second. The exact bound is the
// caller's, on a nanosecond or millisecond column.
func (d clickHouse) prune(c *conds, column string, start, end time.Time) {
	if !start.IsZero() {
		c.add(column+" >= ?", d.time(start))
	}
	if !end.IsZero() {
		up := end.Truncate(time.Second)
		if up.Before(end) {
			up = up.Add(time.Second)
		}
		c.add(column+" < ?", d.time(up))
	}
}

func (clickHouse) traceIndex() bool { return true }

func (clickHouse) spanNames() bool { return true }

func (clickHouse) colocated(table string) string { return table }

func (clickHouse) globalIn() string { return "IN" }

type clickHouseCluster struct {
	clickHouse
	cluster, database string
}

// local is the Replicated table under a Distributed one, named with its
// database: a subquery sent to a shard runs in the shard's default
// database, not the connection's.
func (d clickHouseCluster) local(table string) string {
	return quoteIdent(d.database) + "." + quoteIdent(table+"_local")
}

func (d clickHouseCluster) colocated(table string) string { return d.local(table) }

func (clickHouseCluster) globalIn() string { return "GLOBAL IN" }

// update changes a shard's local table, to be run on one replica of each
// shard (the ClickHouse store's onShards), not ON CLUSTER.
func (d clickHouseCluster) update(table, set, where string) string {
	return "ALTER TABLE " + d.local(table) + " UPDATE " + set + " WHERE " + where
}

func quoteIdent(s string) string {
	return "`" + strings.NewReplacer("\\", "\\\\", "`", "\\`").Replace(s) + "`"
}

// tokenRows reads log_tokens, sorted by word, in a primary-key range,
// and the LIMIT stops the read past limit rows: a common word costs a
// few granules, not its millions of index rows.
func (d clickHouse) tokenRows(tenant, word string, start, end time.Time, limit int) Query {
	var c conds
	c.add("tenant = ?", tenant)
	c.add("token = ?", word)
	d.prune(&c, "timestamp", start, end)
	return Query{SQL: "SELECT count() FROM (SELECT 1 FROM log_tokens WHERE " + c.String() +
		" LIMIT " + strconv.Itoa(limit+1) + ")", Args: c.args}
}

// hasWords, given via, looks via up in log_tokens in a PREWHERE: the
// logs table's id column is read first, and the rest only of the
// granules that hold a match; then every word is checked on those rows.
// GLOBAL IN runs the lookup once, where a cluster's Distributed tables
// would otherwise refuse a subquery over another Distributed table; on
// one node it is a plain IN. Without via (a word too common for the
// index to pay), the tokens column is read first, in the PREWHERE, and
// the other columns only of the granules that match.
func (d clickHouse) hasWords(tenant string, words []string, via string, start, end time.Time) (Query, Query) {
	var c conds
	for _, w := range words {
		c.add("has(tokens, ?)", w)
	}
	where := Query{SQL: "(" + c.String() + ")", Args: c.args}
	if via == "" {
		return where, Query{}
	}
	var sub conds
	sub.add("tenant = ?", tenant)
	sub.add("token = ?", via)
	d.prune(&sub, "timestamp", start, end)
	pre := Query{SQL: "id GLOBAL IN (SELECT id FROM log_tokens WHERE " + sub.String() + ")", Args: sub.args}
	return pre, where
}

type duckDB struct{}

var duckDBTypes = [...]string{typeInt64: "BIGINT", typeFloat64: "DOUBLE", typeString: "VARCHAR"}

func (duckDB) has(array, elem string) string { return "list_contains(" + array + ", " + elem + ")" }

// lookup: list_position is NULL for a missing key, and so is the element.
func (duckDB) lookup(keys, values, elem string) string {
	return "coalesce(" + values + "[list_position(" + keys + ", " + elem + ")], '')"
}

func (duckDB) countIf(cond string) string { return "count(*) FILTER (WHERE " + cond + ")" }

// sum: DuckDB sums to NULL over no rows, and integers to HUGEINT.
func (d duckDB) sum(expr, cond string, t sqlType) string {
	s := "sum(" + expr + ")"
	if cond != "" {
		s += " FILTER (WHERE " + cond + ")"
	}
	return d.cast("coalesce("+s+", 0)", t)
}

func (duckDB) intDiv(a, b string) string { return "((" + a + ") // (" + b + "))" }

func (duckDB) cast(expr string, t sqlType) string {
	return "CAST(" + expr + " AS " + duckDBTypes[t] + ")"
}

func (duckDB) tryCast(expr string, t sqlType) string {
	return "TRY_CAST(" + expr + " AS " + duckDBTypes[t] + ")"
}

func (duckDB) match(expr, pattern string) string {
	return "regexp_full_match(" + expr + ", " + pattern + ")"
}

func (duckDB) namesOf(keys string) string { return "unnest(list_prepend('__name__', " + keys + "))" }

func (d duckDB) unixSeconds(column string) string { return d.cast("epoch("+column+")", typeInt64) }

func (duckDB) nthSmallest(expr, rank string) string {
	return "list_sort(list(" + expr + "))[" + rank + "]"
}

func (duckDB) argMax(arg, val string) string { return "arg_max(" + arg + ", " + val + ")" }

func (duckDB) argMin(arg, val string) string { return "arg_min(" + arg + ", " + val + ")" }

func (duckDB) sortedList(expr string) string { return "list_sort(list(" + expr + "))" }

func (duckDB) element(array, index string) string { return array + "[" + index + "]" }

// final: a primary key already keeps one row per key.
func (duckDB) final(table string) string { return table }

func (duckDB) latest(table string, keys, values []string, where string) string {
	return "(SELECT " + strings.Join(append(append([]string(nil), keys...), values...), ", ") + " FROM " + table + " WHERE " + where + ")"
}

func (duckDB) update(table, set, where string) string {
	return "UPDATE " + table + " SET " + set + " WHERE " + where
}

func (duckDB) traceID(id store.TraceID) (string, any) { return "?", id[:] }

func (duckDB) time(t time.Time) any { return t.UTC() }

// prune: DuckDB tables have no partitions; the min-max index of each row
// group on the exact time column does the skipping.
func (duckDB) prune(*conds, string, time.Time, time.Time) {}

func (duckDB) traceIndex() bool { return false }

// spanNames: the embedded store reads its spans' services directly.
func (duckDB) spanNames() bool { return false }

func (duckDB) globalIn() string { return "IN" }

func (duckDB) colocated(table string) string { return table }

// tokenRows: the embedded store has no token index (DuckDB's full-text
// extension is not built in, and it holds one machine's logs).
func (duckDB) tokenRows(string, string, time.Time, time.Time, int) Query { return Query{} }

// hasWords scans the tokens lists.
func (d duckDB) hasWords(_ string, words []string, _ string, _, _ time.Time) (Query, Query) {
	var c conds
	for _, w := range words {
		c.add(d.has("tokens", "?"), w)
	}
	return Query{}, Query{SQL: "(" + c.String() + ")", Args: c.args}
}
