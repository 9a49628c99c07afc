package otlp

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"

	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/tenant"
)

// GRPCServerOptions are the options a gRPC server that RegisterGRPC
// registers on must be made with: the trace service takes its requests
// as protobuf bytes, for DecodeTraces, through a codec that hands
// rawMessage through and every other message to the registered proto
// codec, so that the other services on the server are unchanged.
func GRPCServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.ForceServerCodecV2(rawCodec{proto: encoding.GetCodecV2("proto")})}
}

// rawMessage is a message the codec leaves as protobuf bytes.
type rawMessage struct {
	b *[]byte // from bodies when it is a request
}

// bodies keeps request buffers between requests.
var bodies = sync.Pool{New: func() any { return new([]byte) }}

type rawCodec struct{ proto encoding.CodecV2 }

func (c rawCodec) Name() string { return c.proto.Name() }

func (c rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(*rawMessage); ok {
		return mem.BufferSlice{mem.SliceBuffer(*m.b)}, nil
	}
	return c.proto.Marshal(v)
}

func (c rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if m, ok := v.(*rawMessage); ok {
		b := bodies.Get().(*[]byte)
		*b = (*b)[:0]
		for _, buf := range data {
			*b = append(*b, buf.ReadOnlyData()...)
		}
		m.b = b
		return nil
	}
	return c.proto.Unmarshal(data, v)
}

const traceExportMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

// rawTraceService is the OTLP trace service, taking rawMessage requests.
type rawTraceService interface {
	exportRaw(ctx context.Context, req *rawMessage) (*rawMessage, error)
}

var traceServiceDesc = grpc.ServiceDesc{
	ServiceName: "opentelemetry.proto.collector.trace.v1.TraceService",
	HandlerType: (*rawTraceService)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Export",
		Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			req := new(rawMessage)
			if err := dec(req); err != nil {
				return nil, err
			}
			handle := func(ctx context.Context, req any) (any, error) {
				return srv.(rawTraceService).exportRaw(ctx, req.(*rawMessage))
			}
			if interceptor == nil {
				return handle(ctx, req)
			}
			return interceptor(ctx, req, &grpc.UnaryServerInfo{Server: srv, FullMethod: traceExportMethod}, handle)
		},
	}},
	Metadata: "opentelemetry/proto/collector/trace/v1/trace_service.proto",
}

type traceService struct{ r *Receiver }

func (t *traceService) exportRaw(ctx context.Context, req *rawMessage) (*rawMessage, error) {
	// The body goes back to the pool once decoded, not after the write,
	// which waits for the batch.
	release := sync.OnceFunc(func() { bodies.Put(req.b) })
	defer release()
	org, err := tenant.FromGRPC(ctx)
	if err != nil {
		return nil, collector.GRPCError(err)
	}
	rejected, msg, err := t.r.protoTraces(ctx, org, *req.b, "traces", release)
	if err != nil {
		return nil, collector.GRPCError(err)
	}
	resp := ptraceotlp.NewExportResponse()
	if rejected > 0 {
		resp.PartialSuccess().SetRejectedSpans(int64(rejected))
		resp.PartialSuccess().SetErrorMessage(msg)
	}
	b, err := resp.MarshalProto()
	if err != nil {
		return nil, collector.GRPCError(err)
	}
	return &rawMessage{b: &b}, nil
}
