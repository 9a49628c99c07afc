package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

func testSpanValues(t *testing.T, s store.Store) {
	c := ctx(t)
	var spans []store.Span
	// Span ids 5, 3, 1, 4, 2 with durations 0.5 .. 2.5 s and a predicted
	// class on the first three.
	for i, id := range []int{5, 3, 1, 4, 2} {
		sp := chatSpan("acme", 900+id, id, -1, base.Add(time.Duration(i)*time.Second), time.Duration(i+1)*500*time.Millisecond)
		sp.InputTokens = int64(100 * (i + 1))
		if i < 3 {
			sp.Attributes = append(sp.Attributes, store.KeyValue{Key: "prediction.class", Value: []string{"cat", "dog", "cat"}[i]})
		}
		spans = append(spans, sp)
	}
	other := chatSpan("acme", 990, 90, -1, base, time.Second)
	other.Service = "search"
	spans = append(spans, other, chatSpan("globex", 991, 91, -1, base, time.Second))
	if err := s.WriteSpans(c, spans); err != nil {
		t.Fatal(err)
	}
	q := store.ValueQuery{Tenant: "acme", Service: "chat-gateway", Field: "duration", Start: base, End: base.Add(time.Minute)}
	for _, tc := range []struct {
		name string
		q    func(store.ValueQuery) store.ValueQuery
		want string
	}{
		// Ordered by span id: 1 (1.5 s), 2 (2.5 s), 3 (1 s), 4 (2 s), 5 (0.5 s).
		{"duration", func(q store.ValueQuery) store.ValueQuery { return q }, "5 [1.5 2.5 1 2 0.5]"},
		{"limit keeps the smallest span ids", func(q store.ValueQuery) store.ValueQuery { q.Limit = 2; return q }, "5 [1.5 2.5]"},
		{"tokens", func(q store.ValueQuery) store.ValueQuery { q.Field = "input_tokens"; return q }, "5 [300 500 200 400 100]"},
		{"attribute, spans without it left out", func(q store.ValueQuery) store.ValueQuery {
			q.Field, q.Attribute = "attribute", "prediction.class"
			return q
		}, "3 [cat dog cat]"},
		{"range", func(q store.ValueQuery) store.ValueQuery { q.Start = base.Add(2 * time.Second); return q }, "3 [1.5 2.5 2]"},
		{"model version", func(q store.ValueQuery) store.ValueQuery { q.ModelVersion = "other"; return q }, "0 []"},
	} {
		got, err := s.SpanValues(c, tc.q(q))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if s := fmt.Sprint(got.Matched, " ", got.Values); s != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, s, tc.want)
		}
	}
	if _, err := s.SpanValues(c, store.ValueQuery{Tenant: "acme", Field: "colour", Start: base, End: base.Add(time.Minute)}); err == nil {
		t.Error("an unknown field is accepted")
	}
}
