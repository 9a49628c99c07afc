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

// Calls is what a group of model calls consumed and cost.
type Calls struct {
	Calls, Errors             uint64
	InputTokens, OutputTokens int64
	Cost                      decimal.Decimal
}

// CallUnitCost is the unit economics of a group of model calls. Failed
// calls cost too: their cost is in every figure, spread over the successful
// calls in PerSuccessfulCall.
type CallUnitCost struct {
	PerThousandCalls  decimal.Decimal
	PerSuccessfulCall *decimal.Decimal // nil when no call succeeded
	PerMillionTokens  *decimal.Decimal // input and output together; nil without tokens
}

// PerUnit divides a group's cost by its calls and tokens.
func (c Calls) PerUnit() CallUnitCost {
	var u CallUnitCost
	if c.Calls == 0 {
		return u
	}
	u.PerThousandCalls = c.Cost.Mul(decimal.NewFromInt(1000)).Div(decimal.NewFromInt(int64(c.Calls))).Round(MoneyPlaces)
	if ok := c.Calls - c.Errors; ok > 0 {
		d := c.Cost.Div(decimal.NewFromInt(int64(ok))).Round(MoneyPlaces)
		u.PerSuccessfulCall = &d
	}
	if tokens := c.InputTokens + c.OutputTokens; tokens > 0 {
		d := c.Cost.Mul(million).Div(decimal.NewFromInt(tokens)).Round(MoneyPlaces)
		u.PerMillionTokens = &d
	}
	return u
}
