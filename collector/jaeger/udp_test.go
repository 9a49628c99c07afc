package jaeger

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/store"
)

// gateWriter holds every write until open is closed, as the pipeline
// holds a write until its batch is durable.
type gateWriter struct {
	open    chan struct{}
	mu      sync.Mutex
	entered int
	spans   int
}

func (g *gateWriter) WriteSpans(_ context.Context, s []store.Span) error {
	g.mu.Lock()
	g.entered++
	g.mu.Unlock()
	<-g.open
	g.mu.Lock()
	g.spans += len(s)
	g.mu.Unlock()
	return nil
}

func (g *gateWriter) counts() (entered, spans int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.entered, g.spans
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not reached in 10s")
}

// startUDP serves the agent port on a free address, writing to w and
// logging to log.
func startUDP(t *testing.T, w store.SpanWriter, log *bytes.Buffer) (*UDPServer, net.Conn, chan error) {
	t.Helper()
	r := &Receiver{Spans: w, Stats: collector.NewMetrics(nil), Logger: slog.New(slog.NewTextHandler(log, nil))}
	u, err := ListenUDP("127.0.0.1:0", store.DefaultTenant, r, 16)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- u.Serve() }()
	c, err := net.Dial("udp", u.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return u, c, served
}

// TestUDPShutdownWaitsForWhatItRead: every datagram read before shutdown
// is written before Shutdown returns, and the account says so.
func TestUDPShutdownWaitsForWhatItRead(t *testing.T) {
	w := &gateWriter{open: make(chan struct{})}
	var log bytes.Buffer
	u, c, served := startUDP(t, w, &log)
	for i := 0; i < 5; i++ {
		c.Write(agentDatagram(t)) // three spans, two valid
	}
	c.Write([]byte("not thrift"))
	waitUntil(t, func() bool { n, _ := w.counts(); return n == 5 && u.datagrams.Load() == 6 })

	stopped := make(chan error)
	go func() { stopped <- u.Shutdown(context.Background()) }()
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned (%v) while writes of datagrams it read were under way", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(w.open)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if _, spans := w.counts(); spans != 10 {
		t.Errorf("%d spans written, want 10", spans)
	}
	if want := "datagrams=6 undecodable=1 spans_read=15 spans_written=10 spans_dropped=0"; !strings.Contains(log.String(), `msg="Jaeger agent UDP stopped" `+want) {
		t.Errorf("no account %q in the log:\n%s", want, log.String())
	}
}

func TestUDPShutdownDeadline(t *testing.T) {
	w := &gateWriter{open: make(chan struct{})} // never opened: a pipeline that never answers
	defer close(w.open)
	var log bytes.Buffer
	u, c, _ := startUDP(t, w, &log)
	c.Write(agentDatagram(t))
	waitUntil(t, func() bool { n, _ := w.counts(); return n == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := u.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("shutdown = %v, want the deadline's error", err)
	}
	if !strings.Contains(log.String(), "Jaeger agent UDP stopped before its writes ended") {
		t.Errorf("log:\n%s", log.String())
	}
}
