package slo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/alert"
	"github.com/vigil-dev/vigil/dispatch"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// alertStates lists the recorded alert events, oldest first, as
// "state@minute".
func alertStates(t *testing.T, st store.EventReader, from time.Time) string {
	evs, err := AlertTransitions.Read(context.Background(), st, store.EventQuery{Tenant: store.DefaultTenant, Start: from, End: from.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		out = append(out, fmt.Sprintf("%s@%d", evs[i].Value.State, int(evs[i].Event.Time.Sub(from)/time.Minute)))
	}
	return strings.Join(out, " ")
}

// direct delivers what is published at once through a Receiver: the
// dispatcher's part without its queues and retries (package dispatch tests
// those), so a test sees at once what a receiver is sent.
type direct struct {
	r         *Receiver
	published []store.Event
	reports   []dispatch.Report
	errs      []error
}

func (d *direct) Publish(evs ...store.Event) {
	d.published = append(d.published, evs...)
	byTenant := map[string][]store.Event{}
	for _, ev := range evs {
		if d.r.Accepts(ev) {
			byTenant[ev.Tenant] = append(byTenant[ev.Tenant], ev)
		}
	}
	for _, tenant := range slices.Sorted(maps.Keys(byTenant)) {
		batch := byTenant[tenant]
		sort.SliceStable(batch, func(i, j int) bool { return batch[i].Time.Before(batch[j].Time) })
		rep, err := d.r.Deliver(context.Background(), tenant, batch)
		d.reports = append(d.reports, rep)
		if err != nil {
			d.errs = append(d.errs, err)
		}
	}
}

// to sends through a direct publisher to rec.
func to(rec *recorder) *direct { return &direct{r: &Receiver{Notifier: rec, Interval: time.Minute}} }

// failingWriter refuses every write (failure injection).
type failingWriter struct{}

func (failingWriter) WriteEvents(context.Context, []store.Event) error {
	return errors.New("injected: the store is read-only")
}

func TestPendingThenFiringThenResolved(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	slo := &SLO{Name: "chat", Service: "chat", Objective: 0.99, Window: TimeWindow{Duration: 30 * day, Rolling: true}}
	rule := AlertWindow{Severity: "page", Long: time.Hour, Short: 5 * time.Minute, Factor: 14.4, For: 5 * time.Minute}
	status := func(firing bool) []Status {
		return []Status{{SLO: slo, Burns: []WindowBurn{{Rule: rule, Firing: firing}}}}
	}
	rec := &recorder{}
	al := &Alerter{Publisher: to(rec), Events: st, Interval: time.Minute}
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	step := func(m int, firing bool) {
		t.Helper()
		if err := al.Update(ctx, Evaluation{Statuses: status(firing)}, at(m)); err != nil {
			t.Fatalf("minute %d: %v", m, err)
		}
	}
	// Pending for its 5 minutes, not sent; then firing and sent.
	for m := 0; m < 5; m++ {
		step(m, true)
	}
	if a := al.Active(); len(a) != 1 || a[0].State != "pending" || len(rec.sent) != 0 {
		t.Fatalf("after 4 minutes: %+v, sent %d", a, len(rec.sent))
	}
	step(5, true)
	if a := al.Active(); len(a) != 1 || a[0].State != "firing" || !a[0].StartsAt.Equal(at(5)) || len(rec.sent) != 1 {
		t.Fatalf("after 5 minutes: %+v, sent %d", a, len(rec.sent))
	}
	// The rule stops: resolved at once, and the resolution published.
	step(6, false)
	if a := al.Active(); len(a) != 0 {
		t.Fatalf("still held: %+v", a)
	}
	last := rec.sent[len(rec.sent)-1]
	if len(last) != 1 || !last[0].EndsAt.Equal(at(6)) || !last[0].StartsAt.Equal(at(5)) {
		t.Errorf("resolution sent as %+v, want starts 5, ends 6", last)
	}
	if got := alertStates(t, st, t0); got != "pending@0 firing@5 resolved@6" {
		t.Errorf("events: %s", got)
	}

	// Pending that stops before its For: dropped unsent.
	sent := len(rec.sent)
	step(10, true)
	step(11, false)
	if a := al.Active(); len(a) != 0 || len(rec.sent) != sent {
		t.Errorf("a pending alert was kept or sent: %+v", a)
	}
	if got := alertStates(t, st, t0); got != "pending@0 firing@5 resolved@6 pending@10 inactive@11" {
		t.Errorf("events: %s", got)
	}
}

// A restart restores firing alerts from their events: the new process
// resolves the alert with its original StartsAt.
func TestRestoreAfterRestart(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	slo := &SLO{Name: "chat", Service: "chat", Objective: 0.99, Window: TimeWindow{Duration: 30 * day, Rolling: true}}
	rule := DefaultAlertWindows(30 * day)[0]
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	before := &Alerter{Publisher: to(&recorder{}), Events: st, Interval: time.Minute}
	if err := before.Update(ctx, Evaluation{Statuses: []Status{{SLO: slo, Burns: []WindowBurn{{Rule: rule, Firing: true}}}}}, t0); err != nil {
		t.Fatal(err)
	}
	// Vigil stops; the rule stops firing while it is down.
	rec := &recorder{}
	after := &Alerter{Publisher: to(rec), Events: st, Interval: time.Minute}
	if err := after.Restore(ctx, st, []*SLO{slo}, t0.Add(10*time.Minute), 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if a := after.Active(); len(a) != 1 || a[0].State != "firing" || !a[0].StartsAt.Equal(t0) || a[0].Labels["slo"] != "chat" {
		t.Fatalf("restored: %+v", a)
	}
	if err := after.Update(ctx, Evaluation{Statuses: []Status{{SLO: slo, Burns: []WindowBurn{{Rule: rule}}}}}, t0.Add(11*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if len(rec.sent) != 1 || len(rec.sent[0]) != 1 || !rec.sent[0][0].StartsAt.Equal(t0) || !rec.sent[0][0].EndsAt.Equal(t0.Add(11*time.Minute)) {
		t.Errorf("resolution after restart: %+v", rec.sent)
	}
	if got := alertStates(t, st, t0); got != "firing@0 resolved@11" {
		t.Errorf("events: %s", got)
	}
}

// An OpenSLO policy that alerts on no data, and does not send resolutions.
func TestPolicyNoDataAndNoResolved(t *testing.T) {
	ctx := context.Background()
	slo := &SLO{Name: "quiet", Service: "batch", Objective: 0.99, Window: TimeWindow{Duration: 30 * day, Rolling: true},
		Policy: &AlertPolicy{Breaching: true, NoData: true}}
	rec := &recorder{}
	al := &Alerter{Publisher: to(rec), Interval: time.Minute}
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	if err := al.Update(ctx, Evaluation{Statuses: []Status{{SLO: slo, State: "no data"}}}, t0); err != nil {
		t.Fatal(err)
	}
	if len(rec.sent) != 1 || rec.sent[0][0].Labels["alertname"] != NoDataAlertName {
		t.Fatalf("no-data alert: %+v", rec.sent)
	}
	if err := al.Update(ctx, Evaluation{Statuses: []Status{{SLO: slo, State: "ok"}}}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if len(rec.sent) != 1 || len(al.Active()) != 0 {
		t.Errorf("a resolution was sent against the policy, or the alert is held: %+v %+v", rec.sent, al.Active())
	}
}

// When an SLO moves from one analyzer replica to another, its firing alert
// moves with it: the old owner lets go without resolving it, the new owner
// takes it up from its events with its original start.
func TestAlertHandover(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := &SLO{Name: "chat-availability", Service: "chat", Objective: 0.99, Window: TimeWindow{Duration: 30 * day, Rolling: true},
		SLI: SpanAvailability{}, Alerts: DefaultAlertWindows(30 * day)[:1]}
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	spansPerMinute(t, st, tick, 0, func(int) int { return 2 }) // burn 20, above 14.4
	ownerIsA := true
	recA, recB := &recorder{}, &recorder{}
	a := &Evaluator{Store: st, SLOs: []*SLO{s}, Alerter: &Alerter{Publisher: to(recA), Events: st, Interval: time.Minute},
		Owns: func(context.Context, string) bool { return ownerIsA }}
	b := &Evaluator{Store: st, SLOs: []*SLO{s}, Alerter: &Alerter{Publisher: to(recB), Events: st, Interval: time.Minute},
		Owns: func(context.Context, string) bool { return !ownerIsA }}
	run := func(e *Evaluator, at time.Time) {
		t.Helper()
		if err := e.Run(ctx, at); err != nil {
			t.Fatal(err)
		}
	}
	run(a, tick.Add(-time.Second))
	run(b, tick.Add(-time.Second))
	if len(a.Alerter.Active()) != 1 || len(b.Alerter.Active()) != 0 || len(recB.sent) != 0 {
		t.Fatalf("before: a holds %d, b holds %d", len(a.Alerter.Active()), len(b.Alerter.Active()))
	}
	ownerIsA = false
	run(a, tick.Add(59*time.Second))
	run(b, tick.Add(59*time.Second))
	if len(a.Alerter.Active()) != 0 {
		t.Errorf("the old owner still holds %+v", a.Alerter.Active())
	}
	got := b.Alerter.Active()
	if len(got) != 1 || got[0].State != "firing" || !got[0].StartsAt.Equal(tick.Add(-time.Second)) {
		t.Errorf("the new owner holds %+v", got)
	}
	if len(recB.sent) != 1 || !recB.sent[0][0].StartsAt.Equal(tick.Add(-time.Second)) {
		t.Errorf("the new owner sent %+v", recB.sent)
	}
	if states := alertStates(t, st, tick.Add(-time.Hour)); states != "firing@59" {
		t.Errorf("events: %s (no resolution may be recorded)", states)
	}
}

// flakyStore fails the SLI counts of one service (failure injection).
type flakyStore struct {
	RollupStore
	fail string
}

func (f *flakyStore) SLICounts(ctx context.Context, q store.SLIQuery) ([]store.MinuteCounts, error) {
	if q.Service == f.fail {
		return nil, errors.New("injected: the store refused")
	}
	return f.RollupStore.SLICounts(ctx, q)
}

// SLICountsEach fails a read that counts the service with the others, as
// a store does when one of a read's queries cannot run.
func (f *flakyStore) SLICountsEach(ctx context.Context, qs []store.SLIQuery) ([][]store.MinuteCounts, error) {
	for _, q := range qs {
		if q.Service == f.fail {
			return nil, errors.New("injected: the store refused")
		}
	}
	return f.RollupStore.SLICountsEach(ctx, qs)
}

// An SLO whose rollups fail is not judged: its firing alert is held and
// re-sent, never resolved, and the other SLOs are judged as usual.
func TestFailedSLOHoldsItsAlerts(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	spansPerMinute(t, st, tick, 0, func(int) int { return 2 }) // service chat, burn 20
	rules := DefaultAlertWindows(30 * day)[:1]
	chat := &SLO{Name: "chat-availability", Service: "chat", Objective: 0.99, Window: TimeWindow{Duration: 30 * day, Rolling: true}, SLI: SpanAvailability{}, Alerts: rules}
	other := &SLO{Name: "other", Service: "other", Objective: 0.99, Window: TimeWindow{Duration: 30 * day, Rolling: true}, SLI: SpanAvailability{}, Alerts: rules}
	flaky := &flakyStore{RollupStore: st}
	rec := &recorder{}
	e := &Evaluator{Store: flaky, SLOs: []*SLO{chat, other}, Alerter: &Alerter{Publisher: to(rec), Events: st, Interval: time.Minute}}
	if err := e.Run(ctx, tick.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	flaky.fail = "chat"
	if err := e.Run(ctx, tick.Add(59*time.Second)); err == nil || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("the failure is not reported: %v", err)
	} else if strings.Contains(err.Error(), "slo other") || !e.done[sloKey(other)].Equal(tick.Add(time.Minute)) {
		// Its read failed with chat's, and it was counted on its own.
		t.Errorf("the other SLO failed with it: %v", err)
	}
	a := e.Alerter.Active()
	if len(a) != 1 || a[0].State != "firing" || len(rec.sent) != 2 || !rec.sent[1][0].EndsAt.After(tick.Add(59*time.Second)) {
		t.Errorf("held alert: %+v, sent %d", a, len(rec.sent))
	}
	if states := alertStates(t, st, tick.Add(-time.Hour)); states != "firing@59" {
		t.Errorf("events: %s", states)
	}
}

// State first: when the transitions cannot be written nothing changes and
// nothing is sent; the next evaluation records and sends them.
func TestNothingIsSentBeforeItIsRecorded(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	slo := &SLO{Name: "chat", Service: "chat", Objective: 0.99, Window: TimeWindow{Duration: 30 * day, Rolling: true}}
	firing := []Status{{SLO: slo, Burns: []WindowBurn{{Rule: DefaultAlertWindows(30 * day)[0], Firing: true}}}}
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	rec := &recorder{}
	d := to(rec)
	al := &Alerter{Publisher: d, Events: failingWriter{}, Interval: time.Minute}
	if err := al.Update(ctx, Evaluation{Statuses: firing}, t0); err == nil || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("a failed write is not reported: %v", err)
	}
	if len(al.Active()) != 0 || len(rec.sent) != 0 {
		t.Fatalf("unrecorded state was kept or sent: %+v %+v", al.Active(), rec.sent)
	}
	al.Events = st
	if err := al.Update(ctx, Evaluation{Statuses: firing}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if len(al.Active()) != 1 || len(rec.sent) != 1 || !rec.sent[0][0].StartsAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("active %+v, sent %+v", al.Active(), rec.sent)
	}
	if got := alertStates(t, st, t0); got != "firing@1" {
		t.Errorf("events: %s", got)
	}
	// A 503 is retried by the dispatcher; a refusal is final.
	rec.down = true
	last := d.published[len(d.published)-1:]
	if _, err := d.r.Deliver(ctx, store.DefaultTenant, last); err == nil || dispatch.IsPermanent(err) {
		t.Errorf("a 503 must be retried: %v", err)
	}
	refusing := &Receiver{Notifier: refuser{}}
	if _, err := refusing.Deliver(ctx, store.DefaultTenant, last); err == nil || !dispatch.IsPermanent(err) {
		t.Errorf("a 400 must be final: %v", err)
	}
}

// refuser answers every notification 400.
type refuser struct{}

func (refuser) Name() string   { return "refuser" }
func (refuser) Target() string { return "http://refuser" }
func (refuser) Notify(context.Context, []alert.Alert) (int, error) {
	return 400, errors.New("invalid label")
}

// An SLO deleted from the config resolves its firing alert (and says so to
// the receivers), where an SLO another replica took over only lets go.
func TestRemovedSLOResolvesItsAlerts(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	spansPerMinute(t, st, tick, 0, func(int) int { return 2 }) // burn 20
	s := &SLO{Name: "chat-availability", Service: "chat", Objective: 0.99, Window: TimeWindow{Duration: 30 * day, Rolling: true},
		SLI: SpanAvailability{}, Alerts: DefaultAlertWindows(30 * day)[:1]}
	defined := []*SLO{s}
	rec := &recorder{}
	e := &Evaluator{Store: st, Current: func() []*SLO { return defined }, Alerter: &Alerter{Publisher: to(rec), Events: st, Interval: time.Minute}}
	if err := e.Run(ctx, tick.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	defined = nil // the file was edited
	if err := e.Run(ctx, tick.Add(59*time.Second)); err != nil {
		t.Fatal(err)
	}
	if a := e.Alerter.Active(); len(a) != 0 {
		t.Errorf("still held: %+v", a)
	}
	if states := alertStates(t, st, tick.Add(-time.Hour)); states != "firing@59 resolved@60" {
		t.Errorf("events: %s", states)
	}
	if last := rec.sent[len(rec.sent)-1]; len(rec.sent) != 2 || !last[0].EndsAt.Equal(tick.Add(59*time.Second)) {
		t.Errorf("sent %+v", rec.sent)
	}
}
