package embedded

import (
	"context"
	"database/sql/driver"
	"fmt"
	"sort"
	"strings"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/codec"
)

// WriteSpans appends spans.
func (s *Store) WriteSpans(ctx context.Context, spans []store.Span) error {
	rows := make([][]driver.Value, len(spans))
	for i := range spans {
		sp := &spans[i]
		cost, err := moneyValue(sp.Cost)
		if err != nil {
			return fmt.Errorf("span %s/%s: %w", sp.TraceID, sp.SpanID, err)
		}
		events, links, err := codec.EncodeEventsLinks(sp)
		if err != nil {
			return err
		}
		rk, rv := sp.Resource.Split()
		ak, av := sp.Attributes.Split()
		rows[i] = []driver.Value{
			sp.Tenant, dayOf(sp.Start()), sp.StartUnixNano, sp.DurationNano,
			sp.TraceID[:], sp.SpanID[:], sp.ParentSpanID[:], sp.TraceState,
			sp.Service, sp.Operation, int8(sp.Kind), int8(sp.StatusCode), sp.StatusMessage,
			sp.ScopeName, sp.ScopeVersion, rk, rv, ak, av, events, links,
			sp.Model, sp.ModelVersion, sp.Deployment, sp.Provider, sp.OperationType,
			sp.InputTokens, sp.OutputTokens, sp.CachedTokens, cost,
		}
	}
	return s.appendRows(ctx, "spans", "", len(rows), func(i int) []driver.Value { return rows[i] })
}

const spanColumns = `tenant, start_ns, duration_ns, trace_id, span_id, parent_span_id, trace_state,
	service, operation, kind, status_code, status_message, scope_name, scope_version,
	resource_keys, resource_values, attr_keys, attr_values, events, links,
	model, model_version, deployment, provider, operation_type,
	input_tokens, output_tokens, cached_tokens, cost`

// Trace returns a trace's spans.
func (s *Store) Trace(ctx context.Context, tenant string, id store.TraceID) ([]store.Span, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+spanColumns+` FROM spans WHERE tenant = ? AND trace_id = ? ORDER BY start_ns, span_id`, tenant, id[:])
	if err != nil {
		return nil, fmt.Errorf("cannot read trace %s: %w", id, err)
	}
	defer rows.Close()
	var out []store.Span
	for rows.Next() {
		var sp store.Span
		var traceID, spanID, parentID []byte
		var kind, status int8
		var rk, rv, ak, av stringList
		var events, links string
		var cost money
		if err := rows.Scan(&sp.Tenant, &sp.StartUnixNano, &sp.DurationNano, &traceID, &spanID, &parentID, &sp.TraceState,
			&sp.Service, &sp.Operation, &kind, &status, &sp.StatusMessage, &sp.ScopeName, &sp.ScopeVersion,
			&rk, &rv, &ak, &av, &events, &links,
			&sp.Model, &sp.ModelVersion, &sp.Deployment, &sp.Provider, &sp.OperationType,
			&sp.InputTokens, &sp.OutputTokens, &sp.CachedTokens, &cost); err != nil {
			return nil, fmt.Errorf("cannot read trace %s: %w", id, err)
		}
		copy(sp.TraceID[:], traceID)
		copy(sp.SpanID[:], spanID)
		copy(sp.ParentSpanID[:], parentID)
		sp.Kind, sp.StatusCode, sp.Cost = store.SpanKind(kind), store.StatusCode(status), cost.d
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
		add("start_ns >= ?", q.Start.UnixNano())
	}
	if !q.End.IsZero() {
		add("start_ns < ?", q.End.UnixNano())
	}
	if q.MinDuration > 0 {
		add("duration_ns >= ?", int64(q.MinDuration))
	}
	if q.MaxDuration > 0 {
		add("duration_ns <= ?", int64(q.MaxDuration))
	}
	for _, k := range sortedKeys(q.Tags) {
		v := q.Tags[k]
		cond := "(coalesce(attr_values[list_position(attr_keys, ?)], '') = ? AND list_contains(attr_keys, ?) OR coalesce(resource_values[list_position(resource_keys, ?)], '') = ? AND list_contains(resource_keys, ?))"
		if k == "error" && v == "true" {
			add("("+cond+" OR status_code = ?)", k, v, k, k, v, k, int8(store.StatusError))
		} else {
			add(cond, k, v, k, k, v, k)
		}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = store.DefaultTraceLimit
	}
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, `SELECT trace_id, max(start_ns) AS latest FROM spans WHERE `+strings.Join(where, " AND ")+
		` GROUP BY trace_id ORDER BY latest DESC, trace_id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot search traces: %w", err)
	}
	defer rows.Close()
	var ids []store.TraceID
	for rows.Next() {
		var b []byte
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

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Services lists a tenant's services.
func (s *Store) Services(ctx context.Context, tenant string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT service FROM spans WHERE tenant = ? ORDER BY service`, tenant)
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
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT operation, kind FROM spans WHERE tenant = ? AND service = ? ORDER BY operation, kind`, tenant, service)
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
