package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

func testThroughput(t *testing.T, s store.Store) {
	c := ctx(t)
	var spans []store.Span
	id := 0
	add := func(minute, second int, d time.Duration, edit func(*store.Span)) {
		id++
		sp := chatSpan("acme", 1000+id, id, -1, base.Add(time.Duration(minute)*time.Minute+time.Duration(second)*time.Second), d)
		if edit != nil {
			edit(&sp)
		}
		spans = append(spans, sp)
	}
	// Minute 0: 20 spans of 20, 19, ..., 1 ms. Nearest rank ⌈0.95·20⌉ = 19
	// is 19 ms; quantileExact's ⌊0.95·20⌋ = 19 (0-based) would be 20 ms.
	for i := 20; i >= 1; i-- {
		add(0, i, time.Duration(i)*time.Millisecond, nil)
	}
	// Minute 1: 7 spans; rank ⌈6.65⌉ = 7 is the largest, 9 ms.
	for _, ms := range []int{5, 3, 9, 1, 7, 2, 8} {
		add(1, ms, time.Duration(ms)*time.Millisecond, nil)
	}
	// Minute 2 has no spans. Minute 3: one span, its own p95.
	add(3, 59, 42*time.Millisecond, nil)
	// Another operation and model in minute 0, slower than all the above:
	// in the service-wide answer they make n = 22 and rank ⌈20.9⌉ = 21,
	// 500 ms.
	add(0, 30, 500*time.Millisecond, func(sp *store.Span) { sp.Operation, sp.Model = "embeddings", "text-embedding-3-small" })
	add(0, 31, 600*time.Millisecond, func(sp *store.Span) { sp.Operation, sp.Model = "embeddings", "text-embedding-3-small" })
	// Never counted: another service, another tenant, before the window.
	add(0, 1, time.Second, func(sp *store.Span) { sp.Service = "ranker" })
	add(0, 1, time.Second, func(sp *store.Span) { sp.Tenant = "globex" })
	add(-1, 0, time.Second, nil)
	if err := s.WriteSpans(c, spans); err != nil {
		t.Fatal(err)
	}
	q := store.ThroughputQuery{Tenant: "acme", Service: "chat-gateway", Operation: "chat gpt-4o", Model: "gpt-4o", Start: base, End: base.Add(time.Hour)}
	render := func(q store.ThroughputQuery) string {
		got, err := s.Throughput(c, q)
		if err != nil {
			t.Fatalf("Throughput: %v", err)
		}
		var parts []string
		for _, m := range got {
			parts = append(parts, fmt.Sprintf("%s %d %s", m.Minute.Format("15:04"), m.Requests, m.P95))
		}
		return strings.Join(parts, ", ")
	}
	for _, tc := range []struct {
		name string
		q    func(store.ThroughputQuery) store.ThroughputQuery
		want string
	}{
		{"operation and model", func(q store.ThroughputQuery) store.ThroughputQuery { return q }, "10:00 20 19ms, 10:01 7 9ms, 10:03 1 42ms"},
		{"every operation", func(q store.ThroughputQuery) store.ThroughputQuery { q.Operation, q.Model = "", ""; return q },
			"10:00 22 500ms, 10:01 7 9ms, 10:03 1 42ms"},
		{"model only", func(q store.ThroughputQuery) store.ThroughputQuery {
			q.Operation, q.Model = "", "text-embedding-3-small"
			return q
		}, "10:00 2 600ms"},
		// The end is exclusive: minute 3's span starts at 10:03:59.000000123.
		{"window", func(q store.ThroughputQuery) store.ThroughputQuery {
			q.Start, q.End = base.Add(time.Minute), base.Add(3*time.Minute+59*time.Second)
			return q
		}, "10:01 7 9ms"},
		{"nothing", func(q store.ThroughputQuery) store.ThroughputQuery { q.Service = "search"; return q }, ""},
	} {
		if got := render(tc.q(q)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	if _, err := s.Throughput(c, store.ThroughputQuery{Tenant: "acme", Service: "chat-gateway", Start: base, End: base}); err == nil {
		t.Error("an empty window: want an error")
	}
}
