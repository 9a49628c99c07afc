// Package bench drives load at a running Vigil and measures it from the
// outside, the way a user would size a collector: throughput, the
// collector's CPU and memory from its own /metrics, and what a span costs on
// disk in ClickHouse.
package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// IngestOptions configure an ingest run.
type IngestOptions struct {
	Target          string        // OTLP/gRPC address of the collector
	MetricsURL      string        // the collector's /metrics, for CPU and memory; "" skips them
	Tenant          string        // X-Scope-OrgID; "" for the default tenant
	Duration        time.Duration // how long to send
	Concurrency     int           // requests in flight
	SpansPerRequest int
	// Progress, when set, is called about once a second.
	Progress func(sent uint64, elapsed time.Duration)
}

// IngestResult is what a run measured.
type IngestResult struct {
	Spans          uint64        // acknowledged
	Refused        uint64        // spans in requests the collector refused (busy, unavailable)
	Elapsed        time.Duration // from the first request to the last answer
	CPUSeconds     float64       // the collector's process_cpu_seconds_total over the run
	PeakRSSBytes   float64       // highest process_resident_memory_bytes seen
	CollectorCores float64       // CPUSeconds / Elapsed
}

// SpansPerSecond is the acknowledged throughput.
func (r IngestResult) SpansPerSecond() float64 { return float64(r.Spans) / r.Elapsed.Seconds() }

// CPUSecondsPerMillion is the collector's CPU time per million spans.
func (r IngestResult) CPUSecondsPerMillion() float64 {
	return r.CPUSeconds / float64(r.Spans) * 1e6
}

// Ingest sends GenAI-shaped spans over OTLP/gRPC for the duration.
func Ingest(ctx context.Context, o IngestOptions) (IngestResult, error) {
	conn, err := grpc.NewClient(o.Target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return IngestResult{}, err
	}
	defer conn.Close()
	client := ptraceotlp.NewGRPCClient(conn)
	if o.Tenant != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "x-scope-orgid", o.Tenant)
	}
	// One request that fails at once means a wrong address: say so rather
	// than measuring nothing.
	probe := newGenerator(0, o.SpansPerRequest)
	if _, err := client.Export(ctx, probe.next()); err != nil {
		return IngestResult{}, fmt.Errorf("cannot send to %s: %w", o.Target, err)
	}

	var res IngestResult
	cpu0, _, err := processMetrics(o.MetricsURL)
	if err != nil {
		return res, err
	}
	var sent, refused atomic.Uint64
	var peak atomic.Uint64
	stopSampling := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	start := time.Now()
	go func() {
		defer sampler.Done()
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-t.C:
				if _, rss, err := processMetrics(o.MetricsURL); err == nil && uint64(rss) > peak.Load() {
					peak.Store(uint64(rss))
				}
				if o.Progress != nil {
					o.Progress(sent.Load(), time.Since(start))
				}
			}
		}
	}()

	deadline := start.Add(o.Duration)
	var wg sync.WaitGroup
	for w := 0; w < o.Concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			g := newGenerator(uint64(w+1), o.SpansPerRequest)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if _, err := client.Export(ctx, g.next()); err != nil {
					refused.Add(uint64(o.SpansPerRequest))
					time.Sleep(10 * time.Millisecond)
					continue
				}
				sent.Add(uint64(o.SpansPerRequest))
			}
		}(w)
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	close(stopSampling)
	sampler.Wait()
	cpu1, rss, err := processMetrics(o.MetricsURL)
	if err != nil {
		return res, err
	}
	res.Spans, res.Refused = sent.Load(), refused.Load()
	res.CPUSeconds = cpu1 - cpu0
	res.PeakRSSBytes = max(float64(peak.Load()), rss)
	res.CollectorCores = res.CPUSeconds / res.Elapsed.Seconds()
	return res, ctx.Err()
}

// generator makes export requests of realistic GenAI spans with fresh ids
// and varied values; it is not safe for concurrent use.
type generator struct {
	req ptraceotlp.ExportRequest
	rnd *rand.Rand
	id  uint64
}

var (
	models    = []string{"gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "llama-3.1-70b"}
	services  = []string{"chat-gateway", "rag-retriever", "agent-runner", "support-bot"}
	userTiers = []string{"free", "pro", "team", "enterprise"}
)

func newGenerator(worker uint64, n int) *generator {
	g := &generator{req: ptraceotlp.NewExportRequest(), rnd: rand.New(rand.NewPCG(worker, 42)), id: worker << 48}
	td := g.req.Traces()
	rs := td.ResourceSpans().AppendEmpty()
	res := rs.Resource().Attributes()
	res.PutStr("service.name", services[worker%uint64(len(services))])
	res.PutStr("service.version", "v1.4.2")
	res.PutStr("deployment.environment.name", "prod")
	res.PutStr("k8s.pod.name", fmt.Sprintf("gateway-%d", worker))
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("opentelemetry-instrumentation-openai")
	for i := 0; i < n; i++ {
		s := ss.Spans().AppendEmpty()
		s.SetKind(ptrace.SpanKindClient)
		a := s.Attributes()
		a.PutStr("gen_ai.operation.name", "chat")
		a.PutStr("gen_ai.provider.name", "openai")
		a.PutStr("gen_ai.request.model", "")
		a.PutInt("gen_ai.usage.input_tokens", 0)
		a.PutInt("gen_ai.usage.output_tokens", 0)
		a.PutStr("user.tier", "")
		a.PutStr("http.route", "/v1/chat/completions")
		a.PutDouble("gen_ai.request.temperature", 0.7)
	}
	return g
}

func (g *generator) next() ptraceotlp.ExportRequest {
	spans := g.req.Traces().ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	now := time.Now()
	for i := 0; i < spans.Len(); i++ {
		g.id++
		s := spans.At(i)
		var tid pcommon.TraceID
		var sid pcommon.SpanID
		binary.BigEndian.PutUint64(tid[:8], g.rnd.Uint64())
		binary.BigEndian.PutUint64(tid[8:], g.id)
		binary.BigEndian.PutUint64(sid[:], g.rnd.Uint64())
		s.SetTraceID(tid)
		s.SetSpanID(sid)
		model := models[g.rnd.IntN(len(models))]
		s.SetName("chat " + model)
		d := time.Duration(50+g.rnd.IntN(3000)) * time.Millisecond
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-d)))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(now))
		a := s.Attributes()
		a.PutStr("gen_ai.request.model", model)
		a.PutInt("gen_ai.usage.input_tokens", int64(100+g.rnd.IntN(4000)))
		a.PutInt("gen_ai.usage.output_tokens", int64(10+g.rnd.IntN(800)))
		a.PutStr("user.tier", userTiers[g.rnd.IntN(len(userTiers))])
		if g.rnd.IntN(50) == 0 {
			s.Status().SetCode(ptrace.StatusCodeError)
		} else {
			s.Status().SetCode(ptrace.StatusCodeUnset)
		}
	}
	return g.req
}

// processMetrics reads process_cpu_seconds_total and
// process_resident_memory_bytes from a client_golang /metrics.
func processMetrics(url string) (cpu, rss float64, err error) {
	if url == "" {
		return 0, 0, nil
	}
	resp, err := http.Get(url)
	if err != nil {
		return 0, 0, fmt.Errorf("cannot read the collector's metrics: %w", err)
	}
	defer resp.Body.Close()
	dec := expfmt.NewDecoder(resp.Body, expfmt.ResponseFormat(resp.Header))
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err != nil {
			break
		}
		if len(mf.GetMetric()) == 0 {
			continue
		}
		switch mf.GetName() {
		case "process_cpu_seconds_total":
			cpu = mf.GetMetric()[0].GetCounter().GetValue()
		case "process_resident_memory_bytes":
			rss = mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return cpu, rss, nil
}
