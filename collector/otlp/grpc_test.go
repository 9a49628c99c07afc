package otlp

import (
	"context"
	"net"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TestGRPCTracesAndMetrics serves the receiver over real gRPC: traces go
// through the raw codec and DecodeTraces, with their partial success, bad
// protobuf is INVALID_ARGUMENT, and the metric service on the same server
// still decodes its messages.
func TestGRPCTracesAndMetrics(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w := &memWriter{}
	s := grpc.NewServer(GRPCServerOptions()...)
	newReceiver(w).RegisterGRPC(s)
	go s.Serve(ln)
	defer s.Stop()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-scope-orgid", "acme")

	td := genAITraces()
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().AppendEmpty().SetName("no ids")
	resp, err := ptraceotlp.NewGRPCClient(conn).Export(ctx, ptraceotlp.NewExportRequestFromTraces(td))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.PartialSuccess().RejectedSpans(); got != 1 || resp.PartialSuccess().ErrorMessage() != `span "no ids": trace id is empty` {
		t.Errorf("partial success: %d rejected, %q", got, resp.PartialSuccess().ErrorMessage())
	}
	if len(w.spans) != 1 || w.spans[0].Tenant != "acme" || w.spans[0].Model != "gpt-4o-2024-08-06" {
		t.Fatalf("stored %+v", w.spans)
	}

	raw := grpc.ForceCodecV2(rawCodec{proto: encoding.GetCodecV2("proto")})
	err = conn.Invoke(ctx, traceExportMethod, &rawMessage{b: &[]byte{0x0a, 0x05, 0x01}}, &rawMessage{}, raw)
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("truncated export: %v, want InvalidArgument", err)
	}

	md, ms := newMetrics()
	g := ms.AppendEmpty()
	g.SetName("gpu.utilization")
	p := g.SetEmptyGauge().DataPoints().AppendEmpty()
	p.SetTimestamp(pcommon.Timestamp(ts))
	p.SetDoubleValue(0.5)
	if _, err := pmetricotlp.NewGRPCClient(conn).Export(ctx, pmetricotlp.NewExportRequestFromMetrics(md)); err != nil {
		t.Fatal(err)
	}
	if len(w.samples) != 1 {
		t.Errorf("stored %d samples, want 1", len(w.samples))
	}
}
