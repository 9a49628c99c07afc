package sqlq

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
)

// recorder is a Conn that keeps the queries it is given and answers each
// with one row: counts of 1 and a fixed day, so that reads go on to their
// second query.
type recorder struct{ queries []Query }

func (r *recorder) Query(_ context.Context, query string, args ...any) (Rows, error) {
	r.queries = append(r.queries, Query{SQL: query, Args: args})
	return &oneRow{}, nil
}

func (*recorder) Strings(p *[]string) any      { return p }
func (*recorder) Int8s(p *[]int8) any          { return p }
func (*recorder) Money(p *decimal.Decimal) any { return p }

type oneRow struct{ done bool }

func (o *oneRow) Next() bool   { n := !o.done; o.done = true; return n }
func (o *oneRow) Err() error   { return nil }
func (o *oneRow) Close() error { return nil }
func (o *oneRow) Scan(dest ...any) error {
	for _, d := range dest {
		switch d := d.(type) {
		case *uint64:
			*d = 1
		case *time.Time:
			*d = day
		}
	}
	return nil
}

var day = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// TestPlaceholders builds every query with both dialects and checks that
// each has an argument per placeholder: the SELECT list, subqueries and
// WHERE clause bind in the order they are written.
func TestPlaceholders(t *testing.T) {
	c := context.Background()
	start, end := day.Add(time.Hour), day.Add(2*time.Hour)
	rules := []store.RepriceRule{
		{Tenant: "acme", Model: "gpt-4o", Start: start, End: end, Tiers: []store.RateTier{{Rate: store.TokenRate{Input: decimal.New(1, -6)}},
			{When: []store.TokenCondition{{Tokens: "input", Op: "gt", Value: 1000}}, Rate: store.TokenRate{Output: decimal.New(2, -6)}}}},
		{Tenant: "acme", Model: "unpriced", Start: start, End: end},
	}
	for name, d := range map[string]Dialect{"ClickHouse": ClickHouse, "DuckDB": DuckDB} {
		rec := &recorder{}
		r := NewReader(d, rec)
		r.Trace(c, "acme", store.TraceID{1})
		r.FindTraceIDs(c, store.TraceQuery{Tenant: "acme", Service: "chat", Start: start, End: end, MinDuration: time.Second,
			Tags: map[string]string{"error": "true", "team": "a"}})
		r.Services(c, "acme")
		r.Operations(c, "acme", "chat")
		r.SLICounts(c, store.SLIQuery{Tenant: "acme", Service: "chat", Model: "m", Attributes: map[string]string{"k": "v"},
			Good: "attribute", Attribute: "ttft", Op: "lt", Threshold: 0.5, Start: start, End: end})
		r.SpanDurations(c, store.DurationQuery{Tenant: "acme", Service: "chat", Deployment: "canary", Start: start, End: end})
		r.SpanValues(c, store.ValueQuery{Tenant: "acme", Service: "chat", Field: "attribute", Attribute: "score", Start: start, End: end})
		r.Throughput(c, store.ThroughputQuery{Tenant: "acme", Service: "chat", Operation: "op", Start: start, End: end})
		r.Usage(c, store.UsageQuery{Tenant: "acme", Start: start, End: end, GroupBy: []store.UsageDimension{"model"},
			Filter: map[store.UsageDimension]string{"service": "chat"}})
		ms, _ := store.ParseSelector(`up{job="a"}`)
		r.Series(c, "acme", ms)
		r.Samples(c, "acme", []uint64{1, 1 << 63}, start, end)
		cq := store.CostQuery{Tenant: "acme", Start: start, End: end, Step: time.Hour, Filter: map[store.CostDimension]string{"tag:team": "a"}}
		r.CostLines(c, cq)
		r.CostTotals(c, cq, []store.CostDimension{"tag:env", store.DimService})
		rq := store.RollupQuery{Tenant: "acme", SLO: "s", Start: start, End: end}
		r.Rollups(c, rq)
		r.SumRollups(c, rq)
		r.SumRollupWindows(c, "acme", []string{"a", "b"}, []time.Time{start, day}, end)
		r.TenantRollups(c, "acme", start, end, func(*store.Rollup) error { return nil })
		r.LiveMembers(c, "analyzers", start)
		r.Events(c, store.EventQuery{Tenant: "acme", Kinds: []store.EventKind{store.KindAlert}, Types: []string{"a", "b"}, Subjects: []string{"s"}, Start: start, End: end, Limit: 5})
		r.Events(c, store.EventQuery{AllTenants: true, Start: start, End: end})
		pms, _ := store.ParseSelector(`up{job=~"a.*",env!="x",zone!~"b"}`)
		sq := store.SeriesQuery{Tenant: "acme", Matchers: pms, Active: true, MinT: start.UnixMilli(), MaxT: end.UnixMilli()}
		r.SelectSeries(c, sq)
		r.LabelNames(c, sq)
		r.LabelValues(c, sq, "job")
		r.LabelValues(c, sq, "__name__")
		r.MetricFamilies(c, sq)
		r.ScanSamples(c, "acme", []uint64{1, 2}, sq.MinT, sq.MaxT, func(uint64, int64, float64) {})
		r.SpanCosts(c, store.RepriceQuery{Tenant: "acme", Start: start, End: end})
		Tally(c, d, rec, rules)
		queries := append(rec.queries, RepriceUpdate(d, rules))
		if len(queries) < 30 {
			t.Errorf("%s: only %d queries ran", name, len(queries))
		}
		for _, q := range queries {
			if n := strings.Count(q.SQL, "?"); n != len(q.Args) {
				t.Errorf("%s: %d placeholders, %d arguments in %s", name, n, len(q.Args), q.SQL)
			}
		}
	}
}

// TestClickHousePrune checks the bounds on a DateTime column cover every
// nanosecond of [start, end) and no whole second after it.
func TestClickHousePrune(t *testing.T) {
	for _, tc := range []struct {
		start, end     time.Time
		wantLo, wantHi time.Time
	}{
		{day, day.Add(time.Hour), day, day.Add(time.Hour)},
		{day.Add(1500 * time.Millisecond), day.Add(2500 * time.Millisecond), day.Add(time.Second), day.Add(3 * time.Second)},
	} {
		var c conds
		ClickHouse.prune(&c, "timestamp", tc.start, tc.end)
		if got := c.String(); got != "timestamp >= ? AND timestamp < ?" {
			t.Fatalf("condition %q", got)
		}
		if lo, hi := c.args[0].(time.Time), c.args[1].(time.Time); !lo.Equal(tc.wantLo) || !hi.Equal(tc.wantHi) {
			t.Errorf("[%s, %s): bounds [%s, %s), want [%s, %s)", tc.start, tc.end, lo, hi, tc.wantLo, tc.wantHi)
		}
	}
	var c conds
	DuckDB.prune(&c, "timestamp", day, day.Add(time.Hour))
	if len(c.sql) != 0 {
		t.Errorf("DuckDB pruned by %q", c.String())
	}
}
