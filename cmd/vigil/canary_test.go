package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// canaryAnswer is the part of GET /api/v1/canary the test reads.
type canaryAnswer struct {
	Verdict string   `json:"verdict"`
	Score   *float64 `json:"score"`
	Reason  string   `json:"reason"`
	Metrics []struct {
		Name           string `json:"name"`
		Classification string `json:"classification"`
		Latency        *struct {
			CanaryN          int     `json:"canary_n"`
			BaselineN        int     `json:"baseline_n"`
			CanaryMedianMS   float64 `json:"canary_median_ms"`
			BaselineMedianMS float64 `json:"baseline_median_ms"`
			P                float64 `json:"p"`
		} `json:"latency"`
		ErrorRate *struct {
			CanaryRequests uint64 `json:"canary_requests"`
			CanaryErrors   uint64 `json:"canary_errors"`
		} `json:"error_rate"`
	} `json:"metrics"`
}

// sendDeployment emits n spans of one deployment of the "chat" service
// through the OpenTelemetry SDK, as its pods would: deployment.name on the
// resource, latencies log-normal with the given median and σ = 0.5, start
// times spread over ten minutes from start. Every 50th request fails, on
// every deployment alike, so error counts are equal by construction and
// only latency tells the deployments apart.
func sendDeployment(t *testing.T, ctx context.Context, grpcAddr, deployment string, rng *rand.Rand, n int, medianMS float64, start time.Time) {
	t.Helper()
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(grpcAddr), otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithHeaders(headers(grpcAddr, "X-Scope-OrgID", "acme")))
	if err != nil {
		t.Fatal(err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", "chat"), attribute.String("deployment.name", deployment))
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(exp, sdktrace.WithMaxExportBatchSize(500)))
	tr := tp.Tracer("vigil-canary-e2e")
	for i := range n {
		at := start.Add(time.Duration(i) * 10 * time.Minute / time.Duration(n))
		d := time.Duration(medianMS * math.Exp(0.5*rng.NormFloat64()) * float64(time.Millisecond))
		_, sp := tr.Start(context.Background(), "generate", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(at))
		if i%50 == 0 {
			sp.SetStatus(codes.Error, "upstream timeout")
		}
		sp.End(trace.WithTimestamp(at.Add(d)))
	}
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatalf("exporting %s to vigil: %v", deployment, err)
	}
}

// TestCanaryVerdicts sends a stable deployment and two canaries through
// the real SDK into `vigil serve` and asks the API to judge them.
//
// Why the "same" canary passes with overwhelming probability, not just
// for this seed: it fails only if latency is High, which needs p < 0.05
// and a Hodges–Lehmann shift above 10% of the baseline median (10 ms).
// For log-normal latencies with median m and σ = 0.5, ∫f² = e^(σ²/4) /
// (2σ√π·m) ≈ 0.0060/ms, so the shift estimate of two samples of ~980
// successful requests has a standard deviation of √(1/980+1/980) /
// (√12·∫f²) ≈ 2.2 ms. A shift above 10 ms is 4.6 standard deviations:
// probability about 2·10⁻⁶. Error counts are equal by construction (every
// 50th request fails), so the critical error-rate metric cannot fail it.
// The slow canary's 50 ms shift is 23 standard deviations: it fails for
// every seed.
func TestCanaryVerdicts(t *testing.T) {
	v := startServe(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rng := rand.New(rand.NewPCG(2026, 11))
	const n = 1000
	start := time.Now().UTC().Truncate(time.Minute).Add(-20 * time.Minute)
	sendDeployment(t, ctx, v.grpc, "stable", rng, n, 100, start)
	sendDeployment(t, ctx, v.grpc, "canary-same", rng, n, 100, start)
	sendDeployment(t, ctx, v.grpc, "canary-slow", rng, n, 150, start)

	ask := func(canary string) canaryAnswer {
		t.Helper()
		q := url.Values{"service": {"chat"}, "canary": {canary}, "baseline": {"stable"},
			"from": {start.Format(time.RFC3339)}, "to": {start.Add(15 * time.Minute).Format(time.RFC3339)}}
		var a canaryAnswer
		v.getJSONTenant(t, "acme", "/api/v1/canary?"+q.Encode(), &a)
		return a
	}
	// The collector batches writes: wait until every span is visible.
	deadline := time.Now().Add(time.Minute)
	for {
		a := ask("canary-slow")
		if e := a.Metrics[1].ErrorRate; e != nil && e.CanaryRequests == n {
			if len(a.Metrics) != 2 || a.Metrics[0].Latency == nil || a.Metrics[0].Latency.BaselineN != n-n/50 {
				t.Fatalf("baseline not fully ingested while the canary is: %+v", a)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("spans did not arrive: %+v\nstderr:\n%s", a, v.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}

	slow := ask("canary-slow")
	lat := slow.Metrics[0]
	if slow.Verdict != "fail" || lat.Classification != "High" || lat.Latency.CanaryN != n-n/50 || lat.Latency.P > 1e-10 ||
		lat.Latency.CanaryMedianMS < 130 || lat.Latency.CanaryMedianMS > 170 || slow.Metrics[1].ErrorRate.CanaryErrors != n/50 {
		t.Errorf("slow canary: %s: %+v (%s)", slow.Verdict, slow.Metrics, slow.Reason)
	}
	same := ask("canary-same")
	if same.Verdict != "pass" || same.Score == nil || *same.Score != 100 || same.Metrics[0].Classification != "Pass" || same.Metrics[1].Classification != "Pass" {
		t.Errorf("same canary: %s: %+v (%s)", same.Verdict, same.Metrics, same.Reason)
	}
	// No traffic is inconclusive, never a pass.
	if absent := ask("canary-absent"); absent.Verdict != "inconclusive" || absent.Score != nil {
		t.Errorf("absent canary: %+v", absent)
	}
	// Another tenant sees no data at all.
	var other canaryAnswer
	v.getJSONTenant(t, "globex", fmt.Sprintf("/api/v1/canary?service=chat&canary=canary-slow&from=%s&to=%s",
		start.Format(time.RFC3339), start.Add(15*time.Minute).Format(time.RFC3339)), &other)
	if other.Verdict != "inconclusive" {
		t.Errorf("other tenant: %+v", other)
	}
	v.stop(t)
}
