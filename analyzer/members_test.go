package analyzer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store/embedded"
)

// ownerJob records the monitors it owns at each tick.
type ownerJob struct {
	mu    sync.Mutex
	owned map[time.Time][]string
}

func (j *ownerJob) Name() string { return "owner" }
func (j *ownerJob) Run(ctx context.Context, tick time.Time) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.owned == nil {
		j.owned = map[time.Time][]string{}
	}
	for i := 0; i < 100; i++ {
		if key := fmt.Sprintf("slo/%d", i); Owns(ctx, key) {
			j.owned[tick] = append(j.owned[tick], key)
		}
	}
	return nil
}

// Two analyzers sharing a store split the monitors between them, each
// monitor to exactly one; when one stops announcing itself, the other takes
// everything back.
func TestReplicasShareMonitors(t *testing.T) {
	st, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	newReplica := func(name string) (*Scheduler, *ownerJob) {
		j := &ownerJob{}
		return NewScheduler(Options{Interval: time.Minute, Logger: slog.New(slog.DiscardHandler), Members: st, Replica: name}, j), j
	}
	a, ja := newReplica("analyzer-a")
	b, jb := newReplica("analyzer-b")
	// Before its first tick a replica knows no one else: it owns nothing
	// outside a tick, so two replicas starting together do not both act.
	if a.Owns("slo/default/x") || b.Owns("slo/default/x") {
		t.Error("a replica sharing the work owns a key before its first tick")
	}
	if !NewScheduler(Options{Interval: time.Minute}).Owns("slo/default/x") {
		t.Error("a scheduler without replicas does not own everything before its first tick")
	}
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	a.RunTick(ctx, t0) // a alone so far: it owns all
	b.RunTick(ctx, t0)
	if len(ja.owned[t0]) != 100 {
		t.Errorf("the first replica owned %d of 100", len(ja.owned[t0]))
	}
	t1 := t0.Add(time.Minute)
	a.RunTick(ctx, t1)
	b.RunTick(ctx, t1)
	owners := map[string]int{}
	for _, k := range append(ja.owned[t1], jb.owned[t1]...) {
		owners[k]++
	}
	if len(owners) != 100 || len(ja.owned[t1]) == 0 || len(jb.owned[t1]) == 0 {
		t.Errorf("a owns %d, b owns %d, %d distinct of 100", len(ja.owned[t1]), len(jb.owned[t1]), len(owners))
	}
	for k, n := range owners {
		if n != 1 {
			t.Errorf("%s is evaluated by %d replicas", k, n)
		}
	}
	// Outside a tick a replica acts only on a view it has held for two
	// ticks: after t1, b (which saw a at t0 already) owns its share, a
	// (alone at t0) nothing yet; after t2 each its own share.
	for _, k := range append(ja.owned[t1], jb.owned[t1]...) {
		if a.Owns(k) || b.Owns(k) != slices.Contains(jb.owned[t1], k) {
			t.Errorf("%s outside the tick after t1: a %v, b %v", k, a.Owns(k), b.Owns(k))
		}
	}
	t2 := t0.Add(2 * time.Minute)
	a.RunTick(ctx, t2)
	b.RunTick(ctx, t2)
	for _, k := range ja.owned[t2] {
		if !a.Owns(k) || b.Owns(k) {
			t.Errorf("%s outside the tick after t2: a %v, b %v", k, a.Owns(k), b.Owns(k))
		}
	}
	// b stops after t2: at t3 it is still counted (it announced itself
	// at the tick before), at t4 a owns everything again: two ticks
	// after b's last. a acts on them from t5, its view held two ticks.
	t3, t4, t5 := t0.Add(3*time.Minute), t0.Add(4*time.Minute), t0.Add(5*time.Minute)
	a.RunTick(ctx, t3)
	a.RunTick(ctx, t4)
	if len(ja.owned[t3]) == 100 || len(ja.owned[t4]) != 100 {
		t.Errorf("after b stopped a owns %d, then %d of 100", len(ja.owned[t3]), len(ja.owned[t4]))
	}
	if k := jb.owned[t2][0]; a.Owns(k) {
		t.Errorf("a acts on %s the tick it counts b gone", k)
	}
	a.RunTick(ctx, t5)
	if k := jb.owned[t2][0]; !a.Owns(k) {
		t.Errorf("a does not act on %s two ticks after it counted b gone", k)
	}
}

// countingJob tracks how many jobs run at once.
type countingJob struct {
	name            string
	running, maxRun *atomic.Int32
	timeout         time.Duration
	deadline        time.Duration
}

func (j *countingJob) Name() string           { return j.name }
func (j *countingJob) Timeout() time.Duration { return j.timeout }
func (j *countingJob) Run(ctx context.Context, tick time.Time) error {
	n := j.running.Add(1)
	defer j.running.Add(-1)
	for {
		m := j.maxRun.Load()
		if n <= m || j.maxRun.CompareAndSwap(m, n) {
			break
		}
	}
	if d, ok := ctx.Deadline(); ok {
		j.deadline = time.Until(d)
	}
	time.Sleep(20 * time.Millisecond)
	return nil
}

func TestBoundedConcurrencyAndJobTimeouts(t *testing.T) {
	var running, maxRun atomic.Int32
	var jobs []Job
	var counting []*countingJob
	for i := 0; i < 6; i++ {
		j := &countingJob{name: fmt.Sprint(i), running: &running, maxRun: &maxRun}
		if i == 0 {
			j.timeout = time.Hour
		}
		counting = append(counting, j)
		jobs = append(jobs, j)
	}
	s := NewScheduler(Options{Interval: time.Minute, MaxConcurrent: 2, Logger: slog.New(slog.DiscardHandler)}, jobs...)
	s.RunTick(context.Background(), time.Now())
	if got := maxRun.Load(); got > 2 || got < 1 {
		t.Errorf("%d jobs ran at once, limit 2", got)
	}
	// A job's own timeout wins over the interval's.
	if d := counting[0].deadline; d < 59*time.Minute {
		t.Errorf("job with a 1h timeout had %s", d)
	}
	if d := counting[1].deadline; d > time.Minute || d <= 0 {
		t.Errorf("job without its own timeout had %s, want the 1m interval", d)
	}
}

// unreadMembers is a members table the store cannot read.
type unreadMembers struct{}

func (unreadMembers) Heartbeat(context.Context, string, string, time.Time) error { return nil }
func (unreadMembers) LiveMembers(context.Context, string, time.Time) ([]string, error) {
	return nil, errors.New("store down")
}

// A replica that cannot read who else is alive evaluates every monitor
// (work done twice is correct) but acts on none, however many ticks
// agree: every replica in the same state would act too.
func TestUnreadMembersEvaluateButDoNotAct(t *testing.T) {
	j := &ownerJob{}
	s := NewScheduler(Options{Interval: time.Minute, Logger: slog.New(slog.DiscardHandler), Members: unreadMembers{}, Replica: "a"}, j)
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		tick := t0.Add(time.Duration(i) * time.Minute)
		s.RunTick(context.Background(), tick)
		if len(j.owned[tick]) != 100 {
			t.Errorf("tick %d evaluated %d of 100 monitors", i, len(j.owned[tick]))
		}
	}
	if s.Owns("slo/1") {
		t.Error("a replica that cannot read the members acts on a monitor")
	}
}
