package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"google.golang.org/grpc"
)

// Receiver is one way data comes into the pipeline: a port, or a loop that
// fetches. Serve accepts until Shutdown. Shutdown stops accepting and
// returns once everything accepted has been handed to the pipeline and
// answered, or when ctx ends (then it stops what is left hard and returns
// ctx's error). The pipeline must still be running while a receiver shuts
// down, since its writers wait for their data to be durable.
type Receiver interface {
	Serve() error
	Shutdown(ctx context.Context) error
}

// Service runs the pipeline and the receivers that write through it, and
// stops them in order, so that nothing a receiver acknowledged or read is
// refused: first every receiver stops accepting and drains into the
// pipeline, then the pipeline writes (or spools) what it holds. The store
// is the caller's to close, after Shutdown.
type Service struct {
	Pipeline  *Pipeline
	Receivers []Receiver
	Logger    *slog.Logger

	start    sync.Once
	served   chan error    // one answer per receiver
	pipeDone chan struct{} // closed when the pipeline's Run has returned
}

func (s *Service) init() {
	s.start.Do(func() {
		s.served = make(chan error, len(s.Receivers))
		s.pipeDone = make(chan struct{})
		if s.Logger == nil {
			s.Logger = slog.New(slog.DiscardHandler)
		}
	})
}

// Run starts the pipeline and the receivers and returns once Shutdown has
// stopped them all; or at once with the error of a receiver that fails,
// the rest still running (call Shutdown then too, to stop them in order).
func (s *Service) Run() error {
	s.init()
	go func() {
		defer close(s.pipeDone)
		s.Pipeline.Run(context.Background()) // only Shutdown stops it
	}()
	for _, r := range s.Receivers {
		go func() { s.served <- r.Serve() }()
	}
	for range s.Receivers {
		if err := <-s.served; err != nil {
			return err
		}
	}
	<-s.pipeDone
	return nil
}

// Shutdown stops the receivers together, then the pipeline, all within
// ctx: a receiver still draining when ctx ends is stopped hard (what it
// had not handed over is not acknowledged), and store writes still under
// way are cancelled and spooled. Call it after Run has started.
func (s *Service) Shutdown(ctx context.Context) error {
	s.init()
	var wg sync.WaitGroup
	errs := make([]error, len(s.Receivers)+1)
	for i, r := range s.Receivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.Shutdown(ctx)
		}()
	}
	wg.Wait()
	if err := s.Pipeline.Shutdown(ctx); err != nil {
		errs[len(s.Receivers)] = fmt.Errorf("pipeline: %w", err)
	}
	err := errors.Join(errs...)
	if err == nil {
		s.Logger.Info("collector stopped: receivers drained, pipeline flushed")
	}
	return err
}

// HTTPServer is an HTTP port as a Receiver.
type HTTPServer struct {
	Name     string // for logs, e.g. "ingest HTTP"
	Listener net.Listener
	Server   *http.Server
	Logger   *slog.Logger
}

// Serve answers requests until Shutdown.
func (s *HTTPServer) Serve() error {
	s.Logger.Info(s.Name+" listening", "addr", s.Listener.Addr().String())
	if err := s.Server.Serve(s.Listener); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting connections and waits for the requests in
// flight, which answer once the pipeline has what they carry; when ctx
// ends first, it closes the connections still open.
func (s *HTTPServer) Shutdown(ctx context.Context) error {
	if err := s.Server.Shutdown(ctx); err != nil {
		s.Server.Close()
		return fmt.Errorf("%s: %w", s.Name, err)
	}
	return nil
}

// GRPCServer is a gRPC port as a Receiver.
type GRPCServer struct {
	Name     string // for logs, e.g. "OTLP gRPC"
	Listener net.Listener
	Server   *grpc.Server
	Logger   *slog.Logger
}

// Serve answers calls until Shutdown.
func (s *GRPCServer) Serve() error {
	s.Logger.Info(s.Name+" listening", "addr", s.Listener.Addr().String())
	if err := s.Server.Serve(s.Listener); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// Shutdown lets the calls in flight finish (GracefulStop) until ctx ends,
// then stops hard, cancelling the calls still running.
func (s *GRPCServer) Shutdown(ctx context.Context) error {
	stopped := make(chan struct{})
	go func() {
		s.Server.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		s.Server.Stop()
		<-stopped
		return fmt.Errorf("%s: %w", s.Name, ctx.Err())
	}
}

// RunUntil makes a Receiver of a loop that runs until its context ends,
// such as scrape.Manager.Run: Shutdown cancels the context and waits for
// run to return, or for ctx to end.
func RunUntil(run func(context.Context) error) Receiver {
	ctx, cancel := context.WithCancel(context.Background())
	return &runUntil{run: run, ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

type runUntil struct {
	run    func(context.Context) error
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
	done   chan struct{} // closed when run has returned
}

func (r *runUntil) Serve() error {
	defer r.once.Do(func() { close(r.done) })
	return r.run(r.ctx)
}

func (r *runUntil) Shutdown(ctx context.Context) error {
	r.cancel()
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
