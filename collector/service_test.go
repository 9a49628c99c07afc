package collector

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/vigil-dev/vigil/store"
)

// drainingReceiver hands a span to the pipeline while it shuts down, as a
// port does for a request in flight.
type drainingReceiver struct {
	p       *Pipeline
	stop    chan struct{}
	drained chan error
}

func (d *drainingReceiver) Serve() error { <-d.stop; return nil }

func (d *drainingReceiver) Shutdown(ctx context.Context) error {
	d.drained <- d.p.WriteSpans(ctx, []store.Span{span("in flight")})
	close(d.stop)
	return nil
}

// TestServiceStopsReceiversBeforeThePipeline: what a receiver hands over
// while it shuts down is written, not refused as ErrClosed.
func TestServiceStopsReceiversBeforeThePipeline(t *testing.T) {
	st := &fakeStore{}
	p, err := NewPipeline(st, PipelineOptions{MaxBatchAge: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r := &drainingReceiver{p: p, stop: make(chan struct{}), drained: make(chan error, 1)}
	svc := &Service{Pipeline: p, Receivers: []Receiver{r}}
	ran := make(chan error)
	go func() { ran <- svc.Run() }()
	if err := svc.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-r.drained; err != nil {
		t.Errorf("write while the receiver drained: %v", err)
	}
	if err := <-ran; err != nil {
		t.Errorf("run: %v", err)
	}
	if got := strings.Join(st.ops(), ","); got != "in flight" {
		t.Errorf("store holds %q", got)
	}
	if err := p.WriteSpans(context.Background(), []store.Span{span("late")}); !errors.Is(err, ErrClosed) {
		t.Errorf("write after shutdown: %v", err)
	}
}

// failingReceiver fails at once.
type failingReceiver struct{}

func (failingReceiver) Serve() error                   { return errors.New("port taken") }
func (failingReceiver) Shutdown(context.Context) error { return nil }

func TestServiceReceiverFailure(t *testing.T) {
	p, err := NewPipeline(&fakeStore{}, PipelineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc := &Service{Pipeline: p, Receivers: []Receiver{failingReceiver{}}}
	if err := svc.Run(); err == nil || err.Error() != "port taken" {
		t.Fatalf("run: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := svc.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown after a failure: %v", err)
	}
}

// blockingHealth never answers a check until its call is cancelled.
type blockingHealth struct {
	healthpb.UnimplementedHealthServer
	started chan struct{}
}

func (b *blockingHealth) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	close(b.started)
	<-ctx.Done()
	return nil, ctx.Err()
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// TestPortsObeyTheShutdownDeadline: a call that never ends holds neither
// the gRPC nor the HTTP port past the deadline.
func TestPortsObeyTheShutdownDeadline(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	t.Run("grpc", func(t *testing.T) {
		h := &blockingHealth{started: make(chan struct{})}
		gs := grpc.NewServer()
		healthpb.RegisterHealthServer(gs, h)
		srv := &GRPCServer{Name: "test gRPC", Listener: listen(t), Server: gs, Logger: logger}
		served := make(chan error)
		go func() { served <- srv.Serve() }()
		conn, err := grpc.NewClient(srv.Listener.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		called := make(chan error)
		go func() {
			_, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
			called <- err
		}()
		<-h.started
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("shutdown = %v, want the deadline's error", err)
		}
		if err := <-called; err == nil {
			t.Error("the call cut off by the deadline succeeded")
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	t.Run("http", func(t *testing.T) {
		started := make(chan struct{})
		hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(started)
			<-r.Context().Done()
		})}
		srv := &HTTPServer{Name: "test HTTP", Listener: listen(t), Server: hs, Logger: logger}
		served := make(chan error)
		go func() { served <- srv.Serve() }()
		called := make(chan error)
		go func() {
			resp, err := http.Post("http://"+srv.Listener.Addr().String()+"/", "text/plain", strings.NewReader("x"))
			if err == nil {
				resp.Body.Close()
			}
			called <- err
		}()
		<-started
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("shutdown = %v, want the deadline's error", err)
		}
		if err := <-called; err == nil {
			t.Error("the request cut off by the deadline succeeded")
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}

func TestRunUntil(t *testing.T) {
	stopped := make(chan struct{})
	r := RunUntil(func(ctx context.Context) error { <-ctx.Done(); close(stopped); return nil })
	served := make(chan error)
	go func() { served <- r.Serve() }()
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-stopped
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}
