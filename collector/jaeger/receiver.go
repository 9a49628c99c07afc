package jaeger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"sync"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/jaegertracing/jaeger-idl/thrift-gen/agent"
	"github.com/jaegertracing/jaeger-idl/thrift-gen/jaeger"

	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/tenant"
)

// Receiver accepts Jaeger Thrift batches.
type Receiver struct {
	Spans   store.SpanWriter
	Mapping collector.Mapping
	Limits  collector.BodyLimits
	Rate    *collector.TenantLimiter
	Stats   *collector.Metrics
	Logger  *slog.Logger
}

func (r *Receiver) write(ctx context.Context, org string, b *jaeger.Batch) error {
	spans, rejected, msg := Spans(org, b, r.Mapping)
	r.Stats.Received.WithLabelValues(collector.SignalSpans, org).Add(float64(len(spans) + rejected))
	if rejected > 0 {
		r.Stats.Refused.WithLabelValues(collector.SignalSpans, org, "invalid").Add(float64(rejected))
		r.Logger.Debug("jaeger spans rejected", "count", rejected, "reason", msg)
	}
	if len(spans) == 0 {
		return nil
	}
	if !r.Rate.Allow(org, len(spans)) {
		r.Stats.Refused.WithLabelValues(collector.SignalSpans, org, "rate_limited").Add(float64(len(spans)))
		return collector.ErrRateLimited
	}
	return r.Spans.WriteSpans(ctx, spans)
}

// thriftConfig bounds what a decoder will allocate for one message.
func thriftConfig(max int) *thrift.TConfiguration {
	return &thrift.TConfiguration{MaxMessageSize: int32(max), MaxFrameSize: int32(max)}
}

// decodeBatch reads a Batch with the given protocol from b.
func decodeBatch(b []byte, compact bool) (*jaeger.Batch, error) {
	buf := thrift.NewTMemoryBufferLen(len(b))
	buf.Write(b)
	var p thrift.TProtocol
	if compact {
		p = thrift.NewTCompactProtocolConf(buf, thriftConfig(len(b)))
	} else {
		p = thrift.NewTBinaryProtocolConf(buf, thriftConfig(len(b)))
	}
	batch := jaeger.NewBatch()
	if err := batch.Read(context.Background(), p); err != nil {
		return nil, err
	}
	return batch, nil
}

// ServeHTTP takes POST /api/traces: one Batch in binary Thrift (the
// default, application/x-thrift or application/vnd.apache.thrift.binary)
// or compact Thrift (application/vnd.apache.thrift.compact). It answers 202
// once the spans are durable, as Jaeger's collector answers.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	org, err := tenant.FromHTTP(req)
	if err != nil {
		collector.WriteHTTPError(w, err)
		return
	}
	compact := false
	switch mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt {
	case "application/x-thrift", "application/vnd.apache.thrift.binary":
	case "application/vnd.apache.thrift.compact":
		compact = true
	default:
		collector.WriteHTTPError(w, collector.BadRequest("unsupported Content-Type %q: want application/x-thrift, application/vnd.apache.thrift.binary or application/vnd.apache.thrift.compact", req.Header.Get("Content-Type")))
		return
	}
	body, err := collector.ReadBody(req, r.Limits)
	if err != nil {
		collector.WriteHTTPError(w, err)
		return
	}
	batch, err := decodeBatch(body, compact)
	if err != nil {
		collector.WriteHTTPError(w, collector.BadRequest("cannot decode Jaeger Thrift batch: %v", err))
		return
	}
	if err := r.write(req.Context(), org, batch); err != nil {
		collector.WriteHTTPError(w, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// decodeAgentMessage reads one UDP datagram: a compact-Thrift oneway call
// of Agent.emitBatch.
func decodeAgentMessage(b []byte) (*jaeger.Batch, error) {
	buf := thrift.NewTMemoryBufferLen(len(b))
	buf.Write(b)
	p := thrift.NewTCompactProtocolConf(buf, thriftConfig(len(b)))
	ctx := context.Background()
	name, typ, _, err := p.ReadMessageBegin(ctx)
	if err != nil {
		return nil, err
	}
	if name != "emitBatch" || (typ != thrift.ONEWAY && typ != thrift.CALL) {
		return nil, fmt.Errorf("unexpected agent call %q (type %d), want emitBatch", name, typ)
	}
	args := agent.NewAgentEmitBatchArgs()
	if err := args.Read(ctx, p); err != nil {
		return nil, err
	}
	if args.Batch == nil {
		return nil, errors.New("emitBatch without a batch")
	}
	return args.Batch, nil
}

// maxDatagram is the largest UDP payload; jaeger-client-go sends at most
// 65000 bytes.
const maxDatagram = 65535

// UDPServer reads agent datagrams. UDP has no answer to carry backpressure,
// so when too many writes are already waiting a datagram is dropped and
// counted (refused, reason busy), as Jaeger's agent drops when its queue is
// full.
type UDPServer struct {
	rcv      *Receiver
	conn     net.PacketConn
	inflight chan struct{}
	wg       sync.WaitGroup
}

// ListenUDP opens the agent port. maxInflight bounds datagrams being
// written at once.
func ListenUDP(addr string, r *Receiver, maxInflight int) (*UDPServer, error) {
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on udp %s: %w", addr, err)
	}
	return &UDPServer{rcv: r, conn: conn, inflight: make(chan struct{}, maxInflight)}, nil
}

// Addr is the bound address.
func (u *UDPServer) Addr() net.Addr { return u.conn.LocalAddr() }

// Serve reads datagrams until Close, then waits for their writes.
func (u *UDPServer) Serve() error {
	buf := make([]byte, maxDatagram)
	for {
		n, _, err := u.conn.ReadFrom(buf)
		if err != nil {
			u.wg.Wait()
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		batch, err := decodeAgentMessage(buf[:n])
		if err != nil {
			u.rcv.Stats.Refused.WithLabelValues(collector.SignalSpans, store.DefaultTenant, "invalid").Inc()
			u.rcv.Logger.Debug("cannot decode jaeger agent datagram", "err", err)
			continue
		}
		select {
		case u.inflight <- struct{}{}:
		default:
			u.rcv.Stats.Refused.WithLabelValues(collector.SignalSpans, store.DefaultTenant, "busy").Add(float64(len(batch.Spans)))
			continue
		}
		u.wg.Add(1)
		go func() {
			defer func() { <-u.inflight; u.wg.Done() }()
			if err := u.rcv.write(context.Background(), store.DefaultTenant, batch); err != nil {
				u.rcv.Logger.Warn("dropping jaeger agent batch", "spans", len(batch.Spans), "err", err)
			}
		}()
	}
}

// Close stops reading.
func (u *UDPServer) Close() error { return u.conn.Close() }
