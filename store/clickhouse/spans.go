package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
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
	return insertSpans(ctx, s.conn, "spans", cols)
}

// insertSpans sends spanBlock's columns. The array columns go a row at a
// time, the driver's typed path: a whole array column it appends through
// reflection, element by element.
func insertSpans(ctx context.Context, conn driver.Conn, table string, cols []any) error {
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+spanColumns+")")
	if err != nil {
		return fmt.Errorf("cannot insert into %s: %w", table, err)
	}
	defer b.Abort()
	for i, c := range cols {
		col := b.Column(i)
		switch c := c.(type) {
		case [][]*string:
			for _, row := range c {
				if err = col.AppendRow(row); err != nil {
					break
				}
			}
		case [][]int8:
			for _, row := range c {
				if err = col.AppendRow(row); err != nil {
					break
				}
			}
		default:
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
		resKeys, resVals, attrKeys, attrVals           = make([][]*string, n), make([][]*string, n), make([][]*string, n), make([][]*string, n)
		resTypes, attrTypes                            = make([][]int8, n), make([][]int8, n)
		cost                                           = make([]decimal.Decimal, n)
	)
	var nAttrs int
	for i := range spans {
		nAttrs += len(spans[i].Resource) + len(spans[i].Attributes)
	}
	attrs := attrArrays{strs: make([]*string, 0, 2*nAttrs), types: make([]int8, 0, nAttrs)}
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
		resKeys[i], resVals[i], resTypes[i] = attrs.split(sp.Resource)
		attrKeys[i], attrVals[i], attrTypes[i] = attrs.split(sp.Attributes)
	}
	return []any{
		timestamp, tenant, start, duration, traceID, spanID, parentID, traceState,
		service, operation, kind, status, statusMsg, scope, scopeVer,
		resKeys, resVals, attrKeys, attrVals, events, links,
		model, modelVer, deployment, provider, opType,
		inTok, outTok, cachedTok, cost, resTypes, attrTypes,
	}, nil
}

// attrArrays holds the attribute array columns of a batch of spans, in
// one backing array each: keys and values as pointers to the spans' own
// strings, which the driver appends without boxing (a []string row costs
// an allocation an element), and the types.
type attrArrays struct {
	strs  []*string
	types []int8
}

// split is Attributes.SplitTyped into the backing arrays: keys, values,
// and types, empty when every value is a string.
func (a *attrArrays) split(attrs store.Attributes) (keys, values []*string, types []int8) {
	start := len(a.strs)
	for i := range attrs {
		a.strs = append(a.strs, &attrs[i].Key)
	}
	for i := range attrs {
		a.strs = append(a.strs, &attrs[i].Value)
	}
	mid, end := start+len(attrs), len(a.strs)
	keys, values = a.strs[start:mid:mid], a.strs[mid:end:end]
	if !slices.ContainsFunc(attrs, func(kv store.KeyValue) bool { return kv.Type != store.AttrString }) {
		return keys, values, []int8{}
	}
	start = len(a.types)
	for _, kv := range attrs {
		a.types = append(a.types, int8(kv.Type))
	}
	return keys, values, a.types[start:]
}
