package slo

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/alert"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// recorder is a notifier that records what it is sent, and fails while
// down is set (failure injection).
type recorder struct {
	sent [][]alert.Alert
	down bool
}

func (r *recorder) Name() string   { return "recorder" }
func (r *recorder) Target() string { return "http://recorder" }

func (r *recorder) Notify(_ context.Context, as []alert.Alert) (int, error) {
	if r.down {
		return 503, errors.New("receiver down")
	}
	r.sent = append(r.sent, as)
	return 200, nil
}

func TestSilences(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	s, err := SaveSilence(ctx, st, Silence{Tenant: store.DefaultTenant, Matchers: map[string]string{"slo": "chat-availability", "severity": "page"},
		StartsAt: now, EndsAt: now.Add(2 * time.Hour), CreatedBy: "oncall", Comment: "deploying the fix"})
	if err != nil || s.ID == "" {
		t.Fatal(s, err)
	}
	if _, err := SaveSilence(ctx, st, Silence{Tenant: store.DefaultTenant, StartsAt: now, EndsAt: now.Add(time.Hour)}); err == nil {
		t.Error("a silence without matchers was saved")
	}
	got, err := ActiveSilences(ctx, st, store.DefaultTenant, now.Add(time.Hour))
	if err != nil || len(got) != 1 || got[0].Comment != "deploying the fix" || got[0].Matchers["severity"] != "page" || !got[0].EndsAt.Equal(now.Add(2*time.Hour)) {
		t.Fatalf("%+v %v", got, err)
	}
	if got, _ := ActiveSilences(ctx, st, store.DefaultTenant, now.Add(3*time.Hour)); len(got) != 0 {
		t.Errorf("an expired silence is in force: %+v", got)
	}

	// A silenced page alert fires (and is recorded) but is not sent; the
	// ticket alert is.
	slo := &SLO{Name: "chat-availability", Service: "chat", Objective: 0.99, Window: TimeWindow{Duration: 30 * day, Rolling: true}, SLI: SpanAvailability{}}
	rules := DefaultAlertWindows(30 * day)
	status := Status{SLO: slo, Burns: []WindowBurn{{Rule: rules[0], Firing: true}, {Rule: rules[2], Firing: true}}}
	rec := &recorder{}
	clock := now.Add(time.Minute)
	to := &direct{r: &Receiver{Notifier: rec, Silences: st, Interval: time.Minute, Now: func() time.Time { return clock }}}
	al := &Alerter{Publisher: to, Events: st, Interval: time.Minute}
	if err := al.Update(ctx, Evaluation{Statuses: []Status{status}}, clock); err != nil {
		t.Fatal(err)
	}
	if len(al.Active()) != 2 || len(rec.sent) != 1 || len(rec.sent[0]) != 1 || rec.sent[0][0].Labels["severity"] != "ticket" {
		t.Errorf("active %d, sent %+v", len(al.Active()), rec.sent)
	}
	// Every alert of a batch silenced: nothing is sent, and the attempt
	// says so.
	var page []store.Event
	for _, ev := range to.published {
		if tr, _ := AlertTransitions.Decode(ev); tr.Labels["severity"] == "page" {
			page = append(page, ev)
		}
	}
	if rep, err := to.r.Deliver(ctx, store.DefaultTenant, page); err != nil || !rep.Skipped || rep.Note != "silenced: 1 alert(s)" || len(rep.Keys) != 0 {
		t.Errorf("a silenced batch: %+v, %v", rep, err)
	}
	// After the silence ends the page alert is sent too.
	clock = now.Add(3 * time.Hour)
	if err := al.Update(ctx, Evaluation{Statuses: []Status{status}}, clock); err != nil {
		t.Fatal(err)
	}
	if len(rec.sent[1]) != 2 {
		t.Errorf("after the silence: %+v", rec.sent[1])
	}
}

// A silence event that does not decode mutes nothing, and the delivery
// log says which event it was.
func TestUnreadableSilenceMutesNothing(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	bad := store.Event{Tenant: store.DefaultTenant, ID: "broken-silence", Kind: store.KindSilence, Type: Silences.Type, Time: now, Payload: `{"version":1,"data":{"matchers":"all"}}`}
	if err := st.WriteEvents(ctx, []store.Event{bad}); err != nil {
		t.Fatal(err)
	}
	if _, err := ActiveSilences(ctx, st, store.DefaultTenant, now); err == nil || !strings.Contains(err.Error(), "broken-silence") {
		t.Errorf("ActiveSilences: %v", err)
	}
	rec := &recorder{}
	to := &direct{r: &Receiver{Notifier: rec, Silences: st, Now: func() time.Time { return now }}}
	al := &Alerter{Publisher: to, Events: st, Interval: time.Minute}
	slo := &SLO{Name: "chat", Service: "chat", Objective: 0.99, Window: TimeWindow{Duration: 30 * day, Rolling: true}}
	if err := al.Update(ctx, Evaluation{Statuses: []Status{{SLO: slo, Burns: []WindowBurn{{Rule: DefaultAlertWindows(30 * day)[0], Firing: true}}}}}, now); err != nil {
		t.Fatal(err)
	}
	if len(rec.sent) != 1 || len(to.reports) != 1 || !strings.Contains(to.reports[0].Note, "broken-silence") {
		t.Errorf("sent %+v, reports %+v", rec.sent, to.reports)
	}
}
