package keda

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/vigil-dev/vigil/analyzer/rightsize"
	"github.com/vigil-dev/vigil/auth"
	pb "github.com/vigil-dev/vigil/web/keda/externalscaler"
)

// DefaultStreamInterval is how often StreamIsActive looks again.
const DefaultStreamInterval = 10 * time.Second

// Options configure the external scaler's gRPC server.
type Options struct {
	ListenAddr string
	Store      Store
	Logger     *slog.Logger
	Now        func() time.Time // nil means time.Now
	// StreamInterval is how often StreamIsActive re-reads the store and
	// sends a change; 0 means DefaultStreamInterval.
	StreamInterval time.Duration
	// Guard decides every call (auth.Disabled() lets all through); each
	// method needs viewer in the trigger's tenant.
	Guard *auth.Guard
	// TLS, when set, serves over TLS; with a client CA, KEDA's operator is
	// known by its certificate (auth.TLSFiles.Config).
	TLS *tls.Config
}

// Methods are the scaler's gRPC methods and the role each needs: all
// read replica recommendations.
func Methods() auth.Methods {
	m := auth.Methods{}
	for _, name := range []string{"IsActive", "GetMetricSpec", "GetMetrics", "StreamIsActive", "StreamMetricSpec"} {
		m["/"+pb.ExternalScaler_ServiceDesc.ServiceName+"/"+name] = auth.Viewer
	}
	return m
}

// Server serves externalscaler.ExternalScaler on its own port, as KEDA
// expects of an external scaler.
type Server struct {
	pb.UnimplementedExternalScalerServer
	scaler   *Scaler
	log      *slog.Logger
	interval time.Duration
	grpc     *grpc.Server
	ln       net.Listener
	// done ends the streams at shutdown, which GracefulStop would
	// otherwise wait for forever.
	done     chan struct{}
	stopOnce sync.Once
}

// New listens on the address; Serve starts answering.
func New(opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", opts.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s for KEDA: %w", opts.ListenAddr, err)
	}
	s := &Server{scaler: &Scaler{Store: opts.Store, Now: opts.Now}, log: opts.Logger, interval: opts.StreamInterval, ln: ln, done: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.interval <= 0 {
		s.interval = DefaultStreamInterval
	}
	if opts.Guard == nil {
		ln.Close()
		return nil, errors.New("keda: no auth guard (auth.Disabled() to let every call through)")
	}
	sopts := opts.Guard.GRPC(Methods())
	if opts.TLS != nil {
		sopts = append(sopts, grpc.Creds(credentials.NewTLS(opts.TLS)))
	}
	s.grpc = grpc.NewServer(sopts...)
	pb.RegisterExternalScalerServer(s.grpc, s)
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve answers calls until Shutdown.
func (s *Server) Serve() error {
	s.log.Info("KEDA external scaler listening", "addr", s.ln.Addr().String())
	if err := s.grpc.Serve(s.ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// Shutdown ends the streams, lets unary calls in flight finish, and stops
// hard when ctx ends first.
func (s *Server) Shutdown(ctx context.Context) {
	s.stopOnce.Do(func() { close(s.done) })
	stopped := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-ctx.Done():
		s.grpc.Stop()
	}
}

// IsActive answers KEDA's IsActive.
func (s *Server) IsActive(ctx context.Context, req *pb.ScaledObjectRef) (*pb.IsActiveResponse, error) {
	ref, err := narrowed(ctx, scaledObjectRefOf(req))
	if err != nil {
		return nil, err
	}
	active, err := s.scaler.IsActive(ctx, ref)
	if err != nil {
		return nil, s.fail("IsActive", ref, err)
	}
	return &pb.IsActiveResponse{Result: active}, nil
}

// GetMetricSpec answers KEDA's GetMetricSpec.
func (s *Server) GetMetricSpec(ctx context.Context, req *pb.ScaledObjectRef) (*pb.GetMetricSpecResponse, error) {
	ref, err := narrowed(ctx, scaledObjectRefOf(req))
	if err != nil {
		return nil, err
	}
	specs, err := s.scaler.MetricSpec(ref)
	if err != nil {
		return nil, s.fail("GetMetricSpec", ref, err)
	}
	return metricSpecResponse(specs), nil
}

// GetMetrics answers KEDA's GetMetrics.
func (s *Server) GetMetrics(ctx context.Context, req *pb.GetMetricsRequest) (*pb.GetMetricsResponse, error) {
	ref, err := narrowed(ctx, scaledObjectRefOf(req.GetScaledObjectRef()))
	if err != nil {
		return nil, err
	}
	name := req.GetMetricName()
	values, advice, err := s.scaler.Metrics(ctx, ref, name)
	if err != nil {
		return nil, s.fail("GetMetrics", ref, err)
	}
	s.log.Debug("replica recommendation for KEDA", "scaledobject", ref.Namespace+"/"+ref.Name, "service", advice.Service,
		"current", advice.Current, "current_from", advice.CurrentFrom, "recommended", advice.Recommended, "target_per_replica", advice.Target, "skipped", advice.Skipped)
	return metricsResponse(values), nil
}

// StreamIsActive sends the activity at once, then again whenever it
// changes, until the client goes or the server shuts down.
func (s *Server) StreamIsActive(req *pb.ScaledObjectRef, stream grpc.ServerStreamingServer[pb.IsActiveResponse]) error {
	ref, err := narrowed(stream.Context(), scaledObjectRefOf(req))
	if err != nil {
		return err
	}
	ticker := time.NewTicker(s.interval)
	defer ticker.Stop()
	last, first := false, true
	for {
		active, err := s.scaler.IsActive(stream.Context(), ref)
		if err != nil {
			return s.fail("StreamIsActive", ref, err)
		}
		if first || active != last {
			if err := stream.Send(&pb.IsActiveResponse{Result: active}); err != nil {
				return err
			}
			first, last = false, active
		}
		select {
		case <-stream.Context().Done():
			return nil
		case <-s.done:
			return nil
		case <-ticker.C:
		}
	}
}

// StreamMetricSpec sends the spec once and holds the stream: the spec of
// a trigger never changes (target 1), which is what KEDA asks of this
// optional RPC — the current spec at once, the same as GetMetricSpec.
func (s *Server) StreamMetricSpec(req *pb.ScaledObjectRef, stream grpc.ServerStreamingServer[pb.GetMetricSpecResponse]) error {
	ref, err := narrowed(stream.Context(), scaledObjectRefOf(req))
	if err != nil {
		return err
	}
	specs, err := s.scaler.MetricSpec(ref)
	if err != nil {
		return s.fail("StreamMetricSpec", ref, err)
	}
	if err := stream.Send(metricSpecResponse(specs)); err != nil {
		return err
	}
	select {
	case <-stream.Context().Done():
	case <-s.done:
	}
	return nil
}

// fail logs a failed call and turns its error into a gRPC status: bad
// metadata and an ambiguous Deployment are the ScaledObject's fault, an
// unknown replica count is a missing precondition, the rest is Vigil's.
func (s *Server) fail(method string, ref ScaledObjectRef, err error) error {
	code := codes.Internal
	var inv *invalidError
	var nf *notFoundError
	switch {
	case errors.As(err, &inv), errors.Is(err, rightsize.ErrAmbiguousDeployment), errors.Is(err, rightsize.ErrBadReplicaQuery):
		code = codes.InvalidArgument
	case errors.As(err, &nf):
		code = codes.NotFound
	case errors.Is(err, rightsize.ErrNoReplicaCount):
		code = codes.FailedPrecondition
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	}
	s.log.Warn("KEDA call failed", "method", method, "scaledobject", ref.Namespace+"/"+ref.Name, "code", code.String(), "err", err)
	return status.Error(code, err.Error())
}

// narrowed resolves the tenant a trigger names in its metadata the way
// X-Scope-OrgID is resolved: KEDA passes only the trigger's metadata, so
// the tenant travels there, and the caller must hold the call's role in
// it. The answer is a gRPC status.
func narrowed(ctx context.Context, ref ScaledObjectRef) (ScaledObjectRef, error) {
	t, err := auth.Narrow(ctx, ref.ScalerMetadata["tenant"])
	if err != nil {
		return ref, err
	}
	md := make(map[string]string, len(ref.ScalerMetadata)+1)
	for k, v := range ref.ScalerMetadata {
		md[k] = v
	}
	md["tenant"] = t
	ref.ScalerMetadata = md
	return ref, nil
}
