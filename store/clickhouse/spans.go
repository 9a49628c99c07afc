package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/codec"
	"github.com/vigil-dev/vigil/store/internal/sqlq"
)

// spanColumns are the shared span columns and timestamp, the DateTime
// that partitions spans.
const spanColumns = "timestamp, " + sqlq.SpanColumns

// WriteSpans inserts spans in one batch, column by column: the driver's
// row-at-a-time path boxes every value and was half of the collector's CPU.
func (s *Store) WriteSpans(ctx context.Context, spans []store.Span) error {
	if len(spans) == 0 {
		return nil
	}
	cols, err := spanBlock(spans)
	if err != nil {
		return err
	}
	return s.insertColumns(ctx, "spans", spanColumns, cols)
}

// spanBlock is the spans as whole columns, in the order of spanColumns.
func spanBlock(spans []store.Span) ([]any, error) {
	n := len(spans)
	var (
		tenant, traceID, spanID, parentID, traceState  = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		service, operation, statusMsg, scope, scopeVer = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		events, links                                  = make([]string, n), make([]string, n)
		model, modelVer, deployment, provider, opType  = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		timestamp                                      = make([]time.Time, n)
		start, duration, inTok, outTok, cachedTok      = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		kind, status                                   = make([]int8, n), make([]int8, n)
		resKeys, resVals, attrKeys, attrVals           = make([][]string, n), make([][]string, n), make([][]string, n), make([][]string, n)
		resTypes, attrTypes                            = make([][]int8, n), make([][]int8, n)
		cost                                           = make([]decimal.Decimal, n)
	)
	for i := range spans {
		sp := &spans[i]
		c, err := store.Money(sp.Cost)
		if err != nil {
			return nil, fmt.Errorf("span %s: %w", sp.SpanID, err)
		}
		if events[i], links[i], err = codec.EncodeEventsLinks(sp); err != nil {
			return nil, err
		}
		tenant[i], traceID[i], spanID[i], parentID[i], traceState[i] = sp.Tenant, string(sp.TraceID[:]), string(sp.SpanID[:]), string(sp.ParentSpanID[:]), sp.TraceState
		service[i], operation[i], statusMsg[i], scope[i], scopeVer[i] = sp.Service, sp.Operation, sp.StatusMessage, sp.ScopeName, sp.ScopeVersion
		model[i], modelVer[i], deployment[i], provider[i], opType[i] = sp.Model, sp.ModelVersion, sp.Deployment, sp.Provider, sp.OperationType
		timestamp[i], start[i], duration[i] = dateTime(sp.Start()), sp.StartUnixNano, sp.DurationNano
		inTok[i], outTok[i], cachedTok[i] = sp.InputTokens, sp.OutputTokens, sp.CachedTokens
		kind[i], status[i], cost[i] = int8(sp.Kind), int8(sp.StatusCode), c
		resKeys[i], resVals[i], resTypes[i] = sp.Resource.SplitTyped()
		attrKeys[i], attrVals[i], attrTypes[i] = sp.Attributes.SplitTyped()
	}
	return []any{
		timestamp, tenant, start, duration, traceID, spanID, parentID, traceState,
		service, operation, kind, status, statusMsg, scope, scopeVer,
		resKeys, resVals, attrKeys, attrVals, events, links,
		model, modelVer, deployment, provider, opType,
		inTok, outTok, cachedTok, cost, resTypes, attrTypes,
	}, nil
}
