package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

func testSpanStats(t *testing.T, s store.Store) {
	c := ctx(t)
	var spans []store.Span
	id := 0
	add := func(minute, second int, d time.Duration, edit func(*store.Span)) {
		id++
		sp := chatSpan("acme", id, id, -1, base.Add(time.Duration(minute)*time.Minute+time.Duration(second)*time.Second), d)
		sp.Kind, sp.Operation = store.SpanKindServer, "POST /chat"
		if edit != nil {
			edit(&sp)
		}
		spans = append(spans, sp)
	}
	// Minute 0: ten requests of 1..10 ms, the 3rd and 7th failing, each
	// with a model call of 100 ms under it (a client span: not an entry).
	for i := 1; i <= 10; i++ {
		add(0, i, time.Duration(i)*time.Millisecond, func(sp *store.Span) {
			if i == 3 || i == 7 {
				sp.StatusCode = store.StatusError
			}
		})
		parent := id
		add(0, i, 100*time.Millisecond, func(sp *store.Span) {
			sp.TraceID, sp.ParentSpanID = traceID(parent), spanID(parent)
			sp.Kind, sp.Operation = store.SpanKindClient, "chat gpt-4o"
			// A team on the resource of four calls, on the span of one.
			if i <= 4 {
				sp.Resource = append(sp.Resource, store.KeyValue{Key: "team", Value: "search"})
			} else if i == 5 {
				sp.Attributes = append(sp.Attributes, store.KeyValue{Key: "team", Value: "chat"})
			}
		})
	}
	// Minute 1: four requests, without models.
	for i, ms := range []int{80, 20, 60, 40} {
		add(1, i, time.Duration(ms)*time.Millisecond, func(sp *store.Span) { sp.Model = "" })
	}
	// Another service's roots are entries whatever their kind.
	for _, ms := range []int{15, 5} {
		add(0, 30, time.Duration(ms)*time.Millisecond, func(sp *store.Span) {
			sp.Service, sp.Kind, sp.Operation, sp.Model = "ranker", store.SpanKindInternal, "rank", ""
		})
	}
	// Never counted: another tenant, before the range.
	add(0, 1, time.Second, func(sp *store.Span) { sp.Tenant = "globex" })
	add(-1, 0, time.Second, nil)
	if err := s.WriteSpans(c, spans); err != nil {
		t.Fatal(err)
	}
	q := store.SpanStatsQuery{Tenant: "acme", Start: base, End: base.Add(time.Hour)}
	for _, tc := range []struct {
		name string
		q    func(store.SpanStatsQuery) store.SpanStatsQuery
		want string
	}{
		{"requests by service", func(q store.SpanStatsQuery) store.SpanStatsQuery {
			q.GroupBy, q.Entry = []store.UsageDimension{"service"}, true
			return q
		}, "[chat-gateway] 10:00 14 2 7ms 60ms 80ms; [ranker] 10:00 2 0 5ms 15ms 15ms"},
		{"operations per minute", func(q store.SpanStatsQuery) store.SpanStatsQuery {
			q.GroupBy, q.Step = []store.UsageDimension{"operation"}, time.Minute
			q.Filter = map[store.UsageDimension]string{"service": "chat-gateway"}
			return q
		}, "[POST /chat] 10:00 10 2 5ms 9ms 10ms; [POST /chat] 10:01 4 0 40ms 80ms 80ms; [chat gpt-4o] 10:00 10 0 100ms 100ms 100ms"},
		{"model calls", func(q store.SpanStatsQuery) store.SpanStatsQuery {
			q.GroupBy, q.ModelCalls, q.Entry = []store.UsageDimension{"model"}, true, false
			q.Filter = map[store.UsageDimension]string{"operation": "chat gpt-4o"}
			return q
		}, "[gpt-4o] 10:00 10 0 100ms 100ms 100ms"},
		{"model calls by team, an attribute", func(q store.SpanStatsQuery) store.SpanStatsQuery {
			team, _ := store.AttributeDimension("team")
			q.GroupBy, q.ModelCalls = []store.UsageDimension{team}, true
			q.Filter = map[store.UsageDimension]string{"operation": "chat gpt-4o"}
			return q
		}, "[] 10:00 5 0 100ms 100ms 100ms; [chat] 10:00 1 0 100ms 100ms 100ms; [search] 10:00 4 0 100ms 100ms 100ms"},
		{"operations per minute, counts only", func(q store.SpanStatsQuery) store.SpanStatsQuery {
			q.GroupBy, q.Step, q.CountsOnly = []store.UsageDimension{"operation"}, time.Minute, true
			q.Filter = map[store.UsageDimension]string{"service": "chat-gateway"}
			return q
		}, "[POST /chat] 10:00 10 2 0s 0s 0s; [POST /chat] 10:01 4 0 0s 0s 0s; [chat gpt-4o] 10:00 10 0 0s 0s 0s"},
		{"no groups, two-minute buckets, end exclusive", func(q store.SpanStatsQuery) store.SpanStatsQuery {
			q.Step, q.Entry, q.End = 2*time.Minute, true, base.Add(time.Minute)
			return q
		}, "[] 10:00 12 2 5ms 10ms 15ms"},
		{"nothing", func(q store.SpanStatsQuery) store.SpanStatsQuery { q.Tenant = "initech"; return q }, ""},
	} {
		got, err := s.SpanStats(c, tc.q(q))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var parts []string
		for _, g := range got {
			parts = append(parts, fmt.Sprintf("%v %s %d %d %s %s %s", g.Keys, g.Bucket.Format("15:04"), g.Spans, g.Errors, g.P50, g.P90, g.P99))
		}
		if s := strings.Join(parts, "; "); s != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, s, tc.want)
		}
	}
	if _, err := s.SpanStats(c, store.SpanStatsQuery{Tenant: "acme", Start: base, End: base.Add(time.Hour), GroupBy: []store.UsageDimension{"color"}}); err == nil {
		t.Error("an unknown dimension was accepted")
	}
}

func testTraceSummaries(t *testing.T, s store.Store) {
	c := ctx(t)
	span := func(trace, span, parent int, at time.Duration, d time.Duration, svc, op, model string, failed bool) store.Span {
		sp := chatSpan("acme", trace, span, parent, base.Add(at), d)
		sp.Service, sp.Operation, sp.Model = svc, op, model
		if model == "" {
			sp.InputTokens, sp.OutputTokens, sp.Cost = 0, 0, sp.Cost.Sub(sp.Cost)
		}
		if failed {
			sp.StatusCode = store.StatusError
		}
		return sp
	}
	spans := []store.Span{
		// Written child first: the root is found by its missing parent.
		span(1, 2, 1, time.Minute+10*time.Millisecond, 200*time.Millisecond, "llm-proxy", "chat gpt-4o", "gpt-4o", true),
		span(1, 1, -1, time.Minute, 300*time.Millisecond, "gateway", "POST /chat", "", false),
		// Outside the range, within the margin: summed, never matched.
		span(1, 3, 1, 20*time.Minute, time.Millisecond, "gateway", "audit", "", false),
		span(2, 4, -1, 2*time.Minute, 50*time.Millisecond, "gateway", "POST /embed", "", false),
		span(2, 5, 4, 2*time.Minute+time.Millisecond, 40*time.Millisecond, "llm-proxy", "embed", "text-embedding-3-small", false),
		span(3, 6, -1, 3*time.Minute, time.Millisecond, "gateway", "GET /health", "", false),
		span(4, 7, -1, 4*time.Minute, time.Millisecond, "gateway", "GET /health", "", false),
	}
	spans[len(spans)-1].Tenant = "globex"
	if err := s.WriteSpans(c, spans); err != nil {
		t.Fatal(err)
	}
	q := store.TraceSearch{TraceQuery: store.TraceQuery{Tenant: "acme", Start: base, End: base.Add(10 * time.Minute)}}
	for _, tc := range []struct {
		name string
		q    func(store.TraceSearch) store.TraceSearch
		want string
	}{
		{"all", func(q store.TraceSearch) store.TraceSearch { return q },
			"3 3m0s 1ms 1/0 gateway GET /health 0+0 0; 2 2m0s 50ms 2/0 gateway POST /embed 1000+500 0.0075; 1 1m0s 19m0.001s 3/1 gateway POST /chat 1000+500 0.0075"},
		{"model", func(q store.TraceSearch) store.TraceSearch { q.Model = "gpt-4o"; return q },
			"1 1m0s 19m0.001s 3/1 gateway POST /chat 1000+500 0.0075"},
		{"errors", func(q store.TraceSearch) store.TraceSearch { q.Status = store.OnlyErrors; return q },
			"1 1m0s 19m0.001s 3/1 gateway POST /chat 1000+500 0.0075"},
		{"no errors, limit", func(q store.TraceSearch) store.TraceSearch { q.Status, q.Limit = store.NoErrors, 2; return q },
			"3 3m0s 1ms 1/0 gateway GET /health 0+0 0; 2 2m0s 50ms 2/0 gateway POST /embed 1000+500 0.0075"},
		{"service and duration", func(q store.TraceSearch) store.TraceSearch {
			q.Service, q.MinDuration = "llm-proxy", 100*time.Millisecond
			return q
		}, "1 1m0s 19m0.001s 3/1 gateway POST /chat 1000+500 0.0075"},
		{"nothing", func(q store.TraceSearch) store.TraceSearch { q.Operation = "nope"; return q }, ""},
	} {
		got, err := s.TraceSummaries(c, tc.q(q))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var parts []string
		for _, g := range got {
			parts = append(parts, fmt.Sprintf("%d %s %s %d/%d %s %s %d+%d %s", g.TraceID[15], time.Duration(g.StartUnixNano-base.UnixNano()-123).Round(time.Second),
				time.Duration(g.DurationNano), g.Spans, g.Errors, g.RootService, g.RootOperation, g.InputTokens, g.OutputTokens, g.Cost))
		}
		if s := strings.Join(parts, "; "); s != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, s, tc.want)
		}
	}
}
