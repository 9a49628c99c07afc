package cost

import (
	"errors"

	"github.com/shopspring/decimal"
)

// DefaultOutputMultiplier is how many input tokens one output token costs
// when there is no prefill and decode timing to split by.
var DefaultOutputMultiplier = decimal.RequireFromString("2.5")

// SelfHosted is what a self-hosted model deployment cost and served over a
// window.
type SelfHosted struct {
	Cost            decimal.Decimal // USD for the window, e.g. hourly price x hours
	PromptTokens    int64
	GeneratedTokens int64
	CacheHitTokens  int64 // prompt tokens served from the prefix cache
	// PrefillSeconds and DecodeSeconds split the cost between input and
	// output by compute time; both zero falls back to the output multiplier.
	PrefillSeconds decimal.Decimal
	DecodeSeconds  decimal.Decimal
}

// UnitCost is USD per million tokens.
type UnitCost struct {
	Blended decimal.Decimal // over every prompt and generated token
	Input   decimal.Decimal // per effective (not cached) prompt token
	Output  decimal.Decimal
}

var million = decimal.New(1, 6)

// PerMillion splits the cost into input and output and divides: input takes
// prefill / (prefill + decode) of the cost, over the prompt tokens the cache
// did not serve; without timings one output token counts as outputMultiplier
// input tokens.
func (s SelfHosted) PerMillion(outputMultiplier decimal.Decimal) (UnitCost, error) {
	total := s.PromptTokens + s.GeneratedTokens
	effectiveIn := s.PromptTokens - s.CacheHitTokens
	if total <= 0 || effectiveIn <= 0 || s.GeneratedTokens <= 0 {
		return UnitCost{}, errors.New("needs prompt tokens beyond the cache hits and generated tokens")
	}
	var u UnitCost
	u.Blended = s.Cost.Mul(million).Div(decimal.NewFromInt(total))
	in, out := decimal.NewFromInt(effectiveIn), decimal.NewFromInt(s.GeneratedTokens)
	compute := s.PrefillSeconds.Add(s.DecodeSeconds)
	if compute.IsPositive() {
		inputCost := s.Cost.Mul(s.PrefillSeconds).Div(compute)
		u.Input = inputCost.Mul(million).Div(in)
		u.Output = s.Cost.Sub(inputCost).Mul(million).Div(out)
		return u, nil
	}
	if !outputMultiplier.IsPositive() {
		return UnitCost{}, errors.New("output multiplier must be positive")
	}
	perInput := s.Cost.Div(in.Add(out.Mul(outputMultiplier)))
	u.Input = perInput.Mul(million)
	u.Output = perInput.Mul(outputMultiplier).Mul(million)
	return u, nil
}
