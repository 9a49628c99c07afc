package demo

import (
	"math"
	"math/rand/v2"
	"time"
)

// The fleet's product: a support assistant. A request enters the LLM
// gateway, is embedded, searched, re-ranked, then answered by a chat
// model: the self-hosted one (stable, or the canary while a rollout is
// under way) or, for the fast tier, a hosted API model.
const (
	SelfHostedModel = "llama-3.1-70b-instruct"
	HostedModel     = "gpt-4o-mini"
	EmbeddingModel  = "bge-large-en-v1.5"
	RerankModel     = "bge-reranker-v2-m3"

	// The chat model's deployments, as the canary monitor tells them apart.
	Stable = "stable"
	Canary = "canary"
)

// Routing is how the gateway splits traffic, which the control endpoint
// changes.
type Routing struct {
	// CanaryVersion serves CanaryWeight of the self-hosted traffic; the
	// rest goes to the stable version.
	StableVersion, CanaryVersion string
	CanaryWeight                 float64 // 0..1
	// CanaryRegressed: the canary's build is the bad one (v2: its KV cache
	// lost prefix caching, so its time to first token is four times
	// longer, and it runs out of memory on long prompts).
	CanaryRegressed bool
	// StableReplicas of the stable deployment share its load: fewer queue
	// longer.
	StableReplicas int
	// PromptShift: a new client pastes whole documents into the chat, so
	// the prompts the embedding service sees are about four times longer.
	PromptShift bool
}

// Request is one simulated request: what each service did and for how
// long, all relative to its start.
type Request struct {
	Start time.Time
	// Self-hosted or hosted model, and for self-hosted, which deployment.
	Model                     string
	Deployment                string // Stable or Canary; "" for the hosted model
	Version                   string
	QueryTokens               int // what the embedding service embeds
	InputTokens, OutputTokens int
	Embed, Search, Rank       time.Duration
	TTFT, Generate            time.Duration // the model's time to first token, then decoding
	Candidates                int
	// Err is what failed, "" when nothing did.
	Err string
}

// Duration is the gateway's whole request.
func (r Request) Duration() time.Duration {
	return r.Embed + r.Search + r.Rank + r.TTFT + r.Generate + 3*time.Millisecond
}

// RatePerSecond is the live traffic at t: a daily cycle peaking in the
// European afternoon, quieter weekends, and a burst in one ten-minute slot
// of every few hours (a customer's batch of tickets).
func RatePerSecond(t time.Time, base float64) float64 {
	t = t.UTC()
	hour := float64(t.Hour()) + float64(t.Minute())/60
	daily := 0.6 + 0.4*math.Sin((hour-9)/24*2*math.Pi)
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		daily *= 0.65
	}
	slot := t.Unix() / 600
	if h := hash64(uint64(slot)); h%17 == 0 {
		daily *= 1.8
	}
	return base * daily
}

// hash64 is splitmix64: a fixed, well-mixed function of its input.
func hash64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// lognormal draws a value whose median is median and whose log has
// standard deviation sigma.
func lognormal(r *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// NewRequest draws a request starting at start under the routing in
// force: token counts and latencies from long-tailed distributions as
// LLM services have them, and errors at the rates real ones do.
func NewRequest(r *rand.Rand, start time.Time, rt Routing) Request {
	q := Request{Start: start, Candidates: 20 + r.IntN(30)}
	queryMedian := 60.0
	if rt.PromptShift {
		queryMedian = 240
	}
	q.QueryTokens = max(4, int(lognormal(r, queryMedian, 0.5)))
	q.InputTokens = q.QueryTokens + 350 + r.IntN(900) // the retrieved passages
	q.OutputTokens = min(2048, max(8, int(lognormal(r, 220, 0.6))))
	q.Embed = seconds(0.012 + float64(q.QueryTokens)*0.00004 + lognormal(r, 0.004, 0.4))
	q.Search = seconds(lognormal(r, 0.018, 0.35))
	q.Rank = seconds(lognormal(r, 0.035, 0.3) + float64(q.Candidates)*0.0004)

	if r.Float64() < 0.25 {
		// The fast tier goes to a hosted model.
		q.Model = HostedModel
		q.TTFT = seconds(lognormal(r, 0.42, 0.3))
		q.Generate = seconds(float64(q.OutputTokens) / lognormal(r, 95, 0.15))
		if r.Float64() < 0.003 {
			q.Err, q.TTFT, q.Generate = "429 Too Many Requests from the provider", seconds(0.08), 0
		}
		return q
	}
	q.Model = SelfHostedModel
	q.Deployment, q.Version = Stable, rt.StableVersion
	if rt.CanaryWeight > 0 && r.Float64() < rt.CanaryWeight {
		q.Deployment, q.Version = Canary, rt.CanaryVersion
	}
	// Fewer stable replicas queue longer.
	queue := 0.0
	if q.Deployment == Stable && rt.StableReplicas > 0 && rt.StableReplicas < 3 {
		queue = 0.15 * float64(3-rt.StableReplicas)
	}
	ttftMedian, tokensPerSecond, oom := 0.26, 55.0, 0.0015
	if q.Deployment == Canary && rt.CanaryRegressed {
		ttftMedian, tokensPerSecond, oom = 1.35, 41, 0.06
	}
	q.TTFT = seconds(lognormal(r, ttftMedian, 0.3) + queue)
	q.Generate = seconds(float64(q.OutputTokens) / lognormal(r, tokensPerSecond, 0.12))
	if r.Float64() < oom {
		q.Err, q.TTFT, q.Generate = "CUDA out of memory: KV cache cannot fit the prompt", seconds(lognormal(r, 0.2, 0.3)), 0
	}
	return q
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x5eed)) }
