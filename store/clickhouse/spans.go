package clickhouse

import (
	"context"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/codec"
)

const spanColumns = `tenant, timestamp, start_ns, duration_ns, trace_id, span_id, parent_span_id, trace_state,
	service, operation, kind, status_code, status_message, scope_name, scope_version,
	resource_keys, resource_values, attr_keys, attr_values, events, links,
	model, model_version, deployment, provider, operation_type,
	input_tokens, output_tokens, cached_tokens, cost`

// WriteSpans inserts spans in one batch, column by column: the driver's
// row-at-a-time path boxes every value and was half of the collector's CPU.
func (s *Store) WriteSpans(ctx context.Context, spans []store.Span) error {
	n := len(spans)
	if n == 0 {
		return nil
	}
	var (
		tenant, traceID, spanID, parentID, traceState  = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		service, operation, statusMsg, scope, scopeVer = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		events, links                                  = make([]string, n), make([]string, n)
		model, modelVer, deployment, provider, opType  = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		timestamp                                      = make([]time.Time, n)
		start, duration, inTok, outTok, cachedTok      = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		kind, status                                   = make([]int8, n), make([]int8, n)
		resKeys, resVals, attrKeys, attrVals           = make([][]string, n), make([][]string, n), make([][]string, n), make([][]string, n)
		cost                                           = make([]decimal.Decimal, n)
	)
	for i := range spans {
		sp := &spans[i]
		c, err := store.Money(sp.Cost)
		if err != nil {
			return fmt.Errorf("span %s: %w", sp.SpanID, err)
		}
		if events[i], links[i], err = codec.EncodeEventsLinks(sp); err != nil {
			return err
		}
		tenant[i], traceID[i], spanID[i], parentID[i], traceState[i] = sp.Tenant, string(sp.TraceID[:]), string(sp.SpanID[:]), string(sp.ParentSpanID[:]), sp.TraceState
		service[i], operation[i], statusMsg[i], scope[i], scopeVer[i] = sp.Service, sp.Operation, sp.StatusMessage, sp.ScopeName, sp.ScopeVersion
		model[i], modelVer[i], deployment[i], provider[i], opType[i] = sp.Model, sp.ModelVersion, sp.Deployment, sp.Provider, sp.OperationType
		timestamp[i], start[i], duration[i] = dateTime(sp.Start()), sp.StartUnixNano, sp.DurationNano
		inTok[i], outTok[i], cachedTok[i] = sp.InputTokens, sp.OutputTokens, sp.CachedTokens
		kind[i], status[i], cost[i] = int8(sp.Kind), int8(sp.StatusCode), c
		resKeys[i], resVals[i] = sp.Resource.Split()
		attrKeys[i], attrVals[i] = sp.Attributes.Split()
	}
	// In the order of spanColumns.
	return s.insertColumns(ctx, "spans", spanColumns, []any{
		tenant, timestamp, start, duration, traceID, spanID, parentID, traceState,
		service, operation, kind, status, statusMsg, scope, scopeVer,
		resKeys, resVals, attrKeys, attrVals, events, links,
		model, modelVer, deployment, provider, opType,
		inTok, outTok, cachedTok, cost,
	})
}

// Trace returns a trace's spans, reading only the days the trace index
// names.
func (s *Store) Trace(ctx context.Context, tenant string, id store.TraceID) ([]store.Span, error) {
	idHex := hex.EncodeToString(id[:])
	var first, last time.Time
	err := s.conn.QueryRow(ctx, `SELECT min(day), max(day) FROM trace_index WHERE tenant = ? AND trace_id = toFixedString(unhex(?), 16)`, tenant, idHex).Scan(&first, &last)
	if err != nil {
		return nil, fmt.Errorf("cannot look up trace %s: %w", id, err)
	}
	if first.Year() <= 1970 {
		return nil, fmt.Errorf("trace %s: %w", id, store.ErrNotFound)
	}
	rows, err := s.conn.Query(ctx, `SELECT `+spanColumns+` FROM spans
		WHERE tenant = ? AND timestamp >= ? AND timestamp < ? AND trace_id = toFixedString(unhex(?), 16)
		ORDER BY start_ns, span_id`, tenant, first, last.AddDate(0, 0, 1), idHex)
	if err != nil {
		return nil, fmt.Errorf("cannot read trace %s: %w", id, err)
	}
	defer rows.Close()
	var out []store.Span
	for rows.Next() {
		var sp store.Span
		var ts time.Time
		var traceID, spanID, parentID string
		var kind, status int8
		var rk, rv, ak, av []string
		var events, links string
		var cost decimal.Decimal
		if err := rows.Scan(&sp.Tenant, &ts, &sp.StartUnixNano, &sp.DurationNano, &traceID, &spanID, &parentID, &sp.TraceState,
			&sp.Service, &sp.Operation, &kind, &status, &sp.StatusMessage, &sp.ScopeName, &sp.ScopeVersion,
			&rk, &rv, &ak, &av, &events, &links,
			&sp.Model, &sp.ModelVersion, &sp.Deployment, &sp.Provider, &sp.OperationType,
			&sp.InputTokens, &sp.OutputTokens, &sp.CachedTokens, &cost); err != nil {
			return nil, fmt.Errorf("cannot read trace %s: %w", id, err)
		}
		copy(sp.TraceID[:], traceID)
		copy(sp.SpanID[:], spanID)
		copy(sp.ParentSpanID[:], parentID)
		sp.Kind, sp.StatusCode, sp.Cost = store.SpanKind(kind), store.StatusCode(status), cost
		sp.Resource = store.JoinAttributes(rk, rv)
		sp.Attributes = store.JoinAttributes(ak, av)
		if err := codec.DecodeEventsLinks(&sp, events, links); err != nil {
			return nil, err
		}
		out = append(out, sp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read trace %s: %w", id, err)
	}
	if len(out) == 0 {
		// The index outlived the spans (retention drops both, not atomically).
		return nil, fmt.Errorf("trace %s: %w", id, store.ErrNotFound)
	}
	return out, nil
}

// FindTraceIDs finds traces with a span matching the query.
func (s *Store) FindTraceIDs(ctx context.Context, q store.TraceQuery) ([]store.TraceID, error) {
	where := []string{"tenant = ?"}
	args := []any{q.Tenant}
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if q.Service != "" {
		add("service = ?", q.Service)
	}
	if q.Operation != "" {
		add("operation = ?", q.Operation)
	}
	if !q.Start.IsZero() {
		add("timestamp >= ? AND start_ns >= ?", dateTime(q.Start), q.Start.UnixNano())
	}
	if !q.End.IsZero() {
		_, end := secondsRange(q.End, q.End)
		add("timestamp <= ? AND start_ns < ?", end, q.End.UnixNano())
	}
	if q.MinDuration > 0 {
		add("duration_ns >= ?", int64(q.MinDuration))
	}
	if q.MaxDuration > 0 {
		add("duration_ns <= ?", int64(q.MaxDuration))
	}
	keys := make([]string, 0, len(q.Tags))
	for k := range q.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := q.Tags[k]
		cond := "(has(attr_keys, ?) AND attr_values[indexOf(attr_keys, ?)] = ? OR has(resource_keys, ?) AND resource_values[indexOf(resource_keys, ?)] = ?)"
		if k == "error" && v == "true" {
			add("("+cond+" OR status_code = ?)", k, k, v, k, k, v, int8(store.StatusError))
		} else {
			add(cond, k, k, v, k, k, v)
		}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = store.DefaultTraceLimit
	}
	rows, err := s.conn.Query(ctx, `SELECT trace_id, max(start_ns) AS latest FROM spans WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(` GROUP BY trace_id ORDER BY latest DESC, trace_id LIMIT %d`, limit), args...)
	if err != nil {
		return nil, fmt.Errorf("cannot search traces: %w", err)
	}
	defer rows.Close()
	var ids []store.TraceID
	for rows.Next() {
		var b string
		var latest int64
		if err := rows.Scan(&b, &latest); err != nil {
			return nil, fmt.Errorf("cannot search traces: %w", err)
		}
		var id store.TraceID
		copy(id[:], b)
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// Services lists a tenant's services.
func (s *Store) Services(ctx context.Context, tenant string) ([]string, error) {
	rows, err := s.conn.Query(ctx, `SELECT DISTINCT service FROM spans WHERE tenant = ? ORDER BY service`, tenant)
	if err != nil {
		return nil, fmt.Errorf("cannot list services: %w", err)
	}
	defer rows.Close()
	out, err := codec.Strings(rows)
	if err != nil {
		return nil, fmt.Errorf("cannot list services: %w", err)
	}
	return out, nil
}

// Operations lists a service's operations.
func (s *Store) Operations(ctx context.Context, tenant, service string) ([]store.Operation, error) {
	rows, err := s.conn.Query(ctx, `SELECT DISTINCT operation, kind FROM spans WHERE tenant = ? AND service = ? ORDER BY operation, kind`, tenant, service)
	if err != nil {
		return nil, fmt.Errorf("cannot list operations: %w", err)
	}
	defer rows.Close()
	out, err := codec.Operations(rows)
	if err != nil {
		return nil, fmt.Errorf("cannot list operations: %w", err)
	}
	return out, nil
}
