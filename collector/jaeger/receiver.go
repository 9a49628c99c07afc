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
	"sync/atomic"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/jaegertracing/jaeger-idl/thrift-gen/agent"
	"github.com/jaegertracing/jaeger-idl/thrift-gen/jaeger"

	"github.com/vigil-dev/vigil/auth"
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

// write maps a batch and writes its valid spans, returning how many were
// written.
func (r *Receiver) write(ctx context.Context, org string, b *jaeger.Batch) (int, error) {
	spans, rejected, msg := Spans(org, b, r.Mapping)
	r.Stats.Received.WithLabelValues(collector.SignalSpans, org).Add(float64(len(spans) + rejected))
	if rejected > 0 {
		r.Stats.Refused.WithLabelValues(collector.SignalSpans, org, "invalid").Add(float64(rejected))
		r.Logger.Debug("jaeger spans rejected", "count", rejected, "reason", msg)
	}
	if len(spans) == 0 {
		return 0, nil
	}
	if !r.Rate.Allow(org, len(spans)) {
		r.Stats.Refused.WithLabelValues(collector.SignalSpans, org, "rate_limited").Add(float64(len(spans)))
		return 0, collector.ErrRateLimited
	}
	if err := r.Spans.WriteSpans(ctx, spans); err != nil {
		return 0, err
	}
	return len(spans), nil
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
	if _, err := r.write(req.Context(), org, batch); err != nil {
		collector.WriteHTTPError(w, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// Route is Jaeger Thrift over HTTP's route; sending needs the ingest role
// (or admin).
func (r *Receiver) Route() auth.Route {
	return auth.Route{Method: "POST", Pattern: "/api/traces", Role: auth.Ingest, Handler: r}
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
	tenant   string // compact Thrift carries no tenant or credential: all spans go here
	conn     net.PacketConn
	inflight chan struct{}
	writes   sync.WaitGroup // one per datagram being written
	readDone chan struct{}  // closed when Serve stops reading

	mu      sync.Mutex
	serving bool // Serve has started; guarded by mu
	closed  bool // Shutdown has started; guarded by mu

	// What was read, for the account Shutdown logs.
	datagrams, undecodable, spansRead, spansWritten, spansDropped atomic.Int64
}

// ListenUDP opens the agent port, whose spans all go to one tenant.
// maxInflight bounds datagrams being written at once.
func ListenUDP(addr, tenant string, r *Receiver, maxInflight int) (*UDPServer, error) {
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on udp %s: %w", addr, err)
	}
	return &UDPServer{rcv: r, tenant: tenant, conn: conn, inflight: make(chan struct{}, maxInflight), readDone: make(chan struct{})}, nil
}

// Addr is the bound address.
func (u *UDPServer) Addr() net.Addr { return u.conn.LocalAddr() }

// Serve reads datagrams and hands each batch to the writer until Shutdown.
func (u *UDPServer) Serve() error {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return nil
	}
	u.serving = true
	u.mu.Unlock()
	defer close(u.readDone)
	u.rcv.Logger.Info("Jaeger agent UDP listening", "addr", u.Addr().String())
	buf := make([]byte, maxDatagram)
	for {
		n, _, err := u.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		u.datagrams.Add(1)
		batch, err := decodeAgentMessage(buf[:n])
		if err != nil {
			u.undecodable.Add(1)
			u.rcv.Stats.Refused.WithLabelValues(collector.SignalSpans, u.tenant, "invalid").Inc()
			u.rcv.Logger.Debug("cannot decode jaeger agent datagram", "err", err)
			continue
		}
		u.spansRead.Add(int64(len(batch.Spans)))
		select {
		case u.inflight <- struct{}{}:
		default:
			u.spansDropped.Add(int64(len(batch.Spans)))
			u.rcv.Stats.Refused.WithLabelValues(collector.SignalSpans, u.tenant, "busy").Add(float64(len(batch.Spans)))
			continue
		}
		u.writes.Add(1)
		go func() {
			defer func() { <-u.inflight; u.writes.Done() }()
			n, err := u.rcv.write(context.Background(), u.tenant, batch)
			if err != nil {
				u.spansDropped.Add(int64(len(batch.Spans)))
				u.rcv.Logger.Warn("dropping jaeger agent batch", "spans", len(batch.Spans), "err", err)
				return
			}
			u.spansWritten.Add(int64(n))
		}()
	}
}

// Shutdown stops reading, then waits until every batch read has been
// written (the pipeline must still be running), or until ctx ends. It logs
// an account of what was read: datagrams, spans read, written, and
// dropped (busy, or refused by the writer); spans read that were neither
// were invalid.
func (u *UDPServer) Shutdown(ctx context.Context) error {
	u.mu.Lock()
	u.closed = true
	serving := u.serving
	u.mu.Unlock()
	u.conn.Close()
	err := func() error {
		if serving {
			select {
			case <-u.readDone: // no datagram is between the socket and a write any more
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		written := make(chan struct{})
		go func() { u.writes.Wait(); close(written) }()
		select {
		case <-written:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}()
	account := []any{"datagrams", u.datagrams.Load(), "undecodable", u.undecodable.Load(), "spans_read", u.spansRead.Load(),
		"spans_written", u.spansWritten.Load(), "spans_dropped", u.spansDropped.Load()}
	if err != nil {
		u.rcv.Logger.Warn("Jaeger agent UDP stopped before its writes ended", append(account, "err", err)...)
		return err
	}
	u.rcv.Logger.Info("Jaeger agent UDP stopped", account...)
	return nil
}
