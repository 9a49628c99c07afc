package cost

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

var d = decimal.RequireFromString

// The worked examples of the cost reference are tests.
func TestWorkedTokenExamples(t *testing.T) {
	table := NewPriceTable()
	if err := table.Add(DefaultPrices()...); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		model string
		u     Usage
		want  string
	}{
		// gpt-4o at 2.5e-6 $/input and 1e-5 $/output token: 1,000 in + 500 out.
		{"gpt-4o", Usage{Input: 1000, Output: 500}, "0.0075"},
		// gemini-2.5-pro above 200k prompt tokens at 2.5e-6 / 1.5e-5.
		{"gemini-2.5-pro", Usage{Input: 250000, Output: 1000}, "0.64"},
		// ... and at or under 200k, the default tier (1.25e-6 / 1e-5).
		{"gemini-2.5-pro", Usage{Input: 200000, Output: 1000}, "0.26"},
		// Cached prompt tokens at the cached price: 800 uncached + 200 cached.
		{"gpt-4o", Usage{Input: 1000, Output: 500, CachedInput: 200}, "0.00725"},
		// Provider prefix and case do not matter.
		{"openai/GPT-4o", Usage{Input: 1000, Output: 500}, "0.0075"},
		// Cache writes at their own price: 500 at 3.75e-6, 500 at 3e-6.
		{"claude-sonnet-4", Usage{Input: 1000, CacheWrite: 500}, "0.003375"},
	}
	for _, c := range cases {
		got, ok := table.Price("acme", c.model, at, c.u)
		if !ok || !got.Equal(d(c.want)) {
			t.Errorf("%s %+v = %s (priced %v), want %s", c.model, c.u, got, ok, c.want)
		}
	}
	if _, ok := table.Price("acme", "mystery-model", at, Usage{Input: 1}); ok {
		t.Error("an unknown model was priced")
	}
	table.Price("acme", "mystery-model", at, Usage{Input: 1})
	if u := table.Unknown(); len(u) != 1 || u[0].Model != "mystery-model" || u[0].Calls != 2 {
		t.Errorf("Unknown = %v", u)
	}
}

// The self-hosted inference example: $3.20 for the hour, 12M prompt tokens
// (0.8M from the prefix cache), 3M generated, 600 s prefill, 600 s decode.
func TestWorkedInferenceExample(t *testing.T) {
	s := SelfHosted{Cost: d("3.20"), PromptTokens: 12_000_000, GeneratedTokens: 3_000_000, CacheHitTokens: 800_000,
		PrefillSeconds: d("600"), DecodeSeconds: d("600")}
	u, err := s.PerMillion(DefaultOutputMultiplier)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want decimal.Decimal
		places    int32
	}{
		{"blended", u.Blended, d("0.2133"), 4},
		{"input", u.Input, d("0.1429"), 4},
		{"output", u.Output, d("0.5333"), 4},
	} {
		if !c.got.Round(c.places).Equal(c.want) {
			t.Errorf("%s = %s, want %s", c.name, c.got, c.want)
		}
	}
	// Without timings, the 2.5x output:input fallback.
	s.PrefillSeconds, s.DecodeSeconds = decimal.Zero, decimal.Zero
	u, err = s.PerMillion(DefaultOutputMultiplier)
	if err != nil || !u.Input.Round(5).Equal(d("0.17112")) || !u.Output.Round(5).Equal(d("0.42781")) {
		t.Errorf("fallback = %+v, %v; want 0.17112 and 0.42781", u, err)
	}
	if _, err := (SelfHosted{Cost: d("1")}).PerMillion(DefaultOutputMultiplier); err == nil {
		t.Error("no tokens did not fail")
	}
}

func TestLookupOrder(t *testing.T) {
	table := NewPriceTable()
	row := func(tenant string, in string, from, until time.Time) *ModelPrice {
		return &ModelPrice{Model: "m", Tenant: tenant, ValidFrom: from, ValidUntil: until, Tiers: []Tier{{Prices: TokenPrices{Input: d(in), Output: d(in)}}}}
	}
	jan, feb, mar := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if err := table.Add(row("", "1", time.Time{}, feb), row("", "2", feb, time.Time{}), row("acme", "9", jan, mar)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tenant string
		at     time.Time
		want   string
	}{
		{"globex", jan, "1"}, {"globex", feb, "2"}, {"acme", feb, "9"}, {"acme", mar, "2"},
	} {
		got, _ := table.Price(c.tenant, "m", c.at, Usage{Input: 1})
		if !got.Equal(d(c.want)) {
			t.Errorf("%s at %s: %s, want %s", c.tenant, c.at.Format(time.DateOnly), got, c.want)
		}
	}
}

func TestParsePriceFiles(t *testing.T) {
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	litellm := `{
  "sample_spec": {"input_cost_per_token": 0, "output_cost_per_token": 0},
  "gemini-2.5-pro": {"input_cost_per_token": 1.25e-06, "output_cost_per_token": 1e-05,
    "input_cost_per_token_above_200k_tokens": 2.5e-06, "output_cost_per_token_above_200k_tokens": 1.5e-05,
    "litellm_provider": "vertex_ai-language-models", "mode": "chat"},
  "dall-e-3": {"output_cost_per_image": 0.04}
}`
	langfuse := `[{"modelName": "gemini-2.5-pro", "matchPattern": "(?i)^(google/)?(gemini-2.5-pro)$",
  "pricingTiers": [
    {"name": "Standard", "isDefault": true, "priority": 0, "conditions": [], "prices": {"input": 0.00000125, "output": 0.00001}},
    {"name": "Large", "isDefault": false, "priority": 1, "conditions": [{"usageDetailPattern": "(input|prompt)", "operator": "gt", "value": 200000}],
     "prices": {"input": 0.0000025, "output": 0.000015}}]}]`
	openlit := `{"chat": {"gemini-2.5-pro": {"promptPrice": 0.00125, "completionPrice": 0.01}}, "embeddings": {"text-embedding-3-small": 0.00002}}`
	vigil := "prices:\n  - model: gemini-2.5-pro\n    input: 1.25\n    output: 10\n    tiers:\n      - when: {input_gt: 200000}\n        input: 2.5\n        output: 15\n"
	for _, c := range []struct{ name, data, format, long string }{
		{"prices.json", litellm, FormatLiteLLM, "0.64"},
		{"model-prices.json", langfuse, FormatLangfuse, "0.64"},
		{"pricing.json", openlit, FormatOpenLIT, "0.3225"}, // no tiers in OpenLIT: 250k at 1.25e-6 + 1k at 1e-5
		{"prices.yaml", vigil, FormatVigil, "0.64"},
	} {
		if f, err := DetectPriceFormat(c.name, []byte(c.data)); err != nil || f != c.format {
			t.Errorf("%s: detected %q, %v; want %s", c.name, f, err, c.format)
		}
		rows, err := ParsePrices(c.name, []byte(c.data), "auto")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		table := NewPriceTable()
		table.Add(rows...)
		if got, ok := table.Price("acme", "gemini-2.5-pro", at, Usage{Input: 1000, Output: 500}); !ok || !got.Equal(d("0.00625")) {
			t.Errorf("%s: short prompt = %s, %v; want 0.00625 (per-1K and per-token units)", c.name, got, ok)
		}
		if got, _ := table.Price("acme", "gemini-2.5-pro", at, Usage{Input: 250000, Output: 1000}); !got.Equal(d(c.long)) {
			t.Errorf("%s: long prompt = %s, want %s", c.name, got, c.long)
		}
	}
	for _, bad := range []struct{ name, data, want string }{
		{"p.yaml", "prices:\n  - model: x\n    input: cheap\n    output: 1\n", `price "cheap" is not a number`},
		{"p.yaml", "prices:\n  - model: x\n    inptu: 1\n", "field inptu not found"},
		{"p.yaml", "prices:\n  - model: x\n    input: 1\n    output: 1\n    per: 1G\n", `prices[0].per: "1G"`},
		{"p.yaml", "prices:\n  - model: x\n    input: 1\n    output: 1\n    tiers:\n      - when: {input_around: 5}\n        input: 1\n        output: 1\n", `condition operator "around"`},
		{"p.json", `{"x": {"y": 1}}`, "neither LiteLLM"},
		{"p.json", `not json`, "not a price file"},
	} {
		_, err := ParsePrices(bad.name, []byte(bad.data), "auto")
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want %q", bad.data, err, bad.want)
		}
	}
}

func TestCallUnitCost(t *testing.T) {
	// 4 calls, 1 failed, 4,000 in and 2,000 out tokens, $0.0225 in all.
	u := Calls{Calls: 4, Errors: 1, InputTokens: 4000, OutputTokens: 2000, Cost: d("0.0225")}.PerUnit()
	if !u.PerThousandCalls.Equal(d("5.625")) || !u.PerSuccessfulCall.Equal(d("0.0075")) || !u.PerMillionTokens.Equal(d("3.75")) {
		t.Errorf("%+v", u)
	}
	u = Calls{Calls: 2, Errors: 2, Cost: d("1")}.PerUnit()
	if u.PerSuccessfulCall != nil || u.PerMillionTokens != nil || !u.PerThousandCalls.Equal(d("500")) {
		t.Errorf("all failed: %+v", u)
	}
}

// The worked inference example, as vLLM's counters over an hour on two
// replicas would report it.
func TestSelfHostedFromVLLM(t *testing.T) {
	series := func(name string, total float64) []MetricSeries {
		var out []MetricSeries
		for r := 0; r < 2; r++ { // each replica served half
			out = append(out, MetricSeries{Name: name, Points: []Point{{0, 100}, {1_800_000, 100 + total/4}, {3_600_000, 100 + total/2}}})
		}
		return out
	}
	var all []MetricSeries
	for name, total := range map[string]float64{VLLMPromptTokens: 12e6, VLLMGenerationTokens: 3e6, VLLMPrefillSeconds: 600, VLLMDecodeSeconds: 600, VLLMPrefixCacheHits: 8e5} {
		all = append(all, series(name, total)...)
	}
	u, err := SelfHostedFromVLLM(all, d("3.20")).PerMillion(DefaultOutputMultiplier)
	if err != nil || !u.Blended.Round(4).Equal(d("0.2133")) || !u.Input.Round(4).Equal(d("0.1429")) || !u.Output.Round(4).Equal(d("0.5333")) {
		t.Errorf("%+v %v", u, err)
	}
}
