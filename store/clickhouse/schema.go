package clickhouse

import (
	"fmt"
	"strings"
)

// The schema keeps to what every ClickHouse from 18.16 (Debian's) to current
// releases runs: attributes as parallel Array(String) columns, time as
// DateTime plus an integer nanosecond column, plain String, no TTL, codecs
// or skip indexes. Every time-series table is partitioned by UTC day so
// retention drops whole partitions. Tenant leads every sort key.

// table is one table of the schema. In cluster mode it becomes a
// Replicated* table named name_local on every node plus a Distributed table
// under the plain name, which is what queries and inserts use.
type table struct {
	name      string
	columns   string
	engine    string // MergeTree family engine without "Replicated", e.g. "ReplacingMergeTree(version)"
	partition string // PARTITION BY expression, or ""
	order     string // ORDER BY expression
	shard     string // Distributed sharding key: rows that replace each other must share a shard
}

// view is a materialized view from one table into another.
type view struct {
	name, from, to, query string // query selects FROM the from table
}

// migration is one schema version: tables, then views, then changes to
// existing tables, then fills.
type migration struct {
	tables []table
	views  []view
	alters []alter
	// fills copy rows written before the migration into a new table its
	// view feeds from then on. Each must be harmless to run twice (into a
	// Replacing table), as a migration cut short runs again.
	fills []string
}

// alter changes a table's columns (ADD COLUMN, MODIFY COLUMN actions).
// ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS: migrate takes a column
// that exists as added.
type alter struct {
	table   string
	actions []string
}

// migrations are applied in order, each once; the version of a database is
// the number applied. Append to the list, never edit an entry that shipped.
var migrations = []migration{
	{ // 1: the first schema.
		tables: []table{
			{
				name: "spans",
				columns: `tenant String,
	timestamp DateTime,
	start_ns Int64,
	duration_ns Int64,
	trace_id FixedString(16),
	span_id FixedString(8),
	parent_span_id FixedString(8),
	trace_state String,
	service String,
	operation String,
	kind Int8,
	status_code Int8,
	status_message String,
	scope_name String,
	scope_version String,
	resource_keys Array(String),
	resource_values Array(String),
	attr_keys Array(String),
	attr_values Array(String),
	events String,
	links String,
	model String,
	model_version String,
	deployment String,
	provider String,
	operation_type String,
	input_tokens Int64,
	output_tokens Int64,
	cached_tokens Int64,
	cost Decimal(38, 12)`,
				engine:    "MergeTree()",
				partition: "toYYYYMMDD(timestamp)",
				order:     "(tenant, service, operation, timestamp)",
				shard:     "cityHash64(tenant, trace_id)",
			},
			{
				// Finds the days a trace has spans on, so reading a trace by id
				// touches only those partitions.
				name: "trace_index",
				columns: `tenant String,
	trace_id FixedString(16),
	day Date`,
				engine:    "ReplacingMergeTree()",
				partition: "toYYYYMMDD(day)",
				order:     "(tenant, trace_id, day)",
				shard:     "cityHash64(tenant, trace_id)",
			},
			{
				name: "metric_series",
				columns: `tenant String,
	name String,
	fingerprint UInt64,
	type Int8,
	label_keys Array(String),
	label_values Array(String)`,
				engine: "ReplacingMergeTree()",
				order:  "(tenant, name, fingerprint)",
				shard:  "fingerprint",
			},
			{
				name: "metric_samples",
				columns: `tenant String,
	timestamp DateTime,
	fingerprint UInt64,
	ts_ms Int64,
	value Float64`,
				engine:    "MergeTree()",
				partition: "toYYYYMMDD(timestamp)",
				order:     "(tenant, fingerprint, ts_ms)",
				shard:     "fingerprint",
			},
			{
				// A line replaces the one with the same identity; readers use
				// FINAL. version is the write time, so the last write wins.
				name: "cost_lines",
				columns: `tenant String,
	billing_period_start DateTime,
	line_id String,
	version Int64,
	source String,
	billing_account_id String,
	billing_account_name String,
	billing_currency String,
	billing_period_end DateTime,
	charge_period_start DateTime,
	charge_period_end DateTime,
	charge_category String,
	charge_class String,
	charge_description String,
	charge_frequency String,
	pricing_category String,
	billed_cost Decimal(38, 12),
	effective_cost Decimal(38, 12),
	list_cost Decimal(38, 12),
	contracted_cost Decimal(38, 12),
	pricing_quantity Decimal(38, 12),
	pricing_unit String,
	consumed_quantity Decimal(38, 12),
	consumed_unit String,
	provider_name String,
	publisher_name String,
	invoice_issuer_name String,
	service_category String,
	service_name String,
	region_id String,
	region_name String,
	availability_zone String,
	resource_id String,
	resource_name String,
	resource_type String,
	sku_id String,
	sku_price_id String,
	sub_account_id String,
	sub_account_name String,
	commitment_discount_id String,
	tag_keys Array(String),
	tag_values Array(String)`,
				engine:    "ReplacingMergeTree(version)",
				partition: "toYYYYMM(billing_period_start)",
				order:     "(tenant, billing_period_start, line_id)",
				shard:     "cityHash64(tenant, line_id)",
			},
			{
				// Replacing, not Summing: a recomputed minute replaces the old
				// value, so late data and two analyzers never double-count.
				name: "sli_rollups",
				columns: `tenant String,
	slo String,
	minute DateTime,
	good UInt64,
	total UInt64,
	version Int64`,
				engine:    "ReplacingMergeTree(version)",
				partition: "toYYYYMMDD(minute)",
				order:     "(tenant, slo, minute)",
				shard:     "cityHash64(tenant, slo)",
			},
			{
				name: "events",
				columns: `tenant String,
	id String,
	time DateTime,
	time_ns Int64,
	kind String,
	type String,
	subject String,
	severity String,
	summary String,
	attr_keys Array(String),
	attr_values Array(String),
	payload String`,
				engine:    "ReplacingMergeTree()",
				partition: "toYYYYMMDD(time)",
				order:     "(tenant, id)",
				shard:     "cityHash64(tenant, id)",
			},
		},
		views: []view{{
			name: "trace_index_mv", from: "spans", to: "trace_index",
			// Grouping collapses a batch's spans to one row per trace and day.
			query: "SELECT tenant, trace_id, toDate(timestamp) AS day FROM %s GROUP BY tenant, trace_id, day",
		}},
	},
	{ // 2: analyzer replicas announce themselves to share the work.
		tables: []table{{
			name: "members",
			columns: `member_group String,
	member String,
	seen DateTime,
	seen_ns Int64`,
			engine: "ReplacingMergeTree(seen_ns)",
			order:  "(member_group, member)",
			shard:  "cityHash64(member_group)",
		}},
	},
	{ // 3: credentials (auth's users, API tokens and sessions). They are
		// server-wide and looked up by key, so the key leads the sort key,
		// not a tenant; no partitions, as retention never drops them. A
		// row's version ranks a terminal state (revoked, ended) above any
		// time (store.Credentials); readers use FINAL.
		tables: []table{
			{
				name: "users",
				columns: `name String,
	password_hash String,
	role_tenants Array(String),
	role_names Array(String),
	created_ns Int64,
	updated_ns Int64,
	version Int64`,
				engine: "ReplacingMergeTree(version)",
				order:  "name",
				shard:  "cityHash64(name)",
			},
			{
				name: "api_tokens",
				columns: `id String,
	hash String,
	name String,
	tenant String,
	role String,
	created_ns Int64,
	expires_ns Int64,
	revoked_ns Int64,
	last_used_ns Int64,
	created_by String,
	revoked_by String,
	version Int64`,
				engine: "ReplacingMergeTree(version)",
				order:  "id",
				shard:  "cityHash64(id)",
			},
			{
				name: "sessions",
				columns: `id_hash String,
	user_name String,
	role_tenants Array(String),
	role_names Array(String),
	created_ns Int64,
	last_seen_ns Int64,
	idle_expires_ns Int64,
	expires_ns Int64,
	ended_ns Int64,
	version Int64`,
				engine: "ReplacingMergeTree(version)",
				order:  "id_hash",
				shard:  "cityHash64(id_hash)",
			},
		},
	},
	{ // 4: FOCUS columns a cost line lacked, nulls kept apart from zeros,
		// and quantities and unit prices to 18 places (exports carry 15).
		alters: []alter{{table: "cost_lines", actions: []string{
			"MODIFY COLUMN pricing_quantity Decimal(38, 18)",
			"MODIFY COLUMN consumed_quantity Decimal(38, 18)",
			"ADD COLUMN list_unit_price Decimal(38, 18)",
			"ADD COLUMN contracted_unit_price Decimal(38, 18)",
			"ADD COLUMN commitment_discount_category String",
			"ADD COLUMN commitment_discount_name String",
			"ADD COLUMN commitment_discount_status String",
			"ADD COLUMN commitment_discount_type String",
			"ADD COLUMN null_columns Array(String)",
		}}},
	},
	{ // 5: the type of each span and resource attribute
		// (store.AttrType), parallel to its keys and values, as the
		// portable schema keeps attributes: parallel arrays, no Map.
		// Empty means every value is a string, which is what rows written
		// before read back as.
		alters: []alter{{table: "spans", actions: []string{
			"ADD COLUMN resource_types Array(Int8)",
			"ADD COLUMN attr_types Array(Int8)",
		}}},
	},
	{ // 6: an SLO's events per minute may be fractional (SLIs read from
		// PromQL rates and precomputed ratios); whole counts stay exact.
		alters: []alter{{table: "sli_rollups", actions: []string{
			"MODIFY COLUMN good Float64",
			"MODIFY COLUMN total Float64",
		}}},
	},
	{ // 7: logs.
		//
		// Full-text search without skip indexes (18.16 has none): the
		// collector splits each body into words (store.Tokens), kept in
		// tokens; a materialized view copies one row per word into
		// log_tokens, sorted by word, so a search reads the few granules
		// of its rarest word there and the log rows whose ids it finds.
		tables: []table{
			{
				name: "logs",
				columns: `tenant String,
	timestamp DateTime,
	time_ns Int64,
	observed_ns Int64,
	id UInt64,
	service String,
	severity Int8,
	severity_text String,
	body String,
	trace_id FixedString(16),
	span_id FixedString(8),
	scope_name String,
	resource_keys Array(String),
	resource_values Array(String),
	attr_keys Array(String),
	attr_values Array(String),
	tokens Array(String)`,
				engine:    "MergeTree()",
				partition: "toYYYYMMDD(timestamp)",
				order:     "(tenant, service, timestamp)",
				shard:     "cityHash64(tenant, id)",
			},
			{
				name: "log_tokens",
				columns: `tenant String,
	token String,
	timestamp DateTime,
	id UInt64`,
				engine:    "MergeTree()",
				partition: "toYYYYMMDD(timestamp)",
				order:     "(tenant, token, timestamp)",
				shard:     "cityHash64(tenant, id)",
			},
		},
		views: []view{{
			name: "log_tokens_mv", from: "logs", to: "log_tokens",
			query: "SELECT tenant, arrayJoin(tokens) AS token, timestamp, id FROM %s",
		}},
	},
	{ // 8: the hourly level over the SLI rollups (store.HourlyRollups),
		// declared as sli_rollups is, so an hour is replaced as a minute is
		// (readers take argMax by version) and lands on its SLO's shard.
		tables: []table{{
			name: "sli_rollups_hourly",
			columns: `tenant String,
	slo String,
	hour DateTime,
	good Float64,
	total Float64,
	version Int64`,
			engine:    "ReplacingMergeTree(version)",
			partition: "toYYYYMMDD(hour)",
			order:     "(tenant, slo, hour)",
			shard:     "cityHash64(tenant, slo)",
		}},
	},
	{ // 9: where a
		// trace's spans are. trace_index names a trace's days, and a day of
		// spans is read whole for the id, which spans' sort key (service,
		// operation, time) cannot find: at 100M spans a day, seconds.
		// Each row is one service's spans of a trace in one insert, with
		// their first and last second, so Trace reads only those
		// services' granules of those seconds. Rows of one trace from
		// several inserts are all kept (plain MergeTree) and the reader
		// takes their union.
		tables: []table{{
			name: "trace_locations",
			columns: `tenant String,
	trace_id FixedString(16),
	day Date,
	service String,
	first DateTime,
	last DateTime`,
			engine:    "MergeTree()",
			partition: "toYYYYMMDD(day)",
			order:     "(tenant, trace_id)",
			shard:     "cityHash64(tenant, trace_id)",
		}, {
			// The services and operations that have spans, by day: listing
			// them from spans reads every span's service.
			name: "span_names",
			columns: `tenant String,
	day Date,
	service String,
	operation String,
	kind Int8`,
			engine:    "ReplacingMergeTree()",
			partition: "toYYYYMMDD(day)",
			order:     "(tenant, service, operation, kind, day)",
			shard:     "cityHash64(tenant, service)",
		}},
		views: []view{{
			name: "trace_locations_mv", from: "spans", to: "trace_locations",
			query: "SELECT tenant, trace_id, toDate(timestamp) AS day, service, min(timestamp) AS first, max(timestamp) AS last FROM %s GROUP BY tenant, trace_id, day, service",
		}, {
			name: "span_names_mv", from: "spans", to: "span_names",
			query: spanNamesQuery,
		}},
		// Older traces are found by trace_index's days, but a service must
		// be listed whenever it has spans: one read of the spans there are.
		fills: []string{"INSERT INTO span_names (tenant, day, service, operation, kind) " + fmt.Sprintf(spanNamesQuery, "spans")},
	},
}

// spanNamesQuery groups spans (the table %s) into span_names' rows.
const spanNamesQuery = "SELECT tenant, toDate(timestamp) AS day, service, operation, kind FROM %s GROUP BY tenant, day, service, operation, kind"

// schemaTable records applied migrations.
var schemaTable = table{
	name:    "vigil_schema",
	columns: "version UInt32,\n\tapplied DateTime",
	engine:  "MergeTree()",
	order:   "version",
	shard:   "version",
}

// ddl writes the statements that create objects in a database, for one node
// or, with a cluster name, for a cluster.
type ddl struct {
	database string
	cluster  string
}

func (d ddl) onCluster() string {
	if d.cluster == "" {
		return ""
	}
	return " ON CLUSTER " + quoteIdent(d.cluster)
}

// local is the name of the table that holds the rows on a node.
func (d ddl) local(name string) string {
	if d.cluster == "" {
		return name
	}
	return name + "_local"
}

func (d ddl) createDatabase() string {
	return "CREATE DATABASE IF NOT EXISTS " + quoteIdent(d.database) + d.onCluster()
}

func (d ddl) createTable(t table) []string {
	engine := t.engine
	if d.cluster != "" {
		// ReplacingMergeTree(version) -> ReplicatedReplacingMergeTree('path', '{replica}', version)
		open := strings.IndexByte(engine, '(')
		args := strings.TrimSuffix(engine[open+1:], ")")
		path := fmt.Sprintf("'/clickhouse/tables/{shard}/%s/%s'", d.database, d.local(t.name))
		if args != "" {
			args = ", " + args
		}
		engine = fmt.Sprintf("Replicated%s(%s, '{replica}'%s)", engine[:open], path, args)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s.%s%s (\n\t%s\n) ENGINE = %s", quoteIdent(d.database), quoteIdent(d.local(t.name)), d.onCluster(), t.columns, engine)
	if t.partition != "" {
		fmt.Fprintf(&b, "\nPARTITION BY %s", t.partition)
	}
	fmt.Fprintf(&b, "\nORDER BY %s", t.order)
	stmts := []string{b.String()}
	if d.cluster != "" {
		stmts = append(stmts, fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s%s AS %s.%s ENGINE = Distributed(%s, %s, %s, %s)",
			quoteIdent(d.database), quoteIdent(t.name), d.onCluster(), quoteIdent(d.database), quoteIdent(d.local(t.name)),
			quoteIdent(d.cluster), quoteIdent(d.database), quoteIdent(d.local(t.name)), t.shard))
	}
	return stmts
}

// createView attaches a view to the node-local tables: in a cluster each
// node indexes the rows it holds.
func (d ddl) createView(v view) string {
	from := quoteIdent(d.database) + "." + quoteIdent(d.local(v.from))
	return fmt.Sprintf("CREATE MATERIALIZED VIEW IF NOT EXISTS %s.%s%s TO %s.%s AS %s",
		quoteIdent(d.database), quoteIdent(v.name), d.onCluster(), quoteIdent(d.database), quoteIdent(d.local(v.to)), fmt.Sprintf(v.query, from))
}

// createSteps returns the statements that create a migration's tables
// and views, in steps: the statements of a step do not depend on each
// other, so migrate may send them at once. (Over a cluster each ON
// CLUSTER statement waits for the DDL queue's polling, about 0.25 s on
// 18.16, whatever it does.) First the tables that hold rows, then the
// Distributed tables and the views over them.
func (d ddl) createSteps(m migration) [][]string {
	var holding, over []string
	for _, t := range m.tables {
		stmts := d.createTable(t)
		holding = append(holding, stmts[0])
		over = append(over, stmts[1:]...)
	}
	for _, v := range m.views {
		over = append(over, d.createView(v))
	}
	return [][]string{holding, over}
}

// alterTable changes the table that holds a table's rows (the local
// tables, in a cluster) with the actions in one statement, for onShards.
func (d ddl) alterTable(name string, actions ...string) string {
	return fmt.Sprintf("ALTER TABLE %s.%s %s", quoteIdent(d.database), quoteIdent(d.local(name)), strings.Join(actions, ", "))
}

// redistribute makes a Distributed table again over its altered local
// tables: 18.16 alters no Distributed table ON CLUSTER when the shards
// replicate themselves ("isn't replicated, but shard #2 is replicated").
// It holds no rows (Vigil inserts synchronously), so dropping it loses
// nothing; readers and writers fail for the moment in between (collectors
// spool, analyzers retry at their next tick).
func (d ddl) redistribute(name string) []string {
	return []string{
		"DROP TABLE IF EXISTS " + quoteIdent(d.database) + "." + quoteIdent(name) + d.onCluster(),
		d.createTable(tableNamed(name))[1],
	}
}

// tableNamed is the table of the schema called name.
func tableNamed(name string) table {
	for _, m := range migrations {
		for _, t := range m.tables {
			if t.name == name {
				return t
			}
		}
	}
	panic("no table " + name + " in the schema")
}

// quoteString is s as a string literal.
func quoteString(s string) string {
	return "'" + strings.NewReplacer("\\", "\\\\", "'", "\\'").Replace(s) + "'"
}

func quoteIdent(s string) string {
	return "`" + strings.NewReplacer("\\", "\\\\", "`", "\\`").Replace(s) + "`"
}
