package embedded

// migrations are applied in order, each once; the version of a database is
// the number applied. Append to the list, never edit an entry that shipped.
var migrations = []string{
	// 1: the first schema.
	`
CREATE TABLE spans (
	tenant VARCHAR NOT NULL,
	day DATE NOT NULL,
	start_ns BIGINT NOT NULL,
	duration_ns BIGINT NOT NULL,
	trace_id BLOB NOT NULL,
	span_id BLOB NOT NULL,
	parent_span_id BLOB NOT NULL,
	trace_state VARCHAR NOT NULL,
	service VARCHAR NOT NULL,
	operation VARCHAR NOT NULL,
	kind TINYINT NOT NULL,
	status_code TINYINT NOT NULL,
	status_message VARCHAR NOT NULL,
	scope_name VARCHAR NOT NULL,
	scope_version VARCHAR NOT NULL,
	resource_keys VARCHAR[] NOT NULL,
	resource_values VARCHAR[] NOT NULL,
	attr_keys VARCHAR[] NOT NULL,
	attr_values VARCHAR[] NOT NULL,
	events VARCHAR NOT NULL,
	links VARCHAR NOT NULL,
	model VARCHAR NOT NULL,
	model_version VARCHAR NOT NULL,
	deployment VARCHAR NOT NULL,
	provider VARCHAR NOT NULL,
	operation_type VARCHAR NOT NULL,
	input_tokens BIGINT NOT NULL,
	output_tokens BIGINT NOT NULL,
	cached_tokens BIGINT NOT NULL,
	cost DECIMAL(38,12) NOT NULL
);
CREATE INDEX spans_trace ON spans (tenant, trace_id);

CREATE TABLE metric_series (
	tenant VARCHAR NOT NULL,
	fingerprint UBIGINT NOT NULL,
	name VARCHAR NOT NULL,
	type TINYINT NOT NULL,
	label_keys VARCHAR[] NOT NULL,
	label_values VARCHAR[] NOT NULL,
	PRIMARY KEY (tenant, fingerprint)
);

CREATE TABLE metric_samples (
	tenant VARCHAR NOT NULL,
	day DATE NOT NULL,
	fingerprint UBIGINT NOT NULL,
	ts_ms BIGINT NOT NULL,
	value DOUBLE NOT NULL
);

CREATE TABLE cost_lines (
	tenant VARCHAR NOT NULL,
	billing_period_start TIMESTAMP NOT NULL,
	line_id VARCHAR NOT NULL,
	source VARCHAR NOT NULL,
	billing_account_id VARCHAR NOT NULL,
	billing_account_name VARCHAR NOT NULL,
	billing_currency VARCHAR NOT NULL,
	billing_period_end TIMESTAMP NOT NULL,
	charge_period_start TIMESTAMP NOT NULL,
	charge_period_end TIMESTAMP NOT NULL,
	charge_category VARCHAR NOT NULL,
	charge_class VARCHAR NOT NULL,
	charge_description VARCHAR NOT NULL,
	charge_frequency VARCHAR NOT NULL,
	pricing_category VARCHAR NOT NULL,
	billed_cost DECIMAL(38,12) NOT NULL,
	effective_cost DECIMAL(38,12) NOT NULL,
	list_cost DECIMAL(38,12) NOT NULL,
	contracted_cost DECIMAL(38,12) NOT NULL,
	pricing_quantity DECIMAL(38,12) NOT NULL,
	pricing_unit VARCHAR NOT NULL,
	consumed_quantity DECIMAL(38,12) NOT NULL,
	consumed_unit VARCHAR NOT NULL,
	provider_name VARCHAR NOT NULL,
	publisher_name VARCHAR NOT NULL,
	invoice_issuer_name VARCHAR NOT NULL,
	service_category VARCHAR NOT NULL,
	service_name VARCHAR NOT NULL,
	region_id VARCHAR NOT NULL,
	region_name VARCHAR NOT NULL,
	availability_zone VARCHAR NOT NULL,
	resource_id VARCHAR NOT NULL,
	resource_name VARCHAR NOT NULL,
	resource_type VARCHAR NOT NULL,
	sku_id VARCHAR NOT NULL,
	sku_price_id VARCHAR NOT NULL,
	sub_account_id VARCHAR NOT NULL,
	sub_account_name VARCHAR NOT NULL,
	commitment_discount_id VARCHAR NOT NULL,
	tag_keys VARCHAR[] NOT NULL,
	tag_values VARCHAR[] NOT NULL,
	PRIMARY KEY (tenant, billing_period_start, line_id)
);

CREATE TABLE sli_rollups (
	tenant VARCHAR NOT NULL,
	slo VARCHAR NOT NULL,
	minute TIMESTAMP NOT NULL,
	good UBIGINT NOT NULL,
	total UBIGINT NOT NULL,
	PRIMARY KEY (tenant, slo, minute)
);

CREATE TABLE events (
	tenant VARCHAR NOT NULL,
	id VARCHAR NOT NULL,
	kind VARCHAR NOT NULL,
	type VARCHAR NOT NULL,
	subject VARCHAR NOT NULL,
	severity VARCHAR NOT NULL,
	time_ns BIGINT NOT NULL,
	summary VARCHAR NOT NULL,
	attr_keys VARCHAR[] NOT NULL,
	attr_values VARCHAR[] NOT NULL,
	payload VARCHAR NOT NULL,
	PRIMARY KEY (tenant, id)
);
`,
	// 2: analyzer replicas announce themselves to share the work.
	`
CREATE TABLE members (
	member_group VARCHAR NOT NULL,
	member VARCHAR NOT NULL,
	seen_ns BIGINT NOT NULL,
	PRIMARY KEY (member_group, member)
);
`,
	// 3: credentials (auth's users, API tokens and sessions), replaced by
	// key when a newer version arrives (see store.Credentials).
	`
CREATE TABLE users (
	name VARCHAR NOT NULL,
	password_hash VARCHAR NOT NULL,
	role_tenants VARCHAR[] NOT NULL,
	role_names VARCHAR[] NOT NULL,
	created_ns BIGINT NOT NULL,
	updated_ns BIGINT NOT NULL,
	version BIGINT NOT NULL,
	PRIMARY KEY (name)
);

CREATE TABLE api_tokens (
	id VARCHAR NOT NULL,
	hash VARCHAR NOT NULL,
	name VARCHAR NOT NULL,
	tenant VARCHAR NOT NULL,
	role VARCHAR NOT NULL,
	created_ns BIGINT NOT NULL,
	expires_ns BIGINT NOT NULL,
	revoked_ns BIGINT NOT NULL,
	last_used_ns BIGINT NOT NULL,
	created_by VARCHAR NOT NULL,
	revoked_by VARCHAR NOT NULL,
	version BIGINT NOT NULL,
	PRIMARY KEY (id)
);

CREATE TABLE sessions (
	id_hash VARCHAR NOT NULL,
	user_name VARCHAR NOT NULL,
	role_tenants VARCHAR[] NOT NULL,
	role_names VARCHAR[] NOT NULL,
	created_ns BIGINT NOT NULL,
	last_seen_ns BIGINT NOT NULL,
	idle_expires_ns BIGINT NOT NULL,
	expires_ns BIGINT NOT NULL,
	ended_ns BIGINT NOT NULL,
	version BIGINT NOT NULL,
	PRIMARY KEY (id_hash)
);
`,
	// 4: FOCUS columns a cost line lacked, nulls kept apart from zeros, and
	// quantities and unit prices to 18 places (exports carry 15).
	`
ALTER TABLE cost_lines ALTER pricing_quantity SET DATA TYPE DECIMAL(38,18);
ALTER TABLE cost_lines ALTER consumed_quantity SET DATA TYPE DECIMAL(38,18);
ALTER TABLE cost_lines ADD COLUMN list_unit_price DECIMAL(38,18) DEFAULT 0;
ALTER TABLE cost_lines ADD COLUMN contracted_unit_price DECIMAL(38,18) DEFAULT 0;
ALTER TABLE cost_lines ADD COLUMN commitment_discount_category VARCHAR DEFAULT '';
ALTER TABLE cost_lines ADD COLUMN commitment_discount_name VARCHAR DEFAULT '';
ALTER TABLE cost_lines ADD COLUMN commitment_discount_status VARCHAR DEFAULT '';
ALTER TABLE cost_lines ADD COLUMN commitment_discount_type VARCHAR DEFAULT '';
ALTER TABLE cost_lines ADD COLUMN null_columns VARCHAR[] DEFAULT [];
`,
	// 5: the type of each span and resource attribute (store.AttrType),
	// parallel to its keys and values. Empty means every value is a
	// string, which is what rows written before read back as: their NULL
	// scans as empty. (No DEFAULT []: DuckDB fails to commit two list
	// columns with defaults added in one transaction to a table with rows.)
	`
ALTER TABLE spans ADD COLUMN resource_types TINYINT[];
ALTER TABLE spans ADD COLUMN attr_types TINYINT[];
`,
	// 6: an SLO's events per minute may be fractional (SLIs read from
	// PromQL rates and precomputed ratios); whole counts stay exact.
	`
ALTER TABLE sli_rollups ALTER good SET DATA TYPE DOUBLE;
ALTER TABLE sli_rollups ALTER total SET DATA TYPE DOUBLE;
`,
	// 7: logs. The words of each body (store.Tokens) are kept in tokens for full-text search.
	`
CREATE TABLE logs (
	tenant VARCHAR NOT NULL,
	day DATE NOT NULL,
	time_ns BIGINT NOT NULL,
	observed_ns BIGINT NOT NULL,
	id UBIGINT NOT NULL,
	service VARCHAR NOT NULL,
	severity TINYINT NOT NULL,
	severity_text VARCHAR NOT NULL,
	body VARCHAR NOT NULL,
	trace_id BLOB NOT NULL,
	span_id BLOB NOT NULL,
	scope_name VARCHAR NOT NULL,
	resource_keys VARCHAR[] NOT NULL,
	resource_values VARCHAR[] NOT NULL,
	attr_keys VARCHAR[] NOT NULL,
	attr_values VARCHAR[] NOT NULL,
	tokens VARCHAR[] NOT NULL
);
`,
	// 8 (the embedded store only): drop the ART index on
	// spans (tenant, trace_id). DuckDB never used it to find a trace (it
	// plans a sequential scan with the filter pushed down, index or not),
	// and keeping random trace ids in it halved span writes by 1M spans
	// (BENCHMARKS.md, "Embedded store").
	dropSpansTraceIndex,
	// 9 (the embedded store only): the trace index, traces.go.
	traceIndexSchema,
	// 10: the hourly level over the SLI rollups (store.HourlyRollups): an
	// hour replaces the stored one, as a minute does.
	`
CREATE TABLE sli_rollups_hourly (
	tenant VARCHAR NOT NULL,
	slo VARCHAR NOT NULL,
	hour TIMESTAMP NOT NULL,
	good DOUBLE NOT NULL,
	total DOUBLE NOT NULL,
	PRIMARY KEY (tenant, slo, hour)
);
`,
}

// dropSpansTraceIndex is the migration that drops the spans' ART index;
// BenchmarkSpansAtScale puts the index back to measure what it cost.
const (
	dropSpansTraceIndex   = `DROP INDEX IF EXISTS spans_trace;`
	createSpansTraceIndex = `CREATE INDEX spans_trace ON spans (tenant, trace_id);`
)

// traceIndexSchema is migration 9: the trace
// index of traces.go, filled from the spans already written as one run,
// in key order. The key is trace_id's first 8 bytes read big-endian, as
// traceKey computes it.
const traceIndexSchema = `
CREATE TABLE trace_runs (
	trace_key UBIGINT NOT NULL,
	tenant VARCHAR NOT NULL,
	first_ns BIGINT NOT NULL,
	last_ns BIGINT NOT NULL
);
CREATE TABLE trace_pending (
	trace_key UBIGINT NOT NULL,
	tenant VARCHAR NOT NULL,
	first_ns BIGINT NOT NULL,
	last_ns BIGINT NOT NULL
);
INSERT INTO trace_runs
SELECT ('0x' || left(hex(trace_id), 16))::UBIGINT AS trace_key, tenant, min(start_ns), max(start_ns)
FROM spans GROUP BY ALL ORDER BY trace_key;
`
