package analyzer

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/dispatch"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// pager is an alert receiver that records what it is handed, or refuses
// everything, as a receiver that is down would.
type pager struct {
	mu     sync.Mutex
	refuse bool
	got    []string // event ids, as delivered
}

const pagerType = "test.page"

func (p *pager) Name() string             { return "pager" }
func (p *pager) Types() []string          { return []string{pagerType} }
func (p *pager) Accepts(store.Event) bool { return true }
func (p *pager) delivered() []string      { p.mu.Lock(); defer p.mu.Unlock(); return slices.Clone(p.got) }
func (p *pager) Deliver(_ context.Context, _ string, evs []store.Event) (dispatch.Report, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refuse {
		return dispatch.Report{}, errors.New("receiver down")
	}
	for _, ev := range evs {
		p.got = append(p.got, ev.ID)
	}
	return dispatch.Report{}, nil
}

// replica is an analyzer process: a dispatcher and a scheduler whose only
// job is the recovery, as addAnalyzer wires them.
type replica struct {
	sched *Scheduler
	disp  *dispatch.Dispatcher
	pager *pager
	done  chan error
}

func startReplica(t *testing.T, st store.Store, name string) *replica {
	t.Helper()
	r := &replica{pager: &pager{}, done: make(chan error, 1)}
	var err error
	r.disp, err = dispatch.New(dispatch.Options{Store: st, Subscribers: []dispatch.Subscriber{r.pager},
		RecoverWhenAsked: true, Backoff: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.disp.Serve() }()
	r.sched = NewScheduler(Options{Interval: time.Minute, Logger: slog.New(slog.DiscardHandler), Members: st, Replica: name},
		&Recovery{Recover: r.disp.Recover})
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *replica) stop(t *testing.T) {
	select {
	case <-r.done:
		return // stopped already
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.disp.Shutdown(ctx); err != nil {
		t.Error(err)
	}
	<-r.done
	r.done <- nil
}

func pageEvent(summary string, at time.Time) store.Event {
	id := store.EventID(store.KindAlert, summary, at.String())
	return store.Event{Tenant: "acme", ID: id, Kind: store.KindAlert, Type: pagerType, Subject: summary, Time: at, Summary: summary, Payload: "{}"}
}

// eventually waits until cond holds, then a little longer, so that a
// second delivery that was going to happen has happened.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
	}
	time.Sleep(300 * time.Millisecond)
}

// Two analyzers restarted together find alerts that were published and
// never delivered: each alert reaches the receiver once, not once per
// replica. When one of them then dies with alerts queued that its
// receiver refused, the other takes them up once it counts it gone.
func TestRecoveryDeliversOnceAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now().Truncate(time.Second)
	var undelivered []store.Event
	for i, s := range []string{"chat burns", "rag burns", "embed burns"} {
		undelivered = append(undelivered, pageEvent(s, now.Add(time.Duration(i-10)*time.Minute)))
	}
	if err := st.WriteEvents(ctx, undelivered); err != nil {
		t.Fatal(err)
	}

	a, b := startReplica(t, st, "analyzer-a"), startReplica(t, st, "analyzer-b")
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tick := func(i int, rs ...*replica) {
		for _, r := range rs {
			r.sched.RunTick(ctx, t0.Add(time.Duration(i)*time.Minute))
		}
	}
	for i := range 4 {
		tick(i, a, b)
	}
	both := func() []string { return append(a.pager.delivered(), b.pager.delivered()...) }
	eventually(t, "the undelivered alerts delivered", func() bool { return len(both()) >= len(undelivered) })
	got := both()
	slices.Sort(got)
	var want []string
	for _, ev := range undelivered {
		want = append(want, ev.ID)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("after a restart of both replicas the receivers got %d deliveries of %d alerts: %v", len(got), len(want), got)
	}

	// b publishes an alert its receiver refuses, then dies: a takes it
	// up two ticks after it counts b gone (its view settled), and once.
	held := pageEvent("held", now.Add(-time.Minute))
	if err := st.WriteEvents(ctx, []store.Event{held}); err != nil {
		t.Fatal(err)
	}
	b.pager.mu.Lock()
	b.pager.refuse = true
	b.pager.mu.Unlock()
	b.disp.Publish(held)
	time.Sleep(200 * time.Millisecond) // b's attempt, refused and logged
	b.stop(t)
	before := len(a.pager.delivered())
	tick(4, a)
	tick(5, a) // b counted gone
	if n := len(a.pager.delivered()); n != before {
		t.Fatalf("a delivered %d more before it counted b gone", n-before)
	}
	tick(6, a) // a's view settled: it takes up b's queue
	eventually(t, "b's refused alert taken up by a", func() bool { return len(a.pager.delivered()) > before })
	if got := a.pager.delivered()[before:]; !slices.Equal(got, []string{held.ID}) {
		t.Errorf("a took up %v of b's queue, want [%s] once", got, held.ID)
	}
}

// Of two replicas ticking together, one recovers, once its view has
// settled, and again when the replicas change; a recovery that failed is
// tried again at the next tick.
func TestRecoveryRunsOnOneReplicaPerChange(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var mu sync.Mutex
	calls := map[string][]int{} // replica: the ticks it recovered at
	tickNo, fail := 0, false
	newReplica := func(name string) *Scheduler {
		return NewScheduler(Options{Interval: time.Minute, Logger: slog.New(slog.DiscardHandler), Members: st, Replica: name},
			&Recovery{Recover: func(context.Context) error {
				mu.Lock()
				defer mu.Unlock()
				calls[name] = append(calls[name], tickNo)
				if fail {
					return errors.New("store down")
				}
				return nil
			}})
	}
	a, b := newReplica("analyzer-a"), newReplica("analyzer-b")
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tick := func(rs ...*Scheduler) {
		for _, r := range rs {
			r.RunTick(ctx, t0.Add(time.Duration(tickNo)*time.Minute))
		}
		tickNo++
	}
	for range 4 {
		tick(a, b)
	}
	if n := len(calls["analyzer-a"]) + len(calls["analyzer-b"]); n != 1 {
		t.Fatalf("two replicas started together recovered %d times: %v", n, calls)
	}
	// b stops: a recovers b's queue once its view without b settled
	// (tick 6), failing once, so again at tick 7, and no more.
	clear(calls)
	fail = true
	tick(a) // 4: b still counted
	tick(a) // 5: b gone, view not settled
	tick(a) // 6: recovers, fails
	fail = false
	tick(a) // 7: again
	tick(a) // 8: nothing new
	if got := calls["analyzer-a"]; !slices.Equal(got, []int{6, 7}) {
		t.Errorf("after b stopped, a recovered at ticks %v, want [6 7]", got)
	}
}
