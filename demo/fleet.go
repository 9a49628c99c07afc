package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	jaeger "github.com/uber/jaeger-client-go"
	"github.com/uber/jaeger-client-go/transport"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Endpoints are where the fleet sends its telemetry: Vigil's ports.
type Endpoints struct {
	OTLPGRPC string // host:port of OTLP/gRPC
	// IngestHTTP is the base URL of the ingest HTTP port: OTLP/HTTP,
	// remote write and Jaeger Thrift over HTTP.
	IngestHTTP string
	// JaegerAgent is host:port of the Jaeger agent's UDP port; "" sends
	// the ranker's spans as Thrift over HTTP to IngestHTTP instead.
	JaegerAgent string
	Tenant      string
	// Token is the ingest credential every service sends; "" sends none
	// (Vigil with --auth.disabled).
	Token string
}

func (e Endpoints) headers() map[string]string {
	h := map[string]string{}
	if e.Token != "" {
		h["authorization"] = "Bearer " + e.Token
	}
	if e.Tenant != "" {
		h["X-Scope-OrgID"] = e.Tenant
	}
	return h
}

// Fleet is the simulated services. Each has its own tracer with its own
// resource, as separate processes would, and exports through the
// library a real service of its kind uses: the gateway and the chat
// model through the OpenTelemetry SDK over OTLP/gRPC, the embedding
// service and the vector search over OTLP/HTTP, and the ranker, a legacy
// service, through the archived jaeger-client-go. The calls between the
// services are simulated in process, but the trace context crosses each
// of them through the real propagators (W3C traceparent between OTel
// services, uber-trace-id into the Jaeger one).
type Fleet struct {
	ends      Endpoints
	providers []*sdktrace.TracerProvider
	gateway   trace.Tracer
	chat      map[string]trace.Tracer // by deployment
	embedding trace.Tracer
	search    trace.Tracer
	ranker    opentracing.Tracer
	rankClose io.Closer
	Metrics   *Metrics

	mu      sync.Mutex
	routing Routing    // guarded by mu
	rng     *rand.Rand // guarded by mu
}

// Versions of the chat model.
const (
	StableVersion = "v1"
	CanaryVersion = "v2"
)

// NewFleet builds the services' exporters; nothing is sent yet.
func NewFleet(ctx context.Context, ends Endpoints, seed uint64) (*Fleet, error) {
	f := &Fleet{ends: ends, chat: map[string]trace.Tracer{}, Metrics: NewMetrics(),
		routing: Routing{StableVersion: StableVersion, CanaryVersion: CanaryVersion, StableReplicas: 2},
		rng:     newRand(seed)}
	grpcExp := func() (sdktrace.SpanExporter, error) {
		return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(ends.OTLPGRPC), otlptracegrpc.WithInsecure(), otlptracegrpc.WithHeaders(ends.headers()))
	}
	httpExp := func() (sdktrace.SpanExporter, error) {
		return otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(ends.IngestHTTP+"/v1/traces"), otlptracehttp.WithHeaders(ends.headers()))
	}
	provider := func(exp func() (sdktrace.SpanExporter, error), attrs ...attribute.KeyValue) (trace.Tracer, error) {
		e, err := exp()
		if err != nil {
			return nil, err
		}
		// Blocking: the backfill emits faster than it exports, and a
		// dropped span would be a hole in the history.
		tp := sdktrace.NewTracerProvider(sdktrace.WithResource(resource.NewSchemaless(attrs...)),
			sdktrace.WithBatcher(e, sdktrace.WithBlocking(), sdktrace.WithMaxQueueSize(40000), sdktrace.WithMaxExportBatchSize(10000), sdktrace.WithBatchTimeout(time.Second)))
		f.providers = append(f.providers, tp)
		return tp.Tracer("github.com/vigil-dev/vigil/demo"), nil
	}
	k8s := func(service, pod string) []attribute.KeyValue {
		return []attribute.KeyValue{attribute.String("service.name", service), attribute.String("service.namespace", "assistant"),
			attribute.String("k8s.namespace.name", Namespace), attribute.String("k8s.pod.name", pod)}
	}
	var err error
	if f.gateway, err = provider(grpcExp, append(k8s("llm-gateway", "llm-gateway-5f7c9d8b6d-q2w4r"), attribute.String("service.version", "1.14.2"))...); err != nil {
		return nil, err
	}
	for _, d := range []struct{ name, version, pod string }{{Stable, StableVersion, StablePods[0]}, {Canary, CanaryVersion, CanaryPod}} {
		attrs := append(k8s("chat-model", d.pod), attribute.String("service.version", d.version), attribute.String("deployment.name", d.name))
		if f.chat[d.name], err = provider(grpcExp, attrs...); err != nil {
			return nil, err
		}
	}
	if f.embedding, err = provider(httpExp, append(k8s("embedding", EmbeddingPods[0]), attribute.String("service.version", "0.9.1"))...); err != nil {
		return nil, err
	}
	if f.search, err = provider(httpExp, append(k8s("vector-search", "vector-search-0"), attribute.String("service.version", "1.12.4"))...); err != nil {
		return nil, err
	}
	if f.ranker, f.rankClose, err = f.newRanker(); err != nil {
		return nil, err
	}
	return f, nil
}

// newRanker opens the ranker's Jaeger tracer: over the agent's UDP port
// when Vigil listens there, else Thrift over HTTP with the token, as a
// legacy service configured with JAEGER_ENDPOINT sends. Each request
// waits for the collector to store its batch, so batches are large.
func (f *Fleet) newRanker() (opentracing.Tracer, io.Closer, error) {
	var sender jaeger.Transport
	if f.ends.JaegerAgent != "" {
		udp, err := jaeger.NewUDPTransport(f.ends.JaegerAgent, 0)
		if err != nil {
			return nil, nil, fmt.Errorf("ranker: cannot open the Jaeger agent transport: %w", err)
		}
		sender = udp
	} else {
		var opts []transport.HTTPOption
		if f.ends.Token != "" {
			opts = append(opts, transport.HTTPHeaders(map[string]string{"Authorization": "Bearer " + f.ends.Token}))
		}
		sender = transport.NewHTTPTransport(f.ends.IngestHTTP+"/api/traces", append(opts, transport.HTTPBatchSize(5000))...)
	}
	reporter := jaeger.NewRemoteReporter(sender, jaeger.ReporterOptions.QueueSize(200000), jaeger.ReporterOptions.BufferFlushInterval(time.Second))
	tracer, closer := jaeger.NewTracer("ranker", jaeger.NewConstSampler(true), reporter,
		jaeger.TracerOptions.Tag("k8s.namespace.name", Namespace), jaeger.TracerOptions.Tag("service.version", "3.2.0"))
	return tracer, closer, nil
}

// Flush sends every span emitted so far: the OTel batches, and the
// ranker's queue (jaeger-client-go flushes only on close, so the ranker's
// tracer is reopened).
func (f *Fleet) Flush(ctx context.Context) error {
	var errs []error
	for _, tp := range f.providers {
		errs = append(errs, tp.ForceFlush(ctx))
	}
	tracer, closer, err := f.newRanker()
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	f.mu.Lock()
	old := f.rankClose
	f.ranker, f.rankClose = tracer, closer
	f.mu.Unlock()
	return errors.Join(append(errs, old.Close())...)
}

// Close flushes and stops every exporter.
func (f *Fleet) Close(ctx context.Context) error {
	var errs []error
	for _, tp := range f.providers {
		errs = append(errs, tp.Shutdown(ctx))
	}
	f.mu.Lock()
	closer := f.rankClose
	f.mu.Unlock()
	return errors.Join(append(errs, closer.Close())...)
}

// Routing is the routing in force.
func (f *Fleet) Routing() Routing {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.routing
}

// SetRouting changes the routing with fn.
func (f *Fleet) SetRouting(fn func(*Routing)) Routing {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(&f.routing)
	return f.routing
}

// Request draws one request starting at start under the routing in force.
func (f *Fleet) Request(start time.Time) Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return NewRequest(f.rng, start, f.routing)
}

var propagator = propagation.TraceContext{}

// hop carries the trace context across a call between OTel services the
// way HTTP instrumentation does: injected into headers, extracted on the
// other side.
func hop(ctx context.Context) context.Context {
	h := http.Header{}
	propagator.Inject(ctx, propagation.HeaderCarrier(h))
	return propagator.Extract(context.Background(), propagation.HeaderCarrier(h))
}

// Emit records one request as every service involved would: the
// gateway's server span, the embedding, the search, the ranking, and the
// model call (the gateway's client span, and for the self-hosted model the
// chat model's own). live says the request is happening now, so the
// services' metrics count it too.
func (f *Fleet) Emit(q Request, live bool) {
	at := q.Start
	end := at.Add(q.Duration())
	ctx, root := f.gateway.Start(context.Background(), "POST /v1/chat/completions", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(at),
		trace.WithAttributes(attribute.String("http.request.method", "POST"), attribute.String("http.route", "/v1/chat/completions"),
			attribute.String("url.path", "/v1/chat/completions"), attribute.String("server.address", "assistant.example.com")))

	// Embedding the question (OTLP/HTTP).
	t := at.Add(time.Millisecond)
	_, emb := f.embedding.Start(hop(ctx), "POST /embed", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(t),
		trace.WithAttributes(attribute.String("gen_ai.operation.name", "embeddings"), attribute.String("gen_ai.provider.name", "huggingface.tei"),
			attribute.String("gen_ai.request.model", EmbeddingModel), attribute.Int("gen_ai.usage.input_tokens", q.QueryTokens)))
	t = t.Add(q.Embed)
	emb.End(trace.WithTimestamp(t))

	// Vector search (OTLP/HTTP), with the index lookup inside it.
	sctx, search := f.search.Start(hop(ctx), "POST /collections/kb/points/search", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(t),
		trace.WithAttributes(attribute.String("db.system.name", "qdrant"), attribute.String("db.operation.name", "search"),
			attribute.String("db.collection.name", "kb"), attribute.Int("db.response.returned_rows", q.Candidates)))
	_, hnsw := f.search.Start(sctx, "hnsw.search", trace.WithTimestamp(t.Add(time.Millisecond)))
	hnsw.End(trace.WithTimestamp(t.Add(q.Search - time.Millisecond)))
	t = t.Add(q.Search)
	search.End(trace.WithTimestamp(t))

	// Re-ranking, in the legacy service on jaeger-client-go: the gateway's
	// span context crosses as uber-trace-id.
	f.rank(root.SpanContext(), t, q)
	t = t.Add(q.Rank)

	// The model call.
	provider := "openai"
	if q.Model == SelfHostedModel {
		provider = "vllm"
	}
	attrs := []attribute.KeyValue{attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.provider.name", provider),
		attribute.String("gen_ai.request.model", q.Model), attribute.String("gen_ai.response.model", q.Model),
		attribute.Int("gen_ai.request.max_tokens", 2048)}
	if q.Err == "" {
		attrs = append(attrs, attribute.Int("gen_ai.usage.input_tokens", q.InputTokens), attribute.Int("gen_ai.usage.output_tokens", q.OutputTokens),
			attribute.Float64("gen_ai.server.time_to_first_token", q.TTFT.Seconds()))
	}
	cctx, call := f.gateway.Start(ctx, "chat "+q.Model, trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(t), trace.WithAttributes(attrs...))
	modelEnd := t.Add(q.TTFT + q.Generate)
	if q.Deployment != "" {
		_, srv := f.chat[q.Deployment].Start(hop(cctx), "llm_request", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(t.Add(time.Millisecond)),
			trace.WithAttributes(attrs...))
		if q.Err == "" {
			srv.AddEvent("first_token", trace.WithTimestamp(t.Add(q.TTFT)))
		} else {
			srv.RecordError(errors.New(q.Err), trace.WithTimestamp(modelEnd))
			srv.SetStatus(codes.Error, q.Err)
		}
		srv.End(trace.WithTimestamp(modelEnd))
	}
	if q.Err != "" {
		call.SetStatus(codes.Error, q.Err)
		root.SetStatus(codes.Error, "502 Bad Gateway: the model call failed")
		root.SetAttributes(attribute.Int("http.response.status_code", 502), attribute.String("error.type", "502"))
	} else {
		call.AddEvent("first_token", trace.WithTimestamp(t.Add(q.TTFT)))
		root.SetAttributes(attribute.Int("http.response.status_code", 200))
	}
	call.End(trace.WithTimestamp(modelEnd))
	root.End(trace.WithTimestamp(end))
	if live {
		f.Metrics.observe(q)
	}
}

// rank emits the ranker's span as a child of the gateway's.
func (f *Fleet) rank(parent trace.SpanContext, at time.Time, q Request) {
	h := http.Header{}
	h.Set("uber-trace-id", fmt.Sprintf("%s:%s:0:1", parent.TraceID(), parent.SpanID()))
	f.mu.Lock()
	tracer := f.ranker
	f.mu.Unlock()
	opts := []opentracing.StartSpanOption{opentracing.StartTime(at), ext.SpanKindRPCServer}
	if pc, err := tracer.Extract(opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(h)); err == nil {
		opts = append(opts, ext.RPCServerOption(pc))
	}
	sp := tracer.StartSpan("rank", opts...)
	sp.SetTag("gen_ai.request.model", RerankModel)
	sp.SetTag("rank.candidates", q.Candidates)
	sp.SetTag("rank.top_k", 8)
	sp.FinishWithOptions(opentracing.FinishOptions{FinishTime: at.Add(q.Rank)})
}
