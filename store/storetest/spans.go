package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/vigil-dev/vigil/store"
)

func traceID(n int) store.TraceID {
	var id store.TraceID
	id[0] = 0xab
	id[14] = byte(n >> 8)
	id[15] = byte(n)
	return id
}

func spanID(n int) store.SpanID {
	var id store.SpanID
	id[0] = 0xcd
	id[6] = byte(n >> 8)
	id[7] = byte(n)
	return id
}

// chatSpan is a model-call span with every field set.
func chatSpan(tenant string, trace, span, parent int, start time.Time, d time.Duration) store.Span {
	s := store.Span{
		Tenant:        tenant,
		TraceID:       traceID(trace),
		SpanID:        spanID(span),
		TraceState:    "vendor=x",
		Service:       "chat-gateway",
		Operation:     "chat gpt-4o",
		Kind:          store.SpanKindClient,
		StartUnixNano: start.UnixNano() + 123, // nanoseconds must survive
		DurationNano:  int64(d),
		StatusCode:    store.StatusOK,
		ScopeName:     "openai-instrumentation",
		ScopeVersion:  "1.2.3",
		Resource: store.Attributes{
			{Key: "service.name", Value: "chat-gateway"},
			{Key: "k8s.namespace.name", Value: "inference"},
		},
		Attributes: store.Attributes{
			{Key: "gen_ai.request.model", Value: "gpt-4o"},
			{Key: "user.tier", Value: "pro"},
		},
		Events: []store.SpanEvent{{TimeUnixNano: start.UnixNano() + 5, Name: "first_token", Attributes: store.Attributes{{Key: "ttft_ms", Value: "41"}}}},
		Links:  []store.SpanLink{{TraceID: traceID(999), SpanID: spanID(999), Attributes: store.Attributes{{Key: "reason", Value: "retry"}}}},

		Model:         "gpt-4o",
		ModelVersion:  "2024-08-06",
		Deployment:    "canary",
		Provider:      "openai",
		OperationType: "chat",
		InputTokens:   1000,
		OutputTokens:  500,
		CachedTokens:  200,
		Cost:          decimal.RequireFromString("0.0075"),
	}
	if parent >= 0 {
		s.ParentSpanID = spanID(parent)
	}
	return s
}

// sameSpans compares span lists field by field, money by value.
func sameSpans(t *testing.T, got, want []store.Span) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d spans, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.Cost.Equal(w.Cost) {
			t.Errorf("span %d: cost %s, want %s", i, g.Cost, w.Cost)
		}
		g.Cost, w.Cost = decimal.Zero, decimal.Zero
		if !reflect.DeepEqual(g, w) {
			t.Errorf("span %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func testSpansRoundTrip(t *testing.T, s store.Store) {
	c := ctx(t)
	root := chatSpan("acme", 1, 1, -1, base, 800*time.Millisecond)
	child := chatSpan("acme", 1, 2, 1, base.Add(10*time.Millisecond), 700*time.Millisecond)
	child.Kind = store.SpanKindServer
	child.StatusCode = store.StatusError
	child.StatusMessage = "upstream 503"
	child.Events, child.Links, child.Resource, child.Attributes = nil, nil, nil, nil
	child.Cost = decimal.RequireFromString("123456789.000000000001")
	other := chatSpan("acme", 2, 3, -1, base, time.Second)
	// Same trace id in another tenant: must stay invisible to acme.
	foreign := chatSpan("globex", 1, 9, -1, base, time.Second)

	if err := s.WriteSpans(c, []store.Span{child, other, root, foreign}); err != nil {
		t.Fatalf("WriteSpans: %v", err)
	}
	got, err := s.Trace(c, "acme", traceID(1))
	if err != nil {
		t.Fatalf("Trace: %v", err)
	}
	sameSpans(t, got, []store.Span{root, child})

	got, err = s.Trace(c, "globex", traceID(1))
	if err != nil {
		t.Fatalf("Trace globex: %v", err)
	}
	sameSpans(t, got, []store.Span{foreign})
}

func testTraceNotFound(t *testing.T, s store.Store) {
	c := ctx(t)
	if err := s.WriteSpans(c, []store.Span{chatSpan("acme", 1, 1, -1, base, time.Second)}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		tenant string
		id     store.TraceID
	}{{"acme", traceID(2)}, {"globex", traceID(1)}} {
		_, err := s.Trace(c, q.tenant, q.id)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Trace(%s, %s) = %v, want ErrNotFound", q.tenant, q.id, err)
		}
	}
}

// testTraces loads several traces at once, as a search does: each as
// Trace reads it, in the order asked, a missing or foreign one left out.
func testTraces(t *testing.T, s store.Store) {
	c := ctx(t)
	var spans []store.Span
	for n := 1; n <= 4; n++ {
		spans = append(spans, chatSpan("acme", n, 10*n, -1, base.Add(time.Duration(n)*time.Minute), time.Second),
			chatSpan("acme", n, 10*n+1, 10*n, base.Add(time.Duration(n)*time.Minute+time.Millisecond), 500*time.Millisecond))
	}
	spans[3].Service = "rag" // trace 2 spans two services
	spans = append(spans, chatSpan("globex", 5, 50, -1, base, time.Second))
	if err := s.WriteSpans(c, spans); err != nil {
		t.Fatal(err)
	}
	ids := []store.TraceID{traceID(3), traceID(9), traceID(1), traceID(5), traceID(2)}
	got, err := s.Traces(c, "acme", ids)
	if err != nil {
		t.Fatalf("Traces: %v", err)
	}
	want := []store.TraceID{traceID(3), traceID(1), traceID(2)}
	if len(got) != len(want) {
		t.Fatalf("Traces returned %d traces, want %d (3, 1, 2)", len(got), len(want))
	}
	for i, id := range want {
		one, err := s.Trace(c, "acme", id)
		if err != nil {
			t.Fatal(err)
		}
		sameSpans(t, got[i], one)
	}
	if got, err := s.Traces(c, "acme", nil); err != nil || len(got) != 0 {
		t.Errorf("Traces of no ids = %d traces, %v", len(got), err)
	}
}

func testFindTraces(t *testing.T, s store.Store) {
	c := ctx(t)
	var spans []store.Span
	// Trace n starts at base+n minutes, lasts n*100ms; odd traces fail; trace
	// 3 carries a resource attribute; trace 4 is an embedding call.
	for n := 1; n <= 6; n++ {
		sp := chatSpan("acme", n, n, -1, base.Add(time.Duration(n)*time.Minute), time.Duration(n)*100*time.Millisecond)
		sp.Resource = store.Attributes{{Key: "region", Value: "eu"}}
		if n == 3 {
			sp.Resource = append(sp.Resource, store.KeyValue{Key: "pool", Value: "h100"})
		}
		if n%2 == 1 {
			sp.StatusCode = store.StatusError
		}
		if n == 4 {
			sp.Operation = "embeddings"
			sp.Attributes = store.Attributes{{Key: "user.tier", Value: "free"}}
		}
		spans = append(spans, sp)
	}
	other := chatSpan("globex", 7, 7, -1, base.Add(7*time.Minute), time.Second)
	other.Service = "chat-gateway"
	spans = append(spans, other)
	// A second service inside trace 6, so one trace has spans of two services.
	db := chatSpan("acme", 6, 60, 6, base.Add(6*time.Minute), 50*time.Millisecond)
	db.Service, db.Operation = "vector-db", "query"
	spans = append(spans, db)
	if err := s.WriteSpans(c, spans); err != nil {
		t.Fatal(err)
	}

	all := base.Add(-time.Hour)
	end := base.Add(time.Hour)
	cases := []struct {
		name string
		q    store.TraceQuery
		want []int
	}{
		{"service", store.TraceQuery{Service: "chat-gateway"}, []int{6, 5, 4, 3, 2, 1}},
		{"other service", store.TraceQuery{Service: "vector-db"}, []int{6}},
		{"no service", store.TraceQuery{}, []int{6, 5, 4, 3, 2, 1}},
		{"operation", store.TraceQuery{Service: "chat-gateway", Operation: "embeddings"}, []int{4}},
		{"span tag", store.TraceQuery{Tags: map[string]string{"user.tier": "free"}}, []int{4}},
		{"resource tag", store.TraceQuery{Tags: map[string]string{"pool": "h100"}}, []int{3}},
		{"two tags", store.TraceQuery{Tags: map[string]string{"region": "eu", "user.tier": "pro"}}, []int{6, 5, 3, 2, 1}},
		{"tag absent", store.TraceQuery{Tags: map[string]string{"pool": "a100"}}, nil},
		{"error tag", store.TraceQuery{Tags: map[string]string{"error": "true"}}, []int{5, 3, 1}},
		{"min duration", store.TraceQuery{MinDuration: 400 * time.Millisecond}, []int{6, 5, 4}},
		{"max duration", store.TraceQuery{MaxDuration: 200 * time.Millisecond}, []int{6, 2, 1}},
		{"duration range", store.TraceQuery{Service: "chat-gateway", MinDuration: 200 * time.Millisecond, MaxDuration: 300 * time.Millisecond}, []int{3, 2}},
		{"time range", store.TraceQuery{Start: base.Add(2 * time.Minute), End: base.Add(4 * time.Minute)}, []int{3, 2}},
		{"limit", store.TraceQuery{Service: "chat-gateway", Limit: 2}, []int{6, 5}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Tenant = "acme"
			if q.Start.IsZero() {
				q.Start, q.End = all, end
			}
			ids, err := s.FindTraceIDs(c, q)
			if err != nil {
				t.Fatalf("FindTraceIDs: %v", err)
			}
			var want []store.TraceID
			for _, n := range tc.want {
				want = append(want, traceID(n))
			}
			if fmt.Sprint(ids) != fmt.Sprint(want) {
				t.Errorf("got %v\nwant %v", ids, want)
			}
		})
	}
}

func testServicesAndOperations(t *testing.T, s store.Store) {
	c := ctx(t)
	a := chatSpan("acme", 1, 1, -1, base, time.Second)
	b := chatSpan("acme", 1, 2, 1, base, time.Second)
	b.Operation, b.Kind = "embeddings", store.SpanKindServer
	d := chatSpan("acme", 1, 3, 1, base, time.Second)
	d.Service, d.Operation = "vector-db", "query"
	e := chatSpan("globex", 1, 4, -1, base, time.Second)
	e.Service = "billing"
	if err := s.WriteSpans(c, []store.Span{a, b, d, a, e}); err != nil {
		t.Fatal(err)
	}
	svcs, err := s.Services(c, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"chat-gateway", "vector-db"}; !reflect.DeepEqual(svcs, want) {
		t.Errorf("Services = %v, want %v", svcs, want)
	}
	ops, err := s.Operations(c, "acme", "chat-gateway")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Operation{{Name: "chat gpt-4o", Kind: store.SpanKindClient}, {Name: "embeddings", Kind: store.SpanKindServer}}
	if !reflect.DeepEqual(ops, want) {
		t.Errorf("Operations = %v, want %v", ops, want)
	}
	ops, err = s.Operations(c, "acme", "billing")
	if err != nil || len(ops) != 0 {
		t.Errorf("Operations of another tenant's service = %v, %v; want none", ops, err)
	}
}
