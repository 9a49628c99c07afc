package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// TestFillReads fills a small store as vigil bench reads does and checks
// that Vigil's reads see what the generator meant: whole traces under the
// ids Go computes, their services listed and searchable, GenAI columns and
// attributes that decode. A column or view the generator stopped filling
// the way the write path does fails here.
func TestFillReads(t *testing.T) {
	addr := os.Getenv("VIGIL_TEST_CLICKHOUSE")
	if addr == "" {
		if os.Getenv("VIGIL_TEST_STRICT") != "" {
			t.Fatal("VIGIL_TEST_STRICT is set but VIGIL_TEST_CLICKHOUSE names no server")
		}
		t.Skip("VIGIL_TEST_CLICKHOUSE is not set")
	}
	ctx := context.Background()
	o := ReadsOptions{StoreURL: fmt.Sprintf("clickhouse://%s/vigil_benchreads_%d", addr, time.Now().UnixNano()), Spans: 5000, CostLines: 300, Reps: 1}
	st, f, err := FillReads(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { st.DropDatabase(ctx); st.Close() }()
	if f.SpanRows != 5000 || f.Traces != 1000 {
		t.Fatalf("filled %d spans in %d traces, want 5000 in 1000", f.SpanRows, f.Traces)
	}

	services, err := st.Services(ctx, ReadsTenant)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []uint64{0, 517, 999} {
		spans, err := st.Trace(ctx, ReadsTenant, ReadsTraceID(tr))
		if err != nil {
			t.Fatalf("trace %d: %v", tr, err)
		}
		checkReadsTrace(t, tr, spans, services)
		if start := spans[0].Start(); start.Before(f.End.Add(-24*time.Hour)) || !start.Before(f.End) {
			t.Errorf("trace %d starts at %s, outside the day before %s", tr, start, f.End)
		}
	}
	if _, err := st.Trace(ctx, ReadsTenant, ReadsTraceID(f.Traces)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a trace beyond the fill: err %v, want ErrNotFound", err)
	}

	root, err := st.Trace(ctx, ReadsTenant, ReadsTraceID(0))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := st.FindTraceIDs(ctx, store.TraceQuery{Tenant: ReadsTenant, Service: root[0].Service, Operation: root[0].Operation,
		Start: f.End.Add(-24 * time.Hour), End: f.End, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ids, ReadsTraceID(0)) {
		t.Errorf("searching %s %q found %d traces, not trace 0", root[0].Service, root[0].Operation, len(ids))
	}

	groups, err := st.CostTotals(ctx, store.CostQuery{Tenant: ReadsTenant, Start: f.End.Add(-31 * 24 * time.Hour), End: f.End},
		[]store.CostDimension{store.TagPrefix + "model"})
	if err != nil {
		t.Fatal(err)
	}
	var lines uint64
	for _, g := range groups {
		lines += g.Lines
	}
	if lines != 300 || len(groups) != len(readsModels) {
		t.Errorf("cost by model: %d lines in %d groups, want 300 in %d", lines, len(groups), len(readsModels))
	}

	for _, r := range MeasureReads(ctx, st, f, o) {
		if r.Err != nil || len(r.Times) != 1 {
			t.Errorf("%s: %d runs, err %v", r.Name, len(r.Times), r.Err)
		}
	}
}

// checkReadsTrace checks trace tr came back whole and as generated.
func checkReadsTrace(t *testing.T, tr uint64, spans []store.Span, services []string) {
	t.Helper()
	if len(spans) != readsSpansPerTrace {
		t.Fatalf("trace %d: %d spans, want %d", tr, len(spans), readsSpansPerTrace)
	}
	ids := map[store.SpanID]bool{}
	for k := range uint64(readsSpansPerTrace) {
		ids[ReadsSpanID(tr*readsSpansPerTrace+k)] = true
	}
	var roots, calls int
	for _, sp := range spans {
		if sp.TraceID != ReadsTraceID(tr) || !ids[sp.SpanID] {
			t.Errorf("trace %d: span %s of trace %s is not one generated", tr, sp.SpanID, sp.TraceID)
		}
		if !slices.Contains(services, sp.Service) {
			t.Errorf("trace %d: service %q is not among the %d services listed", tr, sp.Service, len(services))
		}
		if sp.ParentSpanID == (store.SpanID{}) {
			roots++
			if sp.SpanID != ReadsSpanID(tr*readsSpansPerTrace) || sp.Kind != store.SpanKindServer {
				t.Errorf("trace %d: root %s is %s, want span 0, a server", tr, sp.SpanID, sp.Kind)
			}
		} else if !ids[sp.ParentSpanID] {
			t.Errorf("trace %d: span %s's parent %s is not in the trace", tr, sp.SpanID, sp.ParentSpanID)
		}
		if name, _ := sp.Resource.Get("service.name"); name != sp.Service || sp.DurationNano <= 0 {
			t.Errorf("trace %d: span %s: service.name %q, service %q, duration %d", tr, sp.SpanID, name, sp.Service, sp.DurationNano)
		}
		if sp.Model == "" {
			continue
		}
		calls++
		var in store.KeyValue
		if i := slices.IndexFunc(sp.Attributes, func(kv store.KeyValue) bool { return kv.Key == "gen_ai.usage.input_tokens" }); i >= 0 {
			in = sp.Attributes[i]
		}
		if sp.Kind != store.SpanKindClient || sp.Provider == "" || sp.InputTokens <= 0 || !sp.Cost.IsPositive() ||
			in.Type != store.AttrInt || in.Value != fmt.Sprint(sp.InputTokens) {
			t.Errorf("trace %d: model call %s: kind %s, provider %q, %d input tokens (attribute %+v), cost %s",
				tr, sp.SpanID, sp.Kind, sp.Provider, sp.InputTokens, in, sp.Cost)
		}
		if sp.StatusCode != store.StatusError && (len(sp.Events) != 1 || sp.Events[0].TimeUnixNano <= sp.StartUnixNano) {
			t.Errorf("trace %d: model call %s: events %+v, want its first token after its start", tr, sp.SpanID, sp.Events)
		}
	}
	if roots != 1 || calls != 2 {
		t.Errorf("trace %d: %d roots and %d model calls, want 1 and 2", tr, roots, calls)
	}
}
