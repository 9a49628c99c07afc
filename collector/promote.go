package collector

import (
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/store"
)

// Pricer prices a model call from its token counts, with the price valid
// at the call's time; ok is false for a model it has no price for.
type Pricer interface {
	Price(tenant, model string, at time.Time, u cost.Usage) (c decimal.Decimal, ok bool)
}

// Mapping says how attributes fill the promoted span columns and how spans
// are priced; every trace receiver applies it, so OTLP and Jaeger spans
// agree.
type Mapping struct {
	// Pricer, when set, prices GenAI spans at ingest from their token counts;
	// a cost the caller supplied (gen_ai.usage.cost) wins.
	Pricer Pricer

	// DeploymentAttribute names the span or resource attribute that carries
	// the deployment or canary label ("stable", "canary"); when absent,
	// deployment.environment.name (or the older deployment.environment) is
	// used.
	DeploymentAttribute string
}

// DefaultDeploymentAttribute is the semantic-convention deployment name.
const DefaultDeploymentAttribute = "deployment.name"

// Attribute names from the OpenTelemetry GenAI and resource conventions;
// where the conventions renamed one, both spellings are read, newest first.
var (
	attrModel        = []string{"gen_ai.response.model", "gen_ai.request.model"}
	attrProvider     = []string{"gen_ai.provider.name", "gen_ai.system"}
	attrOperation    = []string{"gen_ai.operation.name"}
	attrInputTokens  = []string{"gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"}
	attrOutputTokens = []string{"gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"}
	attrCachedTokens = []string{"gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens", "gen_ai.usage.cached_tokens"}
	attrCost         = []string{"gen_ai.usage.cost"} // a cost the caller computed wins over pricing at ingest
	attrServiceVer   = []string{"service.version"}
	attrEnvironment  = []string{"deployment.environment.name", "deployment.environment"}
)

// Promote fills a span's AI columns from its attributes, then its resource
// attributes.
func (m Mapping) Promote(sp *store.Span) {
	str := func(keys []string) string {
		for _, from := range []store.Attributes{sp.Attributes, sp.Resource} {
			for _, k := range keys {
				if v, ok := from.Get(k); ok && v != "" {
					return v
				}
			}
		}
		return ""
	}
	num := func(keys []string) int64 {
		if v := str(keys); v != "" {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return n
			}
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				return int64(f)
			}
		}
		return 0
	}
	deployment := m.DeploymentAttribute
	if deployment == "" {
		deployment = DefaultDeploymentAttribute
	}
	sp.Model = str(attrModel)
	sp.Provider = str(attrProvider)
	sp.OperationType = str(attrOperation)
	sp.InputTokens = num(attrInputTokens)
	sp.OutputTokens = num(attrOutputTokens)
	sp.CachedTokens = num(attrCachedTokens)
	sp.ModelVersion = str(attrServiceVer)
	sp.Deployment = str([]string{deployment})
	if sp.Deployment == "" {
		sp.Deployment = str(attrEnvironment)
	}
	if c := str(attrCost); c != "" {
		if d, err := decimal.NewFromString(c); err == nil {
			if d, err := store.Money(d); err == nil {
				sp.Cost = d
				return
			}
		}
	}
	if m.Pricer != nil && sp.Model != "" && (sp.InputTokens > 0 || sp.OutputTokens > 0) {
		u := cost.Usage{Input: sp.InputTokens, Output: sp.OutputTokens, CachedInput: sp.CachedTokens}
		if c, ok := m.Pricer.Price(sp.Tenant, sp.Model, sp.Start(), u); ok {
			if c, err := store.Money(c); err == nil {
				sp.Cost = c
			}
		}
	}
}
