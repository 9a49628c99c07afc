package dispatch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// note is the payload of the test's events.
type note struct {
	Text string `json:"text"`
	Skip bool   `json:"skip,omitempty"`
}

var notes = store.Codec[note]{Kind: store.KindAlert, Type: "test.note", Version: 1}

var t0 = time.Now().Truncate(time.Minute).Add(-time.Hour)

func noteEvent(t *testing.T, tenant string, minute int, text string) store.Event {
	t.Helper()
	at := t0.Add(time.Duration(minute) * time.Minute)
	ev, err := notes.Event(store.Event{Tenant: tenant, ID: store.EventID(store.KindAlert, tenant, text), Subject: text, Time: at, Summary: text}, note{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// receiver is a subscriber whose answers the test scripts: fakes stand in
// for failures a real receiver gives only by chance.
type receiver struct {
	name string
	// answer decides each attempt; nil delivers.
	answer func(ctx context.Context, try int) error

	mu       sync.Mutex
	tries    int
	got      []string // texts, in the order delivered
	batches  [][]string
	tenants  []string
	received chan struct{}
}

func newReceiver(name string, answer func(ctx context.Context, try int) error) *receiver {
	return &receiver{name: name, answer: answer, received: make(chan struct{}, 100)}
}

func (r *receiver) Name() string    { return r.name }
func (r *receiver) Types() []string { return []string{notes.Type} }
func (r *receiver) Accepts(ev store.Event) bool {
	n, err := notes.Decode(ev)
	return err == nil && n.Text != "pending"
}

func (r *receiver) Deliver(ctx context.Context, tenant string, events []store.Event) (Report, error) {
	r.mu.Lock()
	r.tries++
	try := r.tries
	r.mu.Unlock()
	if r.answer != nil {
		if err := r.answer(ctx, try); err != nil {
			return Report{Target: "http://" + r.name}, err
		}
	}
	var texts []string
	skip := true
	for _, ev := range events {
		n, err := notes.Decode(ev)
		if err != nil {
			return Report{}, Permanent(err)
		}
		texts = append(texts, n.Text)
		skip = skip && n.Skip
	}
	r.mu.Lock()
	r.got = append(r.got, texts...)
	r.batches = append(r.batches, texts)
	r.tenants = append(r.tenants, tenant)
	r.mu.Unlock()
	r.received <- struct{}{}
	if skip {
		return Report{Target: "http://" + r.name, Skipped: true, Note: "all muted"}, nil
	}
	return Report{Target: "http://" + r.name, Status: 200, Keys: texts}, nil
}

func (r *receiver) delivered() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

func (r *receiver) wait(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case <-r.received:
	case <-time.After(within):
		t.Fatalf("%s received nothing within %s", r.name, within)
	}
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	s, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func start(t *testing.T, opts Options) (*Dispatcher, func()) {
	t.Helper()
	if opts.Backoff == 0 {
		opts.Backoff, opts.MaxBackoff = 10*time.Millisecond, 40*time.Millisecond
	}
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	go d.Serve()
	stop := func() {
		if err := d.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(stop)
	return d, stop
}

// logOf reads the delivery log, oldest first.
func logOf(t *testing.T, s store.Store, tenant string) []Delivery {
	t.Helper()
	recs, err := Deliveries.Read(context.Background(), s, store.EventQuery{Tenant: tenant, Start: t0.Add(-time.Hour), End: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var out []Delivery
	for i := len(recs) - 1; i >= 0; i-- {
		out = append(out, recs[i].Value)
	}
	return out
}

func TestDeliversPerTenantInOrder(t *testing.T) {
	s := openStore(t)
	r := newReceiver("hook", nil)
	gate := make(chan struct{})
	r.answer = func(ctx context.Context, try int) error {
		if try == 1 {
			<-gate // hold the first attempt so the rest queue up behind it
		}
		return nil
	}
	d, stop := start(t, Options{Store: s, Subscribers: []Subscriber{r}})
	d.Publish(noteEvent(t, "acme", 1, "first"))
	time.Sleep(50 * time.Millisecond)
	// Published out of time order, one not accepted, one for another
	// tenant, and one twice.
	d.Publish(noteEvent(t, "acme", 5, "third"), noteEvent(t, "acme", 3, "second"), noteEvent(t, "acme", 4, "pending"), noteEvent(t, "globex", 2, "other"))
	d.Publish(noteEvent(t, "acme", 5, "third"))
	close(gate)
	for range 3 {
		r.wait(t, 5*time.Second)
	}
	stop()
	if got := fmt.Sprint(r.batches); got != "[[first] [second third] [other]]" && got != "[[first] [other] [second third]]" {
		t.Errorf("batches %s", got)
	}
	acme := logOf(t, s, "acme")
	if len(acme) != 2 || acme[0].Outcome != Delivered || acme[0].Try != 1 || acme[0].Status != 200 || acme[0].Target != "http://hook" ||
		fmt.Sprint(acme[1].Keys) != "[second third]" || len(acme[1].Events) != 2 || acme[1].Subscriber != "hook" {
		t.Errorf("acme's log: %+v", acme)
	}
	if globex := logOf(t, s, "globex"); len(globex) != 1 || fmt.Sprint(globex[0].Keys) != "[other]" {
		t.Errorf("globex's log: %+v", globex)
	}
}

// A receiver that hangs holds up nobody but itself; it is retried, and
// every attempt is logged.
func TestHangingReceiverHoldsUpOnlyItself(t *testing.T) {
	s := openStore(t)
	hang := func(ctx context.Context, try int) error { <-ctx.Done(); return ctx.Err() }
	slow1, slow2, ok := newReceiver("slow1", hang), newReceiver("slow2", hang), newReceiver("ok", nil)
	d, stop := start(t, Options{Store: s, Subscribers: []Subscriber{slow1, ok, slow2}, Timeout: 200 * time.Millisecond})
	begin := time.Now()
	d.Publish(noteEvent(t, "acme", 1, "fire"))
	ok.wait(t, 2*time.Second)
	if took := time.Since(begin); took > time.Second {
		t.Errorf("the working receiver waited %s", took)
	}
	time.Sleep(600 * time.Millisecond)
	stop()
	tries := map[string][]int{}
	for _, rec := range logOf(t, s, "acme") {
		tries[rec.Subscriber] = append(tries[rec.Subscriber], rec.Try)
		if rec.Subscriber != "ok" && (rec.Outcome != Retrying || !strings.Contains(rec.Error, "deadline exceeded")) {
			t.Errorf("a hanging receiver's attempt: %+v", rec)
		}
	}
	if len(tries["slow1"]) < 2 || len(tries["slow2"]) < 2 || fmt.Sprint(tries["ok"]) != "[1]" || tries["slow1"][1] != 2 {
		t.Errorf("attempts by receiver: %v", tries)
	}
}

func TestRetriesThenGivesUp(t *testing.T) {
	s := openStore(t)
	flaky := newReceiver("flaky", func(ctx context.Context, try int) error {
		if try <= 2 {
			return errors.New("503 Service Unavailable")
		}
		return nil
	})
	refuses := newReceiver("refuses", func(ctx context.Context, try int) error { return Permanent(errors.New("400 Bad Request")) })
	reg := prometheus.NewRegistry()
	d, stop := start(t, Options{Store: s, Subscribers: []Subscriber{flaky, refuses}, Registerer: reg})
	d.Publish(noteEvent(t, "acme", 1, "fire"))
	flaky.wait(t, 5*time.Second)
	time.Sleep(100 * time.Millisecond)
	stop()
	var got []string
	for _, rec := range logOf(t, s, "acme") {
		got = append(got, fmt.Sprintf("%s/%d/%s", rec.Subscriber, rec.Try, rec.Outcome))
	}
	want := map[string]bool{"flaky/1/retrying": true, "flaky/2/retrying": true, "flaky/3/delivered": true, "refuses/1/failed": true}
	if len(got) != len(want) {
		t.Errorf("log %v", got)
	}
	for _, g := range got {
		if !want[g] {
			t.Errorf("log %v: unexpected %s", got, g)
		}
	}
	if n := testutil.ToFloat64(d.attempts.WithLabelValues("refuses", "failed")); n != 1 {
		t.Errorf("failed attempts counted %v", n)
	}
}

func TestBoundedQueueCountsDrops(t *testing.T) {
	s := openStore(t)
	gate, started := make(chan struct{}), make(chan struct{})
	r := newReceiver("hook", func(ctx context.Context, try int) error {
		if try == 1 {
			close(started)
			<-gate
		}
		return nil
	})
	reg := prometheus.NewRegistry()
	d, stop := start(t, Options{Store: s, Subscribers: []Subscriber{r}, QueueSize: 3, Registerer: reg})
	d.Publish(noteEvent(t, "acme", 0, "blocker"))
	<-started
	// Five more while the receiver holds the first: the queue keeps the
	// three newest.
	for i := range 5 {
		d.Publish(noteEvent(t, "acme", i+1, fmt.Sprint("n", i)))
	}
	if n := testutil.ToFloat64(d.dropped.WithLabelValues("hook")); n != 3 {
		t.Errorf("dropped %v, want 3", n)
	}
	close(gate)
	r.wait(t, 5*time.Second)
	r.wait(t, 5*time.Second)
	stop()
	if got := fmt.Sprint(r.delivered()); got != "[blocker n2 n3 n4]" {
		t.Errorf("delivered %s", got)
	}
}

// After a restart the dispatcher delivers what was published and never
// delivered, and nothing a final attempt covered or that is older than it.
func TestRecoversUndelivered(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	evs := []store.Event{
		noteEvent(t, "acme", 1, "delivered-long-ago"),
		noteEvent(t, "acme", 2, "lost-before-the-last-delivery"), // older than what was delivered: settled
		noteEvent(t, "acme", 3, "delivered"),
		noteEvent(t, "acme", 4, "retrying-when-stopped"),
		noteEvent(t, "acme", 5, "pending"), // not accepted
		noteEvent(t, "acme", 6, "never-tried"),
		noteEvent(t, "globex", 2, "globex-never-tried"),
	}
	if err := s.WriteEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for i, d := range []Delivery{
		{Subscriber: "hook", Try: 1, Outcome: Delivered, Events: []string{evs[0].ID}},
		{Subscriber: "hook", Try: 1, Outcome: Delivered, Events: []string{evs[2].ID}},
		{Subscriber: "hook", Try: 1, Outcome: Retrying, Events: []string{evs[3].ID}},
		{Subscriber: "other", Try: 1, Outcome: Delivered, Events: []string{evs[5].ID}}, // another subscriber's
	} {
		ev, err := deliveryEvent("acme", t0.Add(time.Duration(10+i)*time.Minute), d)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.WriteEvents(ctx, []store.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	r := newReceiver("hook", nil)
	_, stop := start(t, Options{Store: s, Subscribers: []Subscriber{r}})
	r.wait(t, 5*time.Second)
	r.wait(t, 5*time.Second)
	stop()
	got := fmt.Sprint(r.batches)
	if got != "[[retrying-when-stopped never-tried] [globex-never-tried]]" && got != "[[globex-never-tried] [retrying-when-stopped never-tried]]" {
		t.Errorf("taken up: %s", got)
	}
}

func TestSkippedIsFinal(t *testing.T) {
	s := openStore(t)
	r := newReceiver("hook", nil)
	d, stop := start(t, Options{Store: s, Subscribers: []Subscriber{r}})
	ev, err := notes.Event(store.Event{Tenant: "acme", ID: "muted", Time: t0}, note{Text: "muted", Skip: true})
	if err != nil {
		t.Fatal(err)
	}
	d.Publish(ev)
	r.wait(t, 5*time.Second)
	time.Sleep(50 * time.Millisecond)
	stop()
	log := logOf(t, s, "acme")
	if len(log) != 1 || log[0].Outcome != Skipped || log[0].Note != "all muted" || log[0].Error != "" {
		t.Errorf("log %+v", log)
	}
}

func TestNamesAreUnique(t *testing.T) {
	if _, err := New(Options{Subscribers: []Subscriber{newReceiver("a", nil), newReceiver("a", nil)}}); err == nil {
		t.Error("two subscribers named a")
	}
}

// Shutdown lets an attempt under way finish, but no longer than its
// deadline.
func TestShutdownCutsOffAtTheDeadline(t *testing.T) {
	s := openStore(t)
	r := newReceiver("hang", func(ctx context.Context, try int) error { <-ctx.Done(); return ctx.Err() })
	d, err := New(Options{Store: s, Subscribers: []Subscriber{r}})
	if err != nil {
		t.Fatal(err)
	}
	go d.Serve()
	d.Publish(noteEvent(t, "acme", 1, "fire"))
	time.Sleep(100 * time.Millisecond) // the attempt is under way
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	begin := time.Now()
	if err := d.Shutdown(ctx); err == nil || !strings.Contains(err.Error(), "cut off") {
		t.Errorf("Shutdown: %v", err)
	}
	if took := time.Since(begin); took > time.Second {
		t.Errorf("Shutdown took %s past a 200ms deadline", took)
	}
}

// Without subscribers the dispatcher still serves until Shutdown: the run
// group stops everything when one component returns.
func TestServesUntilShutdownWithoutSubscribers(t *testing.T) {
	d, err := New(Options{Store: openStore(t)})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- d.Serve() }()
	select {
	case err := <-served:
		t.Fatalf("Serve returned before Shutdown: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := d.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}

// TestReplace: while the dispatcher runs, a stream's subscriber is
// replaced (its queue, waiting on a failing receiver, goes to the new
// one), another added and then removed; subscribers outside the prefix
// are untouched.
func TestReplace(t *testing.T) {
	s := openStore(t)
	alert := newReceiver("alert:a", nil)
	failing := newReceiver("stream:x", func(context.Context, int) error { return errors.New("broker down") })
	reg := prometheus.NewRegistry()
	d, _ := start(t, Options{Store: s, Subscribers: []Subscriber{alert, failing}, Registerer: reg, Backoff: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	d.Publish(noteEvent(t, "acme", 1, "one"))
	alert.wait(t, 5*time.Second)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		failing.mu.Lock()
		tries := failing.tries
		failing.mu.Unlock()
		if tries > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("stream:x was never tried")
		}
	}

	if _, err := d.Replace("stream:", []Subscriber{newReceiver("alert:b", nil)}); err == nil {
		t.Error("a subscriber outside the prefix was taken")
	}
	x2, y := newReceiver("stream:x", nil), newReceiver("stream:y", nil)
	retired, err := d.Replace("stream:", []Subscriber{x2, y})
	if err != nil {
		t.Fatal(err)
	}
	if len(retired) != 1 || retired[0] != failing {
		t.Errorf("retired %v, want the failing stream:x", retired)
	}
	x2.wait(t, 5*time.Second) // the queued event, by the new subscriber
	if got := x2.delivered(); len(got) != 1 || got[0] != "one" {
		t.Errorf("stream:x's new subscriber delivered %v, want the queued [one]", got)
	}
	d.Publish(noteEvent(t, "acme", 2, "two"))
	y.wait(t, 5*time.Second)
	x2.wait(t, 5*time.Second)
	alert.wait(t, 5*time.Second)

	retired, err = d.Replace("stream:", []Subscriber{y})
	if err != nil {
		t.Fatal(err)
	}
	if len(retired) != 1 || retired[0] != x2 {
		t.Errorf("retired %v, want stream:x (stream:y, given again, stays)", retired)
	}
	d.Publish(noteEvent(t, "acme", 3, "three"))
	y.wait(t, 5*time.Second)
	alert.wait(t, 5*time.Second)
	time.Sleep(200 * time.Millisecond)
	if got := x2.delivered(); len(got) != 2 {
		t.Errorf("the removed stream:x delivered %v", got)
	}
	if got := y.delivered(); strings.Join(got, " ") != "two three" {
		t.Errorf("stream:y delivered %v", got)
	}
	if got := alert.delivered(); strings.Join(got, " ") != "one two three" {
		t.Errorf("alert:a delivered %v", got)
	}
	n, err := testutil.GatherAndCount(reg, "vigil_dispatch_queue_limit")
	if err != nil || n != 2 {
		t.Errorf("%d vigil_dispatch_queue_limit series (%v), want alert:a's and stream:y's", n, err)
	}
}
