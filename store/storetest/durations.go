package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

func testSpanDurations(t *testing.T, s store.Store) {
	c := ctx(t)
	var spans []store.Span
	// Canary: span ids 0x8105, 0x8104, ..., 0x8100 (above 0x80 so a signed
	// byte comparison would misorder them against 0x0900..), written in
	// descending id order so that the smallest-id sample is not the first
	// written. Durations 60, 50, ..., 10 ms; the 30 ms one failed.
	for i := 5; i >= 0; i-- {
		sp := chatSpan("acme", 900, 0x8100+i, -1, base.Add(time.Duration(i)*time.Second), time.Duration(10*(i+1))*time.Millisecond)
		if i == 2 {
			sp.StatusCode = store.StatusError
		}
		spans = append(spans, sp)
	}
	// Smaller span ids than every span above, on the canary too.
	for i := 0; i < 2; i++ {
		sp := chatSpan("acme", 901, 0x0900+i, -1, base.Add(time.Minute), time.Duration(7+i)*time.Millisecond)
		spans = append(spans, sp)
	}
	// What the filters must leave out: stable, another operation, model
	// version, service, tenant, and a canary span outside the window.
	stable := chatSpan("acme", 902, 0x0001, -1, base, 999*time.Millisecond)
	stable.Deployment = "stable"
	otherOp := chatSpan("acme", 902, 0x0002, -1, base, 998*time.Millisecond)
	otherOp.Operation = "embeddings"
	otherVersion := chatSpan("acme", 902, 0x0003, -1, base, 997*time.Millisecond)
	otherVersion.ModelVersion = "2025-01-01"
	otherService := chatSpan("acme", 902, 0x0004, -1, base, 996*time.Millisecond)
	otherService.Service = "ranker"
	late := chatSpan("acme", 902, 0x0005, -1, base.Add(time.Hour), 995*time.Millisecond)
	spans = append(spans, stable, otherOp, otherVersion, otherService, late, chatSpan("globex", 903, 0x0006, -1, base, 994*time.Millisecond))
	if err := s.WriteSpans(c, spans); err != nil {
		t.Fatal(err)
	}
	q := store.DurationQuery{Tenant: "acme", Service: "chat-gateway", Operation: "chat gpt-4o", Model: "gpt-4o", ModelVersion: "2024-08-06",
		Deployment: "canary", Start: base, End: base.Add(time.Hour)}
	render := func(q store.DurationQuery) string {
		got, err := s.SpanDurations(c, q)
		if err != nil {
			t.Fatalf("SpanDurations: %v", err)
		}
		out := fmt.Sprintf("%d/%d:", got.Errors, got.Spans)
		for _, d := range got.Samples {
			out += fmt.Sprintf(" %dms", d.Nanos/1e6)
			if d.Error {
				out += "!"
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		q    func(store.DurationQuery) store.DurationQuery
		want string
	}{
		{"canary", func(q store.DurationQuery) store.DurationQuery { return q }, "1/8: 7ms 8ms 10ms 20ms 30ms! 40ms 50ms 60ms"},
		// Above the limit: the smallest span ids, with the counts still whole.
		{"limit", func(q store.DurationQuery) store.DurationQuery { q.Limit = 3; return q }, "1/8: 7ms 8ms 10ms"},
		{"stable", func(q store.DurationQuery) store.DurationQuery { q.Deployment = "stable"; return q }, "0/1: 999ms"},
		{"every deployment and version", func(q store.DurationQuery) store.DurationQuery {
			q.Deployment, q.ModelVersion, q.Limit = "", "", 2
			return q
		}, "1/10: 999ms 997ms"},
		{"window", func(q store.DurationQuery) store.DurationQuery { q.Start = base.Add(3 * time.Second); return q }, "0/5: 7ms 8ms 40ms 50ms 60ms"},
		{"nothing", func(q store.DurationQuery) store.DurationQuery { q.Deployment = "blue"; return q }, "0/0:"},
	} {
		if got := render(tc.q(q)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	q.End = q.Start
	if _, err := s.SpanDurations(c, q); err == nil {
		t.Error("empty window: want an error")
	}
}
