package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/oklog/run"
)

// shutdown is the one deadline of a clean stop. It begins when the first
// actor of the run group returns (a signal, or a component that failed);
// then every component drains, all at once and within the same deadline,
// and runRoles closes the store after them all.
type shutdown struct {
	timeout time.Duration
	logger  *slog.Logger
	once    sync.Once
	begun   chan struct{}
	ctx     context.Context // the deadline; set before begun is closed
	cancel  context.CancelFunc
}

func newShutdown(timeout time.Duration, logger *slog.Logger) *shutdown {
	return &shutdown{timeout: timeout, logger: logger, begun: make(chan struct{}), ctx: context.Background(), cancel: func() {}}
}

// begin starts the deadline; later calls do nothing. It is the interrupt
// function of the components add adds, so it must not block: run.Group
// calls the interrupts one after another.
func (s *shutdown) begin(error) {
	s.once.Do(func() {
		s.ctx, s.cancel = context.WithTimeout(context.Background(), s.timeout)
		close(s.begun)
	})
}

// release frees the deadline's timer once everything has stopped.
func (s *shutdown) release() {
	s.begin(nil)
	s.cancel()
}

// add runs serve in the group. When the shutdown begins, drain gets the
// deadline, and the actor returns once serve has returned too. A serve
// that fails by itself begins the shutdown and is drained as well, since
// what it served may still hold work (the collector's pipeline does).
func (s *shutdown) add(g *run.Group, name string, serve func() error, drain func(context.Context) error) {
	g.Add(func() error {
		served := make(chan error, 1)
		go func() { served <- serve() }()
		select {
		case err := <-served: // by itself: begin the shutdown, drain the rest
			s.begin(err)
			s.drain(name, drain)
			return err
		case <-s.begun:
		}
		s.drain(name, drain)
		return <-served
	}, s.begin)
}

func (s *shutdown) drain(name string, drain func(context.Context) error) {
	if err := drain(s.ctx); err != nil {
		s.logger.Warn("stopped past the shutdown deadline", "component", name, "err", err)
	}
}
