package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/store"
)

func testUsage(t *testing.T, s store.Store) {
	c := ctx(t)
	var spans []store.Span
	add := func(n int, model, deployment string, status store.StatusCode, cost string) {
		sp := chatSpan("acme", 500+n, 500+n, -1, base.Add(time.Duration(n)*time.Minute), time.Second)
		sp.Model, sp.Deployment, sp.StatusCode, sp.Cost = model, deployment, status, decimal.RequireFromString(cost)
		spans = append(spans, sp)
	}
	add(1, "gpt-4o", "stable", store.StatusOK, "0.0075")
	add(2, "gpt-4o", "stable", store.StatusError, "0.0075") // failed calls cost too
	add(3, "gpt-4o", "canary", store.StatusOK, "0.0075")
	add(4, "llama-3", "stable", store.StatusOK, "0.000000000001")
	add(5, "", "stable", store.StatusOK, "0") // not a model call
	// Teams: the span's attribute, else its resource's.
	spans[0].Attributes = append(spans[0].Attributes, store.KeyValue{Key: "team", Value: "search"})
	spans[1].Resource = append(spans[1].Resource, store.KeyValue{Key: "team", Value: "chat"})
	spans[2].Resource = append(spans[2].Resource, store.KeyValue{Key: "team", Value: "chat"})
	spans[2].Attributes = append(spans[2].Attributes, store.KeyValue{Key: "team", Value: "search"})
	other := chatSpan("globex", 600, 600, -1, base, time.Second)
	spans = append(spans, other)
	if err := s.WriteSpans(c, spans); err != nil {
		t.Fatal(err)
	}
	q := store.UsageQuery{Tenant: "acme", Start: base, End: base.Add(time.Hour)}
	render := func(q store.UsageQuery) string {
		gs, err := s.Usage(c, q)
		if err != nil {
			t.Fatalf("Usage: %v", err)
		}
		out := ""
		for _, g := range gs {
			out += fmt.Sprintf("%v calls=%d errors=%d in=%d out=%d cached=%d cost=%s; ", g.Keys, g.Calls, g.Errors, g.InputTokens, g.OutputTokens, g.CachedTokens, g.Cost)
		}
		return out
	}
	if got, want := render(q), "[] calls=4 errors=1 in=4000 out=2000 cached=800 cost=0.022500000001; "; got != want {
		t.Errorf("total:\n got %s\nwant %s", got, want)
	}
	q.GroupBy = []store.UsageDimension{"model", "deployment"}
	if got, want := render(q), "[gpt-4o canary] calls=1 errors=0 in=1000 out=500 cached=200 cost=0.0075; [gpt-4o stable] calls=2 errors=1 in=2000 out=1000 cached=400 cost=0.015; [llama-3 stable] calls=1 errors=0 in=1000 out=500 cached=200 cost=0.000000000001; "; got != want {
		t.Errorf("by model and deployment:\n got %s\nwant %s", got, want)
	}
	team, err := store.AttributeDimension("team")
	if err != nil {
		t.Fatal(err)
	}
	q.GroupBy = []store.UsageDimension{team}
	if got, want := render(q), "[] calls=1 errors=0 in=1000 out=500 cached=200 cost=0.000000000001; [chat] calls=1 errors=1 in=1000 out=500 cached=200 cost=0.0075; [search] calls=2 errors=0 in=2000 out=1000 cached=400 cost=0.015; "; got != want {
		t.Errorf("by team, an attribute:\n got %s\nwant %s", got, want)
	}
	q.GroupBy, q.Filter = []store.UsageDimension{"model"}, map[store.UsageDimension]string{team: "search"}
	if got, want := render(q), "[gpt-4o] calls=2 errors=0 in=2000 out=1000 cached=400 cost=0.015; "; got != want {
		t.Errorf("filtered by team:\n got %s\nwant %s", got, want)
	}
	q.GroupBy, q.Filter = nil, map[store.UsageDimension]string{"deployment": "canary"}
	if got, want := render(q), "[] calls=1 errors=0 in=1000 out=500 cached=200 cost=0.0075; "; got != want {
		t.Errorf("filtered:\n got %s\nwant %s", got, want)
	}
	q.Filter, q.Start = nil, base.Add(2*time.Hour)
	if got := render(q); got != "" {
		t.Errorf("empty range: %s", got)
	}
	if _, err := s.Usage(c, store.UsageQuery{Tenant: "acme", Start: base, End: base.Add(time.Hour), GroupBy: []store.UsageDimension{"colour"}}); err == nil {
		t.Error("unknown dimension accepted")
	}
}
