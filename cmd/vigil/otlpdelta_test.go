package main

import (
	"context"
	"math"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
)

// TestOTLPDeltaMetrics exports with the OpenTelemetry SDK configured for
// delta temporality, as its users on backends that want deltas do, over
// OTLP/gRPC into `vigil serve`, three times; PromQL reads cumulative
// series back, named as Prometheus's OTLP receiver names them, with
// target_info carrying the resource.
func TestOTLPDeltaMetrics(t *testing.T) {
	v := startServe(t, "")
	ctx := context.Background()
	exp, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(v.grpc), otlpmetricgrpc.WithInsecure(),
		otlpmetricgrpc.WithHeaders(headers(v.grpc, "X-Scope-OrgID", "acme")))
	if err != nil {
		t.Fatal(err)
	}
	delta := func(sdkmetric.InstrumentKind) metricdata.Temporality { return metricdata.DeltaTemporality }
	reader := sdkmetric.NewManualReader(sdkmetric.WithTemporalitySelector(delta))
	exponential := sdkmetric.NewView(sdkmetric.Instrument{Name: "gen_ai.server.time_to_first_token"},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: 160, MaxScale: 20}})
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithView(exponential),
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "gateway"), attribute.String("service.instance.id", "gw-0"), attribute.String("k8s.pod.name", "gateway-7f"))))
	meter := mp.Meter("vigil-e2e")
	requests, _ := meter.Int64Counter("gen_ai.requests", metric.WithUnit("{request}"))
	latency, _ := meter.Float64Histogram("gen_ai.client.operation.duration", metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(0.1, 1, 10))
	ttft, _ := meter.Float64Histogram("gen_ai.server.time_to_first_token", metric.WithUnit("s"))
	model := metric.WithAttributes(attribute.String("gen_ai.request.model", "gpt-4o"))
	export := func(n int64, seconds ...float64) {
		t.Helper()
		requests.Add(ctx, n, model)
		for _, s := range seconds {
			latency.Record(ctx, s, model)
			ttft.Record(ctx, s/10, model)
		}
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(ctx, &rm); err != nil {
			t.Fatal(err)
		}
		if err := exp.Export(ctx, &rm); err != nil {
			t.Fatalf("export: %v; stderr:\n%s", err, v.stderr)
		}
	}
	export(5, 0.05, 0.5)
	export(7, 5, 50)
	export(1, 0.5)

	for q, want := range map[string]float64{
		`gen_ai_requests_total{job="gateway",instance="gw-0",gen_ai_request_model="gpt-4o"}`: 13,
		`gen_ai_client_operation_duration_seconds_count`:                                     5,
		`gen_ai_client_operation_duration_seconds_bucket{le="1"}`:                            3,
		`gen_ai_client_operation_duration_seconds_bucket{le="10"}`:                           4,
		`gen_ai_client_operation_duration_seconds_sum`:                                       56.05,
		`gen_ai_server_time_to_first_token_seconds_count`:                                    5,
		`gen_ai_server_time_to_first_token_seconds_bucket{le="+Inf"}`:                        5,
		`target_info{job="gateway",instance="gw-0",k8s_pod_name="gateway-7f"}`:               1,
	} {
		if got := promValue(t, v, "acme", q); math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", q, got, want)
		}
	}
	// The exponential histogram's quantile lies in the bucket of its
	// observations: the median of 0.005, 0.05, 0.5, 5 and 0.05 is 0.05.
	if got := promValue(t, v, "acme", `histogram_quantile(0.5, gen_ai_server_time_to_first_token_seconds_bucket)`); got < 0.04 || got > 0.06 {
		t.Errorf("median time to first token %v, want about 0.05", got)
	}
}
