package embedded

import (
	"context"
	"database/sql/driver"
	"fmt"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/codec"
)

// WriteSpans appends spans, and their traces to the trace index, in one
// transaction.
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
		rk, rv, rt := sp.Resource.SplitTyped()
		ak, av, at := sp.Attributes.SplitTyped()
		rows[i] = []driver.Value{
			sp.Tenant, dayOf(sp.Start()), sp.StartUnixNano, sp.DurationNano,
			sp.TraceID[:], sp.SpanID[:], sp.ParentSpanID[:], sp.TraceState,
			sp.Service, sp.Operation, int8(sp.Kind), int8(sp.StatusCode), sp.StatusMessage,
			sp.ScopeName, sp.ScopeVersion, rk, rv, ak, av, events, links,
			sp.Model, sp.ModelVersion, sp.Deployment, sp.Provider, sp.OperationType,
			sp.InputTokens, sp.OutputTokens, sp.CachedTokens, cost, rt, at,
		}
	}
	if len(rows) == 0 {
		return nil
	}
	traces := traceSpans(spans)
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var pending int
	err := s.inTxLocked(ctx, func(dc driver.Conn) error {
		if err := appendTo(dc, "spans", "", len(rows), func(i int) []driver.Value { return rows[i] }); err != nil {
			return err
		}
		var err error
		pending, err = s.writeTraceIndexLocked(ctx, dc, traces)
		return err
	})
	if err != nil {
		return err
	}
	s.pendingTraces = pending
	return nil
}
