package cost

import (
	"math"

	"github.com/shopspring/decimal"
)

// The vLLM counters self-hosted unit cost reads.
const (
	VLLMPromptTokens     = "vllm:prompt_tokens_total"
	VLLMGenerationTokens = "vllm:generation_tokens_total"
	VLLMPrefillSeconds   = "vllm:request_prefill_time_seconds_sum"
	VLLMDecodeSeconds    = "vllm:request_decode_time_seconds_sum"
	VLLMPrefixCacheHits  = "vllm:prefix_cache_hits_total" // in tokens
)

// VLLMMetricNames lists what SelfHostedFromVLLM reads.
var VLLMMetricNames = []string{VLLMPromptTokens, VLLMGenerationTokens, VLLMPrefillSeconds, VLLMDecodeSeconds, VLLMPrefixCacheHits}

// SelfHostedFromVLLM sums each counter's increase over the window across
// its series (every replica of the deployment) into what the window served,
// for a deployment that cost spend over it.
func SelfHostedFromVLLM(series []MetricSeries, spend decimal.Decimal) SelfHosted {
	inc := map[string]float64{}
	for _, s := range series {
		inc[s.Name] += counterIncrease(s.Points)
	}
	tokens := func(name string) int64 { return int64(math.Round(inc[name])) }
	return SelfHosted{
		Cost:            spend,
		PromptTokens:    tokens(VLLMPromptTokens),
		GeneratedTokens: tokens(VLLMGenerationTokens),
		CacheHitTokens:  tokens(VLLMPrefixCacheHits),
		PrefillSeconds:  decimal.NewFromFloat(inc[VLLMPrefillSeconds]),
		DecodeSeconds:   decimal.NewFromFloat(inc[VLLMDecodeSeconds]),
	}
}
