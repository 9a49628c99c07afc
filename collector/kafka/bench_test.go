package kafka_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/collector/kafka"
	"github.com/vigil-dev/vigil/stream/kafkaconn"
)

const spansPerMessage = 100

// counting passes exports to the receiver and closes done once n have
// been stored.
type counting struct {
	next kafka.Exporter
	n    int64
	got  atomic.Int64
	done chan struct{}
}

func (c *counting) Export(ctx context.Context, signal, tenant string, body []byte, json bool) (int, string, error) {
	rejected, msg, err := c.next.Export(ctx, signal, tenant, body, json)
	if err == nil && c.got.Add(1) == c.n {
		close(c.done)
	}
	return rejected, msg, err
}

// benchBodies are n exports of spansPerMessage spans each, as the Kafka
// exporter's otlp_proto writes them.
func benchBodies(b *testing.B, n int) [][]byte {
	out := make([][]byte, n)
	start := time.Now().Add(-time.Minute)
	for i := range out {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "chat-gateway")
		ss := rs.ScopeSpans().AppendEmpty()
		for j := range spansPerMessage {
			sp := ss.Spans().AppendEmpty()
			sp.SetTraceID(traceID(i*spansPerMessage + j))
			sp.SetSpanID(pcommon.SpanID{byte(i >> 16), byte(i >> 8), byte(i), byte(j), 1})
			sp.SetName("POST /chat")
			sp.Attributes().PutStr("gen_ai.request.model", "gpt-4o")
			sp.Attributes().PutInt("gen_ai.usage.input_tokens", int64(100+j))
			sp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
			sp.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(j+1) * time.Millisecond)))
		}
		body, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
		if err != nil {
			b.Fatal(err)
		}
		out[i] = body
	}
	return out
}

// BenchmarkConsumeOTLP: one iteration is one message of 100 spans,
// stored through the receiver, the pipeline (100ms batches) and the
// embedded store. "kafka" reads them from a kfake topic of 3 partitions
// with the consumer, committing as it goes; "direct", the baseline, hands
// the same bodies to the receiver from 64 goroutines, the consumer's
// concurrency, as OTLP/HTTP requests would.
func BenchmarkConsumeOTLP(b *testing.B) {
	for _, mode := range []string{"direct", "kafka"} {
		b.Run(mode, func(b *testing.B) {
			r := newRig(b)
			bodies := benchBodies(b, b.N)
			exp := &counting{next: r.rcv, n: int64(b.N), done: make(chan struct{})}
			if mode == "kafka" {
				cl, err := kgo.NewClient(kgo.SeedBrokers(r.cluster.ListenAddrs()...))
				if err != nil {
					b.Fatal(err)
				}
				recs := make([]*kgo.Record, len(bodies))
				for i, body := range bodies {
					recs[i] = &kgo.Record{Topic: spansTopic, Value: body}
				}
				if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
					b.Fatal(err)
				}
				cl.Close()
			}
			b.ResetTimer()
			start := time.Now()
			var elapsed time.Duration
			switch mode {
			case "kafka":
				c, err := kafka.New(kafka.Options{Conn: kafkaconn.Conn{Brokers: r.cluster.ListenAddrs()}, Group: "bench",
					Topics: map[string]string{spansTopic: collector.SignalSpans}, Exporter: exp})
				if err != nil {
					b.Fatal(err)
				}
				go c.Serve()
				<-exp.done
				b.StopTimer()
				elapsed = time.Since(start)
				c.Shutdown(context.Background())
			default:
				work := make(chan []byte)
				var wg sync.WaitGroup
				for range 64 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for body := range work {
							if _, _, err := exp.Export(context.Background(), collector.SignalSpans, "ops", body, false); err != nil {
								b.Error(err)
							}
						}
					}()
				}
				for _, body := range bodies {
					work <- body
				}
				close(work)
				wg.Wait()
				<-exp.done
				b.StopTimer()
				elapsed = time.Since(start)
			}
			b.ReportMetric(float64(b.N*spansPerMessage)/elapsed.Seconds(), "spans/s")
		})
	}
}
