package bench

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/clickhouse"
)

// The reads benchmark fills a ClickHouse store with a day of spans of a
// large fleet, generated inside the server (INSERT ... SELECT FROM
// numbers(), a chunk of traces at a time) so that 100M spans take minutes
// rather than the half hour the write path would, and then times the reads
// that the Jaeger API, the REST API and the UI make, through the store's own
// functions.
//
// Every generated trace has readsSpansPerTrace spans:
//
//	0  server   service S, one of S's three routes            (the root)
//	3  internal S "retrieve documents"                          child of 0
//	4  server   a downstream service, "POST /v1/retrieve"       child of 3
//	1  client   S "chat <model>", a GenAI call with tokens/cost child of 0
//	2  client   S "chat <model>", a second GenAI call          child of 0
//
// Service S is drawn with a skew (the busiest of the 10,000 gets about 1%
// of the traces), and one trace in 50 fails at its second model call.

// ReadsTenant is the tenant the reads benchmark writes and reads.
const ReadsTenant = store.DefaultTenant

const (
	readsSpansPerTrace = 5
	readsServices      = 10000
	// Odd multipliers: trace and span ids are (n+1)·k mod 2^64, a bijection,
	// so ids are unique yet look random, and Go and SQL compute the same.
	readsTraceHi = 11400714819323198485 // 0x9E3779B97F4A7C15
	readsTraceLo = 13787848793156543929 // 0xBF58476D1CE4E5B9
	readsSpanK   = 10723151780598845931 // 0x94D049BB133111EB
)

// readsRoutes are the services' root operations: service s serves routes
// s%len, s%len+1 and s%len+2.
var readsRoutes = []string{"POST /v1/chat/completions", "POST /v1/embeddings", "POST /v1/rerank",
	"POST /v1/agents/run", "GET /v1/models", "POST /v1/moderations", "POST /v1/completions"}

var readsServiceNames = []string{"chat-gateway", "rag-retriever", "agent-runner", "support-bot", "search-api",
	"llm-proxy", "embedder", "ranker", "summarizer", "classifier"}

// readsModels are the GenAI calls' models with their prices in US cents per
// million tokens (input, output).
var readsModels = []struct {
	name, version, provider string
	inCents, outCents       int64
}{
	{"gpt-4o", "2024-08-06", "openai", 250, 1000},
	{"gpt-4o-mini", "2024-07-18", "openai", 15, 60},
	{"claude-sonnet-4", "20250514", "anthropic", 300, 1500},
	{"claude-haiku-3.5", "20241022", "anthropic", 80, 400},
	{"gemini-2.5-flash", "001", "gcp.gemini", 30, 250},
	{"llama-3.1-70b", "instruct", "bedrock", 72, 72},
}

var readsTiers = []string{"free", "pro", "team", "enterprise"}

// ReadsTraceID is the id of generated trace t (from 0).
func ReadsTraceID(t uint64) store.TraceID {
	var id store.TraceID
	binary.LittleEndian.PutUint64(id[:8], (t+1)*readsTraceHi)
	binary.LittleEndian.PutUint64(id[8:], (t+1)*readsTraceLo)
	return id
}

// ReadsSpanID is the id of generated span n: span k of trace t is
// n = t·5 + k.
func ReadsSpanID(n uint64) store.SpanID {
	var id store.SpanID
	binary.LittleEndian.PutUint64(id[:], (n+1)*readsSpanK)
	return id
}

// ReadsServiceName is the name of generated service s.
func ReadsServiceName(s int) string {
	return fmt.Sprintf("%s-%04d", readsServiceNames[s%len(readsServiceNames)], s)
}

// ReadsRoute is the i-th (0 to 2) root operation of service s.
func ReadsRoute(s, i int) string { return readsRoutes[(s+i)%len(readsRoutes)] }

// sqlBytes8 is an UInt64 expression as its 8 little-endian bytes:
// reinterpretAsString drops trailing zero bytes, so they are put back.
func sqlBytes8(expr string) string {
	return `substring(concat(reinterpretAsString(toUInt64(` + expr + `)), '\0\0\0\0\0\0\0\0'), 1, 8)`
}

// sqlStrings is a literal Array(String).
func sqlStrings(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// sqlInt8s is a literal Array(Int8); empty as Vigil writes all-string
// attributes.
func sqlInt8s(v []int8) string {
	if len(v) == 0 {
		return "CAST([] AS Array(Int8))"
	}
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(int(x))
	}
	return "CAST([" + strings.Join(s, ", ") + "] AS Array(Int8))"
}

// attrShape is one kind of span's attribute keys and types, as
// store.Attributes.SplitTyped gives them to the write path; the values
// are SQL expressions.
type attrShape struct {
	keys   []string
	types  []int8
	values []string
}

// kv is one attribute of a shape: its key, type and SQL value.
type kv struct {
	k string
	t store.AttrType
	v string
}

func newAttrShape(attrs ...kv) attrShape {
	a := make(store.Attributes, len(attrs))
	vals := make([]string, len(attrs))
	for i, x := range attrs {
		a[i] = store.KeyValue{Key: x.k, Type: x.t}
		vals[i] = x.v
	}
	keys, _, types := a.SplitTyped()
	return attrShape{keys: keys, types: types, values: vals}
}

// readsFillSQL is the INSERT of traces [t0, t0+count) of a fill of total
// traces over the day before end. Every per-trace value is a hash of the
// trace number t; k is the span's place in its trace.
func readsFillSQL(t0, count, total uint64, end time.Time) (string, error) {
	// The first-token event, encoded as the write path encodes events
	// (JSON of []store.SpanEvent), with placeholders for its time and value.
	ev, err := json.Marshal([]store.SpanEvent{{TimeUnixNano: 111, Name: "gen_ai.content.first_token",
		Attributes: store.Attributes{{Key: "gen_ai.server.time_to_first_token_ms", Value: "222", Type: store.AttrInt}}}})
	if err != nil {
		return "", err
	}
	evParts := strings.SplitN(strings.Replace(string(ev), "222", "\x00", 1), "111", 2)
	if len(evParts) != 2 || !strings.Contains(evParts[1], "\x00") {
		return "", fmt.Errorf("cannot build the event template from %s", ev)
	}
	evMid := strings.SplitN(evParts[1], "\x00", 2)
	eventSQL := fmt.Sprintf("concat(%s, toString(start_ns + ttft * 1000000), %s, toString(ttft), %s)",
		quoteSQL(evParts[0]), quoteSQL(evMid[0]), quoteSQL(evMid[1]))

	root := newAttrShape(
		kv{"http.request.method", store.AttrString, "'POST'"},
		kv{"http.route", store.AttrString, "operation"},
		kv{"http.response.status_code", store.AttrInt, "if(failed, '429', '200')"},
		kv{"user.tier", store.AttrString, "tier"},
		kv{"session.id", store.AttrString, "concat('sess-', toString(h3 % 100000))"},
	)
	call := newAttrShape(
		kv{"gen_ai.system", store.AttrString, "provider"},
		kv{"gen_ai.operation.name", store.AttrString, "'chat'"},
		kv{"gen_ai.request.model", store.AttrString, "model"},
		kv{"gen_ai.response.model", store.AttrString, "concat(model, '-', model_version)"},
		kv{"gen_ai.request.max_tokens", store.AttrInt, "'4096'"},
		kv{"gen_ai.usage.input_tokens", store.AttrInt, "toString(input_tokens)"},
		kv{"gen_ai.usage.output_tokens", store.AttrInt, "toString(output_tokens)"},
		kv{"gen_ai.response.finish_reasons", store.AttrString, "if(failed AND k = 2, '', 'stop')"},
		kv{"user.tier", store.AttrString, "tier"},
	)
	retrieve := newAttrShape(
		kv{"db.system", store.AttrString, "'qdrant'"},
		kv{"db.collection.name", store.AttrString, "concat('docs-', toString(s % 50))"},
		kv{"retrieval.top_k", store.AttrInt, "toString(4 + h5 % 12)"},
		kv{"user.tier", store.AttrString, "tier"},
	)
	downstream := newAttrShape(
		kv{"http.request.method", store.AttrString, "'POST'"},
		kv{"http.route", store.AttrString, "operation"},
		kv{"http.response.status_code", store.AttrInt, "'200'"},
	)
	byKind := func(pick func(attrShape) string) string {
		return fmt.Sprintf("multiIf(k = 0, %s, k IN (1, 2), %s, k = 3, %s, %s)",
			pick(root), pick(call), pick(retrieve), pick(downstream))
	}
	attrKeys := byKind(func(a attrShape) string { return sqlStrings(a.keys) })
	attrVals := byKind(func(a attrShape) string { return "[" + strings.Join(a.values, ", ") + "]" })
	attrTypes := byKind(func(a attrShape) string { return sqlInt8s(a.types) })
	res := newAttrShape(
		kv{"service.name", store.AttrString, "service"},
		kv{"service.version", store.AttrString, "concat('1.', toString(svc % 7), '.0')"},
		kv{"deployment.environment", store.AttrString, "'production'"},
		kv{"k8s.namespace.name", store.AttrString, "'inference'"},
		kv{"k8s.pod.name", store.AttrString, "concat(service, '-7d4f8-', toString(h4 % 5))"},
	)

	var models, versions, providers, inCents, outCents []string
	for _, m := range readsModels {
		models, versions, providers = append(models, m.name), append(versions, m.version), append(providers, m.provider)
		inCents, outCents = append(inCents, strconv.FormatInt(m.inCents, 10)), append(outCents, strconv.FormatInt(m.outCents, 10))
	}
	// Traces start evenly over the day (t·day/total would overflow an
	// UInt64 past 200,000 traces), each up to a millisecond late.
	dayStart := end.Add(-24 * time.Hour).UnixNano()
	// Layers, innermost first: the span's numbers; the trace's draws; the
	// span's own values; the row in the column order of the INSERT.
	q := `INSERT INTO spans (timestamp, tenant, start_ns, duration_ns, trace_id, span_id, parent_span_id, trace_state,
	service, operation, kind, status_code, status_message, scope_name, scope_version,
	resource_keys, resource_values, attr_keys, attr_values, events, links,
	model, model_version, deployment, provider, operation_type,
	input_tokens, output_tokens, cached_tokens, cost, resource_types, attr_types)
SELECT toDateTime(intDiv(start_ns, 1000000000)) AS timestamp, ` + quoteSQL(ReadsTenant) + `, start_ns, duration_ns,
	toFixedString(concat(` + sqlBytes8("(t + 1) * "+strconv.FormatUint(readsTraceHi, 10)) + `, ` + sqlBytes8("(t + 1) * "+strconv.FormatUint(readsTraceLo, 10)) + `), 16),
	toFixedString(` + sqlBytes8("(n + 1) * "+strconv.FormatUint(readsSpanK, 10)) + `, 8),
	toFixedString(multiIf(k = 0, '\0\0\0\0\0\0\0\0', k = 4, ` + sqlBytes8("n * "+strconv.FormatUint(readsSpanK, 10)) + `, ` + sqlBytes8("(t * 5 + 1) * "+strconv.FormatUint(readsSpanK, 10)) + `), 8),
	'', service, operation, kind, status_code, if(status_code = 2, '429 Too Many Requests: rate limit exceeded', ''),
	if(k IN (1, 2), 'opentelemetry.instrumentation.openai', 'go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp'),
	if(k IN (1, 2), '0.40.14', '0.58.0'),
	` + sqlStrings(res.keys) + `, [` + strings.Join(res.values, ", ") + `], ` + attrKeys + `, ` + attrVals + `,
	if(k IN (1, 2) AND NOT (failed AND k = 2), ` + eventSQL + `, ''), '',
	model, model_version, deployment, provider, if(k IN (1, 2), 'chat', ''),
	input_tokens, output_tokens, cached_tokens,
	toDecimal128(input_tokens * [` + strings.Join(inCents, ", ") + `][m + 1] + output_tokens * [` + strings.Join(outCents, ", ") + `][m + 1], 12) / 100000000,
	` + sqlInt8s(res.types) + `, ` + attrTypes + `
FROM (
	SELECT *,
		if(k = 4, ds, svc) AS s,
		concat(` + sqlStrings(readsServiceNames) + `[s % ` + strconv.Itoa(len(readsServiceNames)) + ` + 1], '-', leftPad4(s)) AS service,
		multiIf(k = 0, ` + sqlStrings(readsRoutes) + `[(svc + route) % ` + strconv.Itoa(len(readsRoutes)) + ` + 1],
			k IN (1, 2), concat('chat ', ` + sqlStrings(models) + `[m + 1]),
			k = 3, 'retrieve documents', 'POST /v1/retrieve') AS operation,
		toInt8(multiIf(k IN (0, 4), 2, k IN (1, 2), 3, 1)) AS kind,
		toInt8(if(failed AND k IN (0, 2), 2, 0)) AS status_code,
		multiIf(k = 0, trace_start, k = 3, trace_start + 1000000, k = 4, trace_start + 2000000,
			k = 1, trace_start + 2000000 + d3, trace_start + 3000000 + d3 + d1) AS start_ns,
		multiIf(k = 0, 5000000 + d3 + d1 + d2, k = 3, d3, k = 4, d3 - 1500000, k = 1, d1, d2) AS duration_ns,
		if(k IN (1, 2), ` + sqlStrings(models) + `[m + 1], '') AS model,
		if(k IN (1, 2), ` + sqlStrings(versions) + `[m + 1], '') AS model_version,
		if(k IN (1, 2), ` + sqlStrings(providers) + `[m + 1], '') AS provider,
		if(k IN (1, 2) AND h2 % 10 = 0, 'canary', '') AS deployment,
		toInt64(if(k IN (1, 2), 50 + intHash64(n) % 4000, 0)) AS input_tokens,
		toInt64(if(k IN (1, 2) AND NOT (failed AND k = 2), 10 + intHash64(n + 7) % 1200, 0)) AS output_tokens,
		toInt64(if(k IN (1, 2) AND h5 % 3 = 0, intDiv(input_tokens, 2), 0)) AS cached_tokens,
		toInt64(40 + intHash64(n + 3) % 900) AS ttft
	FROM (
		SELECT number AS n, intDiv(n, 5) AS t, n % 5 AS k,
			cityHash64(t, 1) AS h1, cityHash64(t, 2) AS h2, cityHash64(t, 3) AS h3,
			cityHash64(t, 4) AS h4, cityHash64(t, 5) AS h5,
			toUInt32(` + strconv.Itoa(readsServices) + ` * pow((h1 % 1000000) / 1000000, 2)) AS svc,
			(svc * 31 + 17 + h2 % 5) % ` + strconv.Itoa(readsServices) + ` AS ds,
			h2 % 3 AS route,
			(h3 + k) % ` + strconv.Itoa(len(readsModels)) + ` AS m,
			h4 % 50 = 0 AS failed,
			` + sqlStrings(readsTiers) + `[h5 % 4 + 1] AS tier,
			toInt64(` + strconv.FormatInt(dayStart, 10) + ` + t * ` + strconv.FormatUint(uint64(24*time.Hour)/total, 10) + ` + h1 % 1000000) AS trace_start,
			toInt64(150000000 * exp(3 * ((h2 % 10000) / 10000))) AS d1,
			toInt64(150000000 * exp(3 * ((h3 % 10000) / 10000))) AS d2,
			toInt64(5000000 * exp(3 * ((h4 % 10000) / 10000))) AS d3
		FROM numbers(` + strconv.FormatUint(t0*readsSpansPerTrace, 10) + `, ` + strconv.FormatUint(count*readsSpansPerTrace, 10) + `)
	)
)`
	// 18.16 has no leftPad: the service number is padded by hand.
	q = strings.ReplaceAll(q, "leftPad4(s)", "substring(concat('000', toString(s)), length(toString(s)), 4)")
	return q, nil
}

func quoteSQL(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// ReadsOptions say what to fill and how often to time each read.
type ReadsOptions struct {
	StoreURL  string // clickhouse://host:port/db; the database should be new
	Spans     int    // spans to generate, a multiple of 5 (traces of five)
	CostLines int    // bill lines over the 30 days before the end
	Reps      int    // times each read runs
	// Reuse reads a database an earlier run filled instead of filling it.
	Reuse bool
	// Progress, when set, is told how far the fill is.
	Progress func(what string, done, total int)
}

// ReadsFill is what filling took.
type ReadsFill struct {
	End                  time.Time // the spans cover the 24 hours before End
	Traces               uint64
	SpanTime, CostTime   time.Duration
	Tables               []TableSize
	Reused               bool
	TotalBytes, SpanRows uint64
}

// TableSize is one table's active parts in system.parts.
type TableSize struct {
	Table       string
	Rows, Bytes uint64
}

// readsChunkTraces is how many traces one INSERT ... SELECT generates: a
// statement streams its blocks, so the server's memory stays bounded by
// the block, and the chunk only sets how often progress is reported.
const readsChunkTraces = 400000

// FillReads generates the spans and cost lines into the store named by
// o.StoreURL, whose schema Open brings up to date first.
func FillReads(ctx context.Context, o ReadsOptions) (*clickhouse.Store, ReadsFill, error) {
	var f ReadsFill
	if o.Spans < readsSpansPerTrace || o.Spans%readsSpansPerTrace != 0 {
		return nil, f, fmt.Errorf("--spans %d: want a positive multiple of %d (traces of %d spans)", o.Spans, readsSpansPerTrace, readsSpansPerTrace)
	}
	if o.CostLines < 0 {
		return nil, f, fmt.Errorf("--cost-lines %d: want zero or more", o.CostLines)
	}
	cfg, err := clickhouse.ParseURL(o.StoreURL)
	if err != nil {
		return nil, f, err
	}
	st, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		return nil, f, err
	}
	opts := *cfg.Options
	opts.Auth.Database = cfg.Database
	conn, err := ch.Open(&opts)
	if err != nil {
		st.Close()
		return nil, f, err
	}
	defer conn.Close()
	fail := func(err error) (*clickhouse.Store, ReadsFill, error) { st.Close(); return nil, f, err }
	f.Traces = uint64(o.Spans / readsSpansPerTrace)

	var have uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM spans").Scan(&have); err != nil {
		return fail(fmt.Errorf("cannot count spans: %w", err))
	}
	switch {
	case o.Reuse && have != uint64(o.Spans):
		return fail(fmt.Errorf("database %s holds %d spans, not the %d asked for: fill a new one", cfg.Database, have, o.Spans))
	case o.Reuse:
		var endNs int64
		if err := conn.QueryRow(ctx, "SELECT max(start_ns) FROM spans").Scan(&endNs); err != nil {
			return fail(fmt.Errorf("cannot read the spans' end: %w", err))
		}
		// The last trace starts within a trace's spacing of the end.
		f.End, f.Reused = time.Unix(0, endNs).UTC().Add(time.Minute).Truncate(time.Minute), true
	case have != 0:
		return fail(fmt.Errorf("database %s already holds %d spans: name a new database, or --reuse it", cfg.Database, have))
	default:
		f.End = time.Now().UTC().Truncate(time.Minute)
		began := time.Now()
		for t0 := uint64(0); t0 < f.Traces; t0 += readsChunkTraces {
			n := min(readsChunkTraces, f.Traces-t0)
			q, err := readsFillSQL(t0, n, f.Traces, f.End)
			if err != nil {
				return fail(err)
			}
			if err := conn.Exec(ctx, q); err != nil {
				return fail(fmt.Errorf("cannot generate traces %d to %d: %w", t0, t0+n, err))
			}
			if o.Progress != nil {
				o.Progress("spans", int(t0+n)*readsSpansPerTrace, o.Spans)
			}
		}
		f.SpanTime = time.Since(began)
		began = time.Now()
		if err := writeReadsCostLines(ctx, st, o, f.End); err != nil {
			return fail(err)
		}
		f.CostTime = time.Since(began)
	}
	f.Tables, err = tableSizes(ctx, conn, cfg.Database)
	if err != nil {
		return fail(err)
	}
	for _, t := range f.Tables {
		f.TotalBytes += t.Bytes
		if t.Table == "spans" {
			f.SpanRows = t.Rows
		}
	}
	return st, f, nil
}

func tableSizes(ctx context.Context, conn driver.Conn, database string) ([]TableSize, error) {
	rows, err := conn.Query(ctx, "SELECT table, sum(rows), sum(bytes_on_disk) FROM system.parts WHERE database = ? AND active GROUP BY table ORDER BY table", database)
	if err != nil {
		return nil, fmt.Errorf("cannot read system.parts: %w", err)
	}
	defer rows.Close()
	var out []TableSize
	for rows.Next() {
		var t TableSize
		if err := rows.Scan(&t.Table, &t.Rows, &t.Bytes); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// readsCostBatch is how many bill lines one WriteCostLines call takes.
const readsCostBatch = 50000

// writeReadsCostLines writes bill lines through the store's own write
// path: daily usage lines over the 30 days before end, tagged with the
// model, team, app and service that attribution groups by.
func writeReadsCostLines(ctx context.Context, st store.CostWriter, o ReadsOptions, end time.Time) error {
	first := end.Add(-30 * 24 * time.Hour).Truncate(24 * time.Hour)
	providers := []string{"AWS", "Google Cloud", "Microsoft", "OpenAI", "Anthropic"}
	teams := []string{"search", "assistants", "platform", "growth", "support", "research", "ads", "risk"}
	batch := make([]store.CostLine, 0, readsCostBatch)
	for i := 0; i < o.CostLines; i++ {
		h := mix64(uint64(i) + 1)
		day := first.Add(time.Duration(h%30) * 24 * time.Hour)
		m := readsModels[h>>8%uint64(len(readsModels))]
		svc := ReadsServiceName(int(h >> 16 % 500))
		period := time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC)
		cents := int64(h>>24%50000) + 1
		cost := decimal.New(cents, -2)
		qty := decimal.New(int64(h>>40%2000000)+1000, 0)
		batch = append(batch, store.CostLine{
			Tenant: ReadsTenant, LineID: fmt.Sprintf("line-%08d", i), Source: "bench reads",
			BillingAccountID: "123456789012", BillingAccountName: "ai-platform", BillingCurrency: "USD",
			BillingPeriodStart: period, BillingPeriodEnd: period.AddDate(0, 1, 0),
			ChargePeriodStart: day, ChargePeriodEnd: day.Add(24 * time.Hour),
			ChargeCategory: "Usage", ChargeDescription: m.name + " tokens", ChargeFrequency: "Usage-Based", PricingCategory: "Standard",
			BilledCost: cost, EffectiveCost: cost, ListCost: cost, ContractedCost: cost,
			PricingQuantity: qty, PricingUnit: "1M tokens", ConsumedQuantity: qty, ConsumedUnit: "tokens",
			ProviderName: providers[h>>32%uint64(len(providers))], PublisherName: m.provider, InvoiceIssuerName: providers[h>>32%uint64(len(providers))],
			ServiceCategory: "AI and Machine Learning", ServiceName: m.provider + " inference",
			RegionID: "us-east-1", RegionName: "US East (N. Virginia)",
			ResourceID: "arn:aws:bedrock:us-east-1::" + svc, ResourceName: svc, ResourceType: "model-endpoint",
			SkuID: m.name + "-tokens", SkuPriceID: m.name + "-" + m.version,
			Tags: store.Attributes{{Key: "model", Value: m.name}, {Key: "team", Value: teams[h>>48%uint64(len(teams))]},
				{Key: "app", Value: readsServiceNames[h>>52%uint64(len(readsServiceNames))]}, {Key: "service", Value: svc}},
		})
		if len(batch) == readsCostBatch || i == o.CostLines-1 {
			if err := st.WriteCostLines(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
			if o.Progress != nil {
				o.Progress("cost lines", i+1, o.CostLines)
			}
		}
	}
	return nil
}

// ReadTiming is one read's times over its repetitions.
type ReadTiming struct {
	Name, Goal string
	Times      []time.Duration // sorted
	Rows       int             // what the last repetition returned
	Err        error
}

// Median is the middle time; P99 the nearest-rank 99th percentile.
func (r ReadTiming) Median() time.Duration { return r.quantile(50) }
func (r ReadTiming) P99() time.Duration    { return r.quantile(99) }

func (r ReadTiming) quantile(p int) time.Duration {
	if len(r.Times) == 0 {
		return 0
	}
	return r.Times[(p*len(r.Times)+99)/100-1]
}

// readsStore is what the reads benchmark reads: the methods web/jaeger,
// web/api and web/ui call.
type readsStore interface {
	store.SpanReader
	store.SpanStatsReader
	store.UsageReader
	store.CostReader
}

// MeasureReads times each read o.Reps times on a store FillReads filled.
func MeasureReads(ctx context.Context, st readsStore, f ReadsFill, o ReadsOptions) []ReadTiming {
	reps := max(o.Reps, 1)
	hour := store.TraceQuery{Tenant: ReadsTenant, Start: f.End.Add(-time.Hour), End: f.End}
	// The busiest services, where searches have the most to sift: service s
	// is drawn with probability about 1/(2·sqrt(s·10000)).
	search := func(i int, span time.Duration) store.TraceQuery {
		s := i % 10
		q := hour
		q.Start = f.End.Add(-span)
		q.Service, q.Operation = ReadsServiceName(s), ReadsRoute(s, i%3)
		q.MinDuration, q.MaxDuration = 2*time.Second, 10*time.Second
		q.Tags = map[string]string{"user.tier": readsTiers[i%len(readsTiers)]}
		return q
	}
	jaegerSearch := func(span time.Duration) func(context.Context, int) (int, error) {
		return func(ctx context.Context, i int) (int, error) {
			ids, err := st.FindTraceIDs(ctx, search(i, span))
			if err != nil {
				return 0, err
			}
			traces, err := st.Traces(ctx, ReadsTenant, ids) // as web/jaeger's findTraces loads them
			spans := 0
			for _, sp := range traces {
				spans += len(sp)
			}
			return spans, err
		}
	}
	reads := []struct {
		name, goal string
		run        func(ctx context.Context, i int) (rows int, err error)
	}{
		{"trace by id (5 spans)", "< 50 ms median, < 200 ms p99", func(ctx context.Context, i int) (int, error) {
			t := mix64(uint64(i)+99) % f.Traces
			sp, err := st.Trace(ctx, ReadsTenant, ReadsTraceID(t))
			if err == nil && len(sp) != readsSpansPerTrace {
				err = fmt.Errorf("trace %d has %d spans, want %d", t, len(sp), readsSpansPerTrace)
			}
			return len(sp), err
		}},
		{"Jaeger search 1 h: ids", "", func(ctx context.Context, i int) (int, error) {
			ids, err := st.FindTraceIDs(ctx, search(i, time.Hour))
			return len(ids), err
		}},
		{"Jaeger search 1 h: ids + traces (spans)", "< 300 ms", jaegerSearch(time.Hour)},
		{"Jaeger search 24 h: ids", "", func(ctx context.Context, i int) (int, error) {
			ids, err := st.FindTraceIDs(ctx, search(i, 24*time.Hour))
			return len(ids), err
		}},
		{"Jaeger search 24 h: ids + traces (spans)", "< 300 ms", jaegerSearch(24 * time.Hour)},
		{"services", "< 50 ms", func(ctx context.Context, _ int) (int, error) {
			s, err := st.Services(ctx, ReadsTenant)
			return len(s), err
		}},
		{"operations of a service", "< 50 ms", func(ctx context.Context, i int) (int, error) {
			ops, err := st.Operations(ctx, ReadsTenant, ReadsServiceName(i*37%readsServices))
			return len(ops), err
		}},
		{"UI services page, 1 h (3 reads at once)", "< 200 ms", func(ctx context.Context, _ int) (int, error) {
			return servicesPage(ctx, st, hour.Start, hour.End)
		}},
		{"cost by model, 30 days", "< 200 ms", func(ctx context.Context, _ int) (int, error) {
			g, err := st.CostTotals(ctx, store.CostQuery{Tenant: ReadsTenant, Start: f.End.Add(-30 * 24 * time.Hour), End: f.End},
				[]store.CostDimension{store.CostDimension(store.TagPrefix + "model")})
			return len(g), err
		}},
	}
	out := make([]ReadTiming, 0, len(reads))
	for _, rd := range reads {
		t := ReadTiming{Name: rd.name, Goal: rd.goal}
		for i := 0; i < reps && t.Err == nil; i++ {
			began := time.Now()
			t.Rows, t.Err = rd.run(ctx, i)
			t.Times = append(t.Times, time.Since(began))
		}
		slices.Sort(t.Times)
		out = append(out, t)
	}
	return out
}

// servicesPage makes the reads web/ui's services page makes for [start,
// end), at once as the page does: entry spans by service with
// percentiles, model usage by service, and counts per step for the
// sparklines (30 steps).
func servicesPage(ctx context.Context, st readsStore, start, end time.Time) (int, error) {
	q := store.SpanStatsQuery{Tenant: ReadsTenant, Start: start, End: end, GroupBy: []store.UsageDimension{"service"}, Entry: true}
	sq := q
	sq.Step, sq.CountsOnly = end.Sub(start)/30, true
	var wg sync.WaitGroup
	var stats []store.SpanStats
	var errs [3]error
	wg.Go(func() { stats, errs[0] = st.SpanStats(ctx, q) })
	wg.Go(func() {
		_, errs[1] = st.Usage(ctx, store.UsageQuery{Tenant: ReadsTenant, Start: start, End: end, GroupBy: []store.UsageDimension{"service"}})
	})
	wg.Go(func() { _, errs[2] = st.SpanStats(ctx, sq) })
	wg.Wait()
	return len(stats), errors.Join(errs[:]...)
}

// mix64 is splitmix64's finalizer: spreads a counter's bits.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
