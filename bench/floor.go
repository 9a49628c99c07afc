package bench

import (
	"context"
	"fmt"
	"syscall"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/shopspring/decimal"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/backend"
	"github.com/vigil-dev/vigil/store/clickhouse"
)

// FloorResult is what inserting rows straight through the driver cost.
type FloorResult struct {
	Rows       int
	Elapsed    time.Duration
	CPUSeconds float64 // this process's user and system time while inserting
}

// CPUPerRow is the driver's CPU time per row.
func (r FloorResult) CPUPerRow() time.Duration {
	return time.Duration(r.CPUSeconds / float64(r.Rows) * 1e9)
}

// floorColumns is the spans table's column list, in the order of the
// columns floorBatch builds.
const floorColumns = `timestamp, tenant, start_ns, duration_ns, trace_id, span_id, parent_span_id, trace_state,
	service, operation, kind, status_code, status_message, scope_name, scope_version,
	resource_keys, resource_values, attr_keys, attr_values, events, links,
	model, model_version, deployment, provider, operation_type,
	input_tokens, output_tokens, cached_tokens, cost, resource_types, attr_types`

// RawInsertFloor is the floor the collector's ingest is compared with:
// rows spans of the load generator's, as Vigil stores them, inserted in
// batches into the spans table of the ClickHouse store at storeURL (its
// schema made by opening it as a Vigil store) with clickhouse-go alone —
// whole columns, the array columns a row at a time as []*string and
// []int8, the driver's cheapest path (a []string row boxes each element) —
// and nothing of Vigil between. The columns are built before the
// clock starts; what is timed is the driver's batch: appending the
// columns and sending them. Use a fresh database.
func RawInsertFloor(ctx context.Context, storeURL string, rows, batch int) (FloorResult, error) {
	st, err := backend.Open(ctx, storeURL, "")
	if err != nil {
		return FloorResult{}, err
	}
	st.Close()
	cfg, err := clickhouse.ParseURL(storeURL)
	if err != nil {
		return FloorResult{}, err
	}
	opts := *cfg.Options
	opts.Auth.Database = cfg.Database
	conn, err := ch.Open(&opts)
	if err != nil {
		return FloorResult{}, err
	}
	defer conn.Close()

	g := newGenerator(1000, batch)
	var res FloorResult
	for res.Rows < rows {
		cols := floorBatch(g)
		cpu0, t0 := cpuSeconds(), time.Now()
		if err := insertFloor(ctx, conn, cols); err != nil {
			return res, err
		}
		res.CPUSeconds += cpuSeconds() - cpu0
		res.Elapsed += time.Since(t0)
		res.Rows += batch
	}
	return res, nil
}

func insertFloor(ctx context.Context, conn ch.Conn, cols []any) error {
	b, err := conn.PrepareBatch(ctx, "INSERT INTO spans ("+floorColumns+")")
	if err != nil {
		return fmt.Errorf("cannot insert into spans: %w", err)
	}
	defer b.Abort()
	for i, c := range cols {
		col := b.Column(i)
		switch c := c.(type) {
		case [][]*string:
			for _, a := range c {
				if err = col.AppendRow(a); err != nil {
					break
				}
			}
		case [][]int8:
			for _, a := range c {
				if err = col.AppendRow(a); err != nil {
					break
				}
			}
		default:
			err = col.Append(c)
		}
		if err != nil {
			return fmt.Errorf("cannot insert into spans: column %d: %w", i, err)
		}
	}
	return b.Send()
}

// floorBatch is one request of the generator as the spans table's
// columns, with the values the collector stores for them: resource and
// span attributes in parallel arrays with their types, the GenAI columns
// filled from the attributes, a cost of $2.50 per million input and $10
// per million output tokens.
func floorBatch(g *generator) []any {
	rs := g.next().Traces().ResourceSpans().At(0)
	spans := rs.ScopeSpans().At(0).Spans()
	scope := rs.ScopeSpans().At(0).Scope()
	n := spans.Len()
	var resKeys, resVals []*string
	rs.Resource().Attributes().Range(func(k string, v pcommon.Value) bool {
		resKeys, resVals = append(resKeys, ptr(k)), append(resVals, ptr(v.AsString()))
		return true
	})
	service, _ := rs.Resource().Attributes().Get("service.name")
	version, _ := rs.Resource().Attributes().Get("service.version")
	env, _ := rs.Resource().Attributes().Get("deployment.environment.name")
	str := func(v string) []string {
		s := make([]string, n)
		for i := range s {
			s[i] = v
		}
		return s
	}
	var (
		timestamp                   = make([]time.Time, n)
		start, duration             = make([]int64, n), make([]int64, n)
		traceID, spanID, parentID   = make([]string, n), make([]string, n), make([]string, n)
		operation, model            = make([]string, n), make([]string, n)
		kind, status                = make([]int8, n), make([]int8, n)
		inTok, outTok               = make([]int64, n), make([]int64, n)
		cost                        = make([]decimal.Decimal, n)
		attrKeys, attrVals          = make([][]*string, n), make([][]*string, n)
		attrTypes, resTypes         = make([][]int8, n), make([][]int8, n)
		resKeyCol, resValCol        = make([][]*string, n), make([][]*string, n)
		inputPrice, outputPrice     = decimal.RequireFromString("0.0000025"), decimal.RequireFromString("0.00001")
		empty, tenant, statusMsg    = str(""), str(store.DefaultTenant), str("")
		serviceCol, scopeName, envs = str(service.AsString()), str(scope.Name()), str(env.AsString())
	)
	for i := 0; i < n; i++ {
		s := spans.At(i)
		start[i] = int64(s.StartTimestamp())
		duration[i] = int64(s.EndTimestamp() - s.StartTimestamp())
		timestamp[i] = time.Unix(0, start[i]).UTC().Truncate(time.Second)
		tid, sid, pid := s.TraceID(), s.SpanID(), s.ParentSpanID()
		traceID[i], spanID[i], parentID[i] = string(tid[:]), string(sid[:]), string(pid[:])
		operation[i] = s.Name()
		kind[i], status[i] = int8(s.Kind()), int8(s.Status().Code())
		a := s.Attributes()
		keys, vals, types := make([]*string, 0, a.Len()), make([]*string, 0, a.Len()), make([]int8, 0, a.Len())
		a.Range(func(k string, v pcommon.Value) bool {
			keys, vals = append(keys, ptr(k)), append(vals, ptr(v.AsString()))
			types = append(types, floorType(v.Type()))
			return true
		})
		attrKeys[i], attrVals[i], attrTypes[i] = keys, vals, types
		resKeyCol[i], resValCol[i], resTypes[i] = resKeys, resVals, []int8{}
		m, _ := a.Get("gen_ai.request.model")
		in, _ := a.Get("gen_ai.usage.input_tokens")
		out, _ := a.Get("gen_ai.usage.output_tokens")
		model[i], inTok[i], outTok[i] = m.Str(), in.Int(), out.Int()
		cost[i] = inputPrice.Mul(decimal.NewFromInt(inTok[i])).Add(outputPrice.Mul(decimal.NewFromInt(outTok[i])))
	}
	return []any{
		timestamp, tenant, start, duration, traceID, spanID, parentID, empty,
		serviceCol, operation, kind, status, statusMsg, scopeName, empty,
		resKeyCol, resValCol, attrKeys, attrVals, empty, empty,
		model, str(version.AsString()), envs, str("openai"), str("chat"),
		inTok, outTok, make([]int64, n), cost, resTypes, attrTypes,
	}
}

func ptr(s string) *string { return &s }

// floorType is the stored type of the generator's attribute values.
func floorType(t pcommon.ValueType) int8 {
	switch t {
	case pcommon.ValueTypeInt:
		return int8(store.AttrInt)
	case pcommon.ValueTypeDouble:
		return int8(store.AttrDouble)
	}
	return int8(store.AttrString)
}

// cpuSeconds is this process's user and system time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
