package collector

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/store"
)

func TestPromoteAndPriceAtIngest(t *testing.T) {
	table := cost.NewPriceTable()
	if err := table.Add(cost.DefaultPrices()...); err != nil {
		t.Fatal(err)
	}
	m := Mapping{Pricer: table}
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	span := func(attrs ...string) store.Span {
		s := store.Span{Tenant: "acme", StartUnixNano: start}
		for i := 0; i < len(attrs); i += 2 {
			s.Attributes = append(s.Attributes, store.KeyValue{Key: attrs[i], Value: attrs[i+1]})
		}
		return s
	}
	cases := []struct {
		name  string
		span  store.Span
		model string
		cost  string
	}{
		{"priced from tokens", span("gen_ai.request.model", "gpt-4o", "gen_ai.usage.input_tokens", "1000", "gen_ai.usage.output_tokens", "500"), "gpt-4o", "0.0075"},
		{"the caller's cost wins", span("gen_ai.request.model", "gpt-4o", "gen_ai.usage.input_tokens", "1000", "gen_ai.usage.cost", "0.5"), "gpt-4o", "0.5"},
		{"unknown model stays unpriced", span("gen_ai.request.model", "mystery", "gen_ai.usage.input_tokens", "10"), "mystery", "0"},
		{"older token attribute names", span("gen_ai.response.model", "gpt-4o-mini", "gen_ai.usage.prompt_tokens", "1000000", "gen_ai.usage.completion_tokens", "0"), "gpt-4o-mini", "0.15"},
		{"not a model call", span("http.route", "/"), "", "0"},
	}
	for _, c := range cases {
		sp := c.span
		m.Promote(&sp)
		if sp.Model != c.model || !sp.Cost.Equal(decimal.RequireFromString(c.cost)) {
			t.Errorf("%s: model %q cost %s, want %q %s", c.name, sp.Model, sp.Cost, c.model, c.cost)
		}
	}
	if u := table.Unknown(); len(u) != 1 || u[0].Model != "mystery" {
		t.Errorf("unknown models: %v", u)
	}
}
