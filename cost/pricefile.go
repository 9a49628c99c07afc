package cost

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"
)

// Price file formats.
const (
	FormatVigil    = "vigil"    // Vigil's YAML, prices per million tokens by default
	FormatLiteLLM  = "litellm"  // model_prices_and_context_window.json: USD per token
	FormatLangfuse = "langfuse" // default-model-prices.json: USD per token, regex matches, pricing tiers
	FormatOpenLIT  = "openlit"  // pricing.json: USD per 1,000 tokens
)

//go:embed default_prices.yaml
var defaultPrices []byte

// DefaultPrices returns the built-in table: a few common models, a starting
// point that a price file overrides.
func DefaultPrices() []*ModelPrice {
	rows, err := ParsePrices("default_prices.yaml", defaultPrices, FormatVigil)
	if err != nil {
		panic("built-in price table: " + err.Error())
	}
	return rows
}

// DetectPriceFormat guesses a price file's format from its name and shape.
func DetectPriceFormat(name string, data []byte) (string, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml":
		return FormatVigil, nil
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return FormatLangfuse, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil {
		return "", fmt.Errorf("%s: not a price file Vigil knows (YAML, or JSON from LiteLLM, Langfuse or OpenLIT): %v", name, err)
	}
	if _, ok := top["chat"]; ok {
		return FormatOpenLIT, nil
	}
	for _, v := range top {
		if bytes.Contains(v, []byte(`"input_cost_per_token"`)) {
			return FormatLiteLLM, nil
		}
	}
	return "", fmt.Errorf("%s: JSON that is neither LiteLLM (input_cost_per_token), Langfuse (an array of models) nor OpenLIT (a chat section)", name)
}

// ParsePrices reads a price file of the given format ("" or "auto"
// detects it).
func ParsePrices(name string, data []byte, format string) ([]*ModelPrice, error) {
	if format == "" || format == "auto" {
		f, err := DetectPriceFormat(name, data)
		if err != nil {
			return nil, err
		}
		format = f
	}
	var rows []*ModelPrice
	var err error
	switch format {
	case FormatVigil:
		rows, err = parseVigil(data)
	case FormatLiteLLM:
		rows, err = parseLiteLLM(data)
	case FormatLangfuse:
		rows, err = parseLangfuse(data)
	case FormatOpenLIT:
		rows, err = parseOpenLIT(data)
	default:
		return nil, fmt.Errorf("unknown price file format %q (want vigil, litellm, langfuse or openlit)", format)
	}
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", name, format, err)
	}
	for _, r := range rows {
		r.Source = name
		if err := r.validate(); err != nil {
			return nil, fmt.Errorf("%s (%s): %w", name, format, err)
		}
	}
	return rows, nil
}

// number parses a JSON or YAML number exactly: prices never pass through
// a float.
func number(s string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(strings.TrimSpace(s))
	if err != nil {
		return d, fmt.Errorf("price %q is not a number", s)
	}
	return d, nil
}

// --- Vigil YAML -----------------------------------------------------------

type vigilFile struct {
	Prices []vigilRow `yaml:"prices"`
}

type vigilPrices struct {
	Input       string `yaml:"input"`
	Output      string `yaml:"output"`
	CachedInput string `yaml:"cached_input"`
	CacheWrite  string `yaml:"cache_write"`
	Reasoning   string `yaml:"reasoning"`
}

type vigilRow struct {
	Model       string `yaml:"model"`
	Provider    string `yaml:"provider"`
	Match       string `yaml:"match"`
	Tenant      string `yaml:"tenant"`
	ValidFrom   string `yaml:"valid_from"`
	ValidUntil  string `yaml:"valid_until"`
	Per         string `yaml:"per"` // token, 1K or 1M (default)
	vigilPrices `yaml:",inline"`
	Tiers       []struct {
		Name        string           `yaml:"name"`
		When        map[string]int64 `yaml:"when"` // input_gt: 200000, output_lte: ...
		vigilPrices `yaml:",inline"`
	} `yaml:"tiers"`
}

func parseVigil(data []byte) ([]*ModelPrice, error) {
	var f vigilFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	var out []*ModelPrice
	for i, r := range f.Prices {
		where := fmt.Sprintf("prices[%d]", i)
		per, err := perUnit(r.Per)
		if err != nil {
			return nil, fmt.Errorf("%s.per: %w", where, err)
		}
		m := &ModelPrice{Model: r.Model, Provider: r.Provider, Tenant: r.Tenant}
		if r.Match != "" {
			if m.Pattern, err = regexp.Compile(r.Match); err != nil {
				return nil, fmt.Errorf("%s.match: %w", where, err)
			}
		}
		if m.ValidFrom, err = date(r.ValidFrom); err != nil {
			return nil, fmt.Errorf("%s.valid_from: %w", where, err)
		}
		if m.ValidUntil, err = date(r.ValidUntil); err != nil {
			return nil, fmt.Errorf("%s.valid_until: %w", where, err)
		}
		base, err := r.vigilPrices.toPrices(per)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		m.Tiers = []Tier{{Name: "default", Prices: base}}
		for j, t := range r.Tiers {
			tp, err := t.vigilPrices.toPrices(per)
			if err != nil {
				return nil, fmt.Errorf("%s.tiers[%d]: %w", where, j, err)
			}
			tier := Tier{Name: t.Name, Prices: tp}
			keys := make([]string, 0, len(t.When))
			for k := range t.When {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				usage, op, ok := strings.Cut(k, "_")
				if !ok {
					return nil, fmt.Errorf("%s.tiers[%d].when: %q is not usage_operator, e.g. input_gt", where, j, k)
				}
				tier.Conditions = append(tier.Conditions, Condition{Usage: Tokens(usage), Op: Op(op), Value: t.When[k]})
			}
			if len(tier.Conditions) == 0 {
				return nil, fmt.Errorf("%s.tiers[%d].when: a tier needs at least one condition", where, j)
			}
			m.Tiers = append(m.Tiers, tier)
		}
		out = append(out, m)
	}
	return out, nil
}

func perUnit(s string) (decimal.Decimal, error) {
	switch strings.ToUpper(s) {
	case "", "1M":
		return decimal.New(1, 6), nil
	case "1K":
		return decimal.New(1, 3), nil
	case "TOKEN":
		return decimal.New(1, 0), nil
	}
	return decimal.Zero, fmt.Errorf("%q: want token, 1K or 1M", s)
}

func date(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD or RFC 3339)", s)
}

func (p vigilPrices) toPrices(per decimal.Decimal) (TokenPrices, error) {
	var tp TokenPrices
	var err error
	if p.Input == "" || p.Output == "" {
		return tp, fmt.Errorf("input and output prices are required")
	}
	if tp.Input, err = number(p.Input); err != nil {
		return tp, err
	}
	if tp.Output, err = number(p.Output); err != nil {
		return tp, err
	}
	tp.Input, tp.Output = tp.Input.Div(per), tp.Output.Div(per)
	for _, o := range []struct {
		s   string
		dst **decimal.Decimal
	}{{p.CachedInput, &tp.CachedInput}, {p.CacheWrite, &tp.CacheWrite}, {p.Reasoning, &tp.Reasoning}} {
		if o.s == "" {
			continue
		}
		d, err := number(o.s)
		if err != nil {
			return tp, err
		}
		d = d.Div(per)
		*o.dst = &d
	}
	return tp, nil
}

// --- LiteLLM --------------------------------------------------------------

var aboveTokens = regexp.MustCompile(`^(.*)_above_(\d+)k_tokens$`)

func parseLiteLLM(data []byte) ([]*ModelPrice, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var all map[string]map[string]any
	if err := dec.Decode(&all); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []*ModelPrice
	for _, name := range names {
		e := all[name]
		if name == "sample_spec" {
			continue
		}
		in, okIn := jsonNumber(e["input_cost_per_token"])
		outp, okOut := jsonNumber(e["output_cost_per_token"])
		if !okIn || !okOut {
			continue // images, audio, rerank... priced by other units
		}
		provider, _ := e["litellm_provider"].(string)
		base := TokenPrices{Input: in, Output: outp}
		base.CachedInput = optNumber(e["cache_read_input_token_cost"])
		base.CacheWrite = optNumber(e["cache_creation_input_token_cost"])
		base.Reasoning = optNumber(e["output_cost_per_reasoning_token"])
		m := &ModelPrice{Model: name, Provider: provider, Tiers: []Tier{{Name: "default", Prices: base}}}
		// input_cost_per_token_above_200k_tokens and friends: one tier per
		// threshold, applying when the prompt is longer.
		thresholds := map[int64]*TokenPrices{}
		for k, v := range e {
			mm := aboveTokens.FindStringSubmatch(k)
			if mm == nil {
				continue
			}
			d, ok := jsonNumber(v)
			if !ok {
				continue
			}
			kth, _ := strconv.ParseInt(mm[2], 10, 64)
			tp := thresholds[kth]
			if tp == nil {
				cp := base
				tp = &cp
				thresholds[kth] = tp
			}
			switch mm[1] {
			case "input_cost_per_token":
				tp.Input = d
			case "output_cost_per_token":
				tp.Output = d
			case "cache_read_input_token_cost":
				tp.CachedInput = &d
			}
		}
		ks := make([]int64, 0, len(thresholds))
		for k := range thresholds {
			ks = append(ks, k)
		}
		sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
		for _, k := range ks {
			m.Tiers = append(m.Tiers, Tier{Name: fmt.Sprintf("above %dk tokens", k), Conditions: []Condition{{Usage: InputTokens, Op: GreaterThan, Value: k * 1000}}, Prices: *thresholds[k]})
		}
		out = append(out, m)
	}
	return out, nil
}

func jsonNumber(v any) (decimal.Decimal, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return decimal.Zero, false
	}
	d, err := decimal.NewFromString(n.String())
	return d, err == nil
}

func optNumber(v any) *decimal.Decimal {
	if d, ok := jsonNumber(v); ok {
		return &d
	}
	return nil
}

// --- Langfuse -------------------------------------------------------------

type langfuseModel struct {
	ModelName    string `json:"modelName"`
	MatchPattern string `json:"matchPattern"`
	StartDate    string `json:"startDate"`
	PricingTiers []struct {
		Name       string `json:"name"`
		IsDefault  bool   `json:"isDefault"`
		Priority   int    `json:"priority"`
		Conditions []struct {
			UsageDetailPattern string      `json:"usageDetailPattern"`
			Operator           string      `json:"operator"`
			Value              json.Number `json:"value"`
		} `json:"conditions"`
		Prices map[string]json.Number `json:"prices"`
	} `json:"pricingTiers"`
}

func parseLangfuse(data []byte) ([]*ModelPrice, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var models []langfuseModel
	if err := dec.Decode(&models); err != nil {
		return nil, err
	}
	var out []*ModelPrice
	for i, lm := range models {
		m := &ModelPrice{Model: lm.ModelName}
		if lm.MatchPattern != "" {
			// Langfuse patterns are JavaScript regexps; the common subset
			// (groups, alternation, (?i)) is the same in Go.
			re, err := regexp.Compile(lm.MatchPattern)
			if err != nil {
				return nil, fmt.Errorf("model %d (%s): matchPattern: %w", i, lm.ModelName, err)
			}
			m.Pattern = re
		}
		if lm.StartDate != "" {
			var err error
			if m.ValidFrom, err = date(lm.StartDate); err != nil {
				return nil, fmt.Errorf("model %s: startDate: %w", lm.ModelName, err)
			}
		}
		tiers := lm.PricingTiers
		sort.SliceStable(tiers, func(a, b int) bool { return tiers[a].Priority < tiers[b].Priority })
		for _, lt := range tiers {
			tp, ok := langfusePrices(lt.Prices)
			if !ok {
				break // a model priced by total or per image: not a token price
			}
			t := Tier{Name: lt.Name, Prices: tp}
			for _, c := range lt.Conditions {
				usage := InputTokens
				p := strings.ToLower(c.UsageDetailPattern)
				if strings.Contains(p, "output") || strings.Contains(p, "completion") {
					usage = OutputTokens
				} else if !strings.Contains(p, "input") && !strings.Contains(p, "prompt") {
					return nil, fmt.Errorf("model %s, tier %q: condition on %q is not about input or output tokens", lm.ModelName, lt.Name, c.UsageDetailPattern)
				}
				v, err := c.Value.Int64()
				if err != nil {
					return nil, fmt.Errorf("model %s, tier %q: condition value %q: %w", lm.ModelName, lt.Name, c.Value, err)
				}
				t.Conditions = append(t.Conditions, Condition{Usage: usage, Op: Op(c.Operator), Value: v})
			}
			m.Tiers = append(m.Tiers, t)
		}
		if len(m.Tiers) > 0 {
			out = append(out, m)
		}
	}
	return out, nil
}

func langfusePrices(p map[string]json.Number) (TokenPrices, bool) {
	get := func(keys ...string) *decimal.Decimal {
		for _, k := range keys {
			if n, ok := p[k]; ok {
				if d, err := decimal.NewFromString(n.String()); err == nil {
					return &d
				}
			}
		}
		return nil
	}
	in, out := get("input", "input_tokens", "prompt_tokens"), get("output", "output_tokens", "completion_tokens")
	if in == nil || out == nil {
		return TokenPrices{}, false
	}
	return TokenPrices{
		Input:       *in,
		Output:      *out,
		CachedInput: get("input_cache_read", "input_cached_tokens", "cache_read_input_tokens"),
		CacheWrite:  get("input_cache_creation", "cache_creation_input_tokens"),
		Reasoning:   get("output_reasoning_tokens", "output_reasoning"),
	}, true
}

// --- OpenLIT --------------------------------------------------------------

func parseOpenLIT(data []byte) ([]*ModelPrice, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var f struct {
		Chat       map[string]struct{ PromptPrice, CompletionPrice json.Number } `json:"chat"`
		Embeddings map[string]json.Number                                        `json:"embeddings"`
	}
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	// OpenLIT prices are per 1,000 tokens.
	perK := decimal.New(1, 3)
	var out []*ModelPrice
	for name, p := range f.Chat {
		in, err1 := decimal.NewFromString(p.PromptPrice.String())
		outp, err2 := decimal.NewFromString(p.CompletionPrice.String())
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("chat model %s: promptPrice and completionPrice must be numbers", name)
		}
		out = append(out, &ModelPrice{Model: name, Tiers: []Tier{{Name: "default", Prices: TokenPrices{Input: in.Div(perK), Output: outp.Div(perK)}}}})
	}
	for name, p := range f.Embeddings {
		in, err := decimal.NewFromString(p.String())
		if err != nil {
			return nil, fmt.Errorf("embedding model %s: price must be a number", name)
		}
		out = append(out, &ModelPrice{Model: name, Tiers: []Tier{{Name: "default", Prices: TokenPrices{Input: in.Div(perK)}}}})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Model < out[j].Model })
	return out, nil
}

// PriceFile is a price file's name and bytes, read by whoever has it: the
// CLI from disk, the API from a request.
type PriceFile struct {
	Name string `json:"name"`
	Data []byte `json:"data"` // base64 in JSON
}

// DefaultPriceTable returns the built-in prices with the files' rows over
// them, later files winning: the table vigil serve's --cost.price-file and
// vigil cost reprice's --price-file build.
func DefaultPriceTable(files ...PriceFile) (*PriceTable, error) {
	table := NewPriceTable()
	if err := table.Add(DefaultPrices()...); err != nil {
		return nil, err
	}
	for _, f := range files {
		rows, err := ParsePrices(f.Name, f.Data, "auto")
		if err != nil {
			return nil, err
		}
		if err := table.Add(rows...); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	return table, nil
}
