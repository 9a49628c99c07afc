package analyzer

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-dev/vigil/store"
)

func TestNextTick(t *testing.T) {
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339Nano, s); return v }
	cases := []struct{ now, want string }{
		{"2026-11-26T10:00:00Z", "2026-11-26T10:01:00Z"},
		{"2026-11-26T10:00:59.999Z", "2026-11-26T10:01:00Z"},
		{"2026-11-26T10:00:00.001Z", "2026-11-26T10:01:00Z"},
	}
	for _, c := range cases {
		if got := NextTick(at(c.now), time.Minute); !got.Equal(at(c.want)) {
			t.Errorf("NextTick(%s) = %s, want %s", c.now, got, c.want)
		}
	}
}

// fakeClock fires After immediately and advances time to the deadline.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}
func (c *fakeClock) advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

type recordJob struct {
	name  string
	ticks []time.Time
	err   error
	slow  func() // runs inside Run
	stop  func() // called after the nth tick
	n     int
}

func (j *recordJob) Name() string { return j.name }
func (j *recordJob) Run(ctx context.Context, tick time.Time) error {
	j.ticks = append(j.ticks, tick)
	if j.slow != nil {
		j.slow()
	}
	if len(j.ticks) == j.n {
		j.stop()
	}
	return j.err
}

func TestSchedulerAlignedTicksAndMetrics(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 11, 26, 10, 0, 20, 0, time.UTC)}
	ctx, cancel := context.WithCancel(context.Background())
	reg := prometheus.NewRegistry()
	ok := &recordJob{name: "ok", n: 3, stop: cancel}
	// The failing job takes 2.5 minutes of (fake) time on its second run, so
	// the ticks in between are missed, not queued.
	bad := &recordJob{name: "bad", err: errors.New("boom")}
	bad.slow = func() {
		if len(bad.ticks) == 2 {
			clock.advance(150 * time.Second)
		}
	}
	s := NewScheduler(Options{Interval: time.Minute, Clock: clock, Logger: slog.New(slog.DiscardHandler), Registerer: reg}, ok, bad)
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	want := []time.Time{
		time.Date(2026, 11, 26, 10, 1, 0, 0, time.UTC),
		time.Date(2026, 11, 26, 10, 2, 0, 0, time.UTC),
		time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC),
	}
	if !reflect.DeepEqual(ok.ticks, want) {
		t.Errorf("ticks = %v, want %v", ok.ticks, want)
	}
	if got := testutil.ToFloat64(s.failures.WithLabelValues("bad")); got != 3 {
		t.Errorf("failures of bad = %v, want 3", got)
	}
	if got := testutil.ToFloat64(s.runs.WithLabelValues("ok")); got != 3 {
		t.Errorf("runs of ok = %v, want 3", got)
	}
	if got := testutil.ToFloat64(s.missed); got != 2 {
		t.Errorf("missed ticks = %v, want 2", got)
	}
}

type dropRecorder struct{ calls []string }

func (d *dropRecorder) DropBefore(_ context.Context, s store.Signal, cutoff time.Time) error {
	d.calls = append(d.calls, string(s)+" "+cutoff.Format(time.RFC3339))
	if s == store.SignalEvents {
		return errors.New("disk on fire")
	}
	return nil
}

func TestRetention(t *testing.T) {
	d := &dropRecorder{}
	r := &Retention{Store: d, Period: map[store.Signal]time.Duration{
		store.SignalSpans:   7 * 24 * time.Hour,
		store.SignalSamples: 30 * 24 * time.Hour,
		store.SignalEvents:  time.Hour,
		store.SignalRollups: 0, // kept forever
	}}
	err := r.Run(context.Background(), time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	want := []string{"events 2026-11-26T09:00:00Z", "samples 2026-10-27T10:00:00Z", "spans 2026-11-19T10:00:00Z"}
	if !reflect.DeepEqual(d.calls, want) {
		t.Errorf("calls = %v, want %v", d.calls, want)
	}
	if err == nil || err.Error() != "retention of events: disk on fire" {
		t.Errorf("err = %v; a failing signal must be reported and not stop the others", err)
	}
}
