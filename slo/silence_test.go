package slo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/alert"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// recorder keeps what it is asked to send.
// recorder is a notifier that records what it is sent, and fails while
// down is set (failure injection).
type recorder struct {
	sent [][]alert.Alert
	down bool
}

func (r *recorder) Notify(_ context.Context, as []alert.Alert) error {
	if r.down {
		return errors.New("receiver down")
	}
	r.sent = append(r.sent, as)
	return nil
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
	got, err := Silences(ctx, st, store.DefaultTenant, now.Add(time.Hour))
	if err != nil || len(got) != 1 || got[0].Comment != "deploying the fix" || got[0].Matchers["severity"] != "page" || !got[0].EndsAt.Equal(now.Add(2*time.Hour)) {
		t.Fatalf("%+v %v", got, err)
	}
	if got, _ := Silences(ctx, st, store.DefaultTenant, now.Add(3*time.Hour)); len(got) != 0 {
		t.Errorf("an expired silence is in force: %+v", got)
	}

	// A silenced page alert fires (and is recorded) but is not sent; the
	// ticket alert is.
	slo := &SLO{Name: "chat-availability", Service: "chat", Objective: 0.99, Window: TimeWindow{Duration: 30 * day, Rolling: true}, SLI: SLI{Good: "availability"}}
	rules := DefaultAlertWindows(30 * day)
	status := Status{SLO: slo, Burns: []WindowBurn{{Rule: rules[0], Firing: true}, {Rule: rules[2], Firing: true}}}
	rec := &recorder{}
	al := &Alerter{Notifier: rec, Events: st, Silences: st, Interval: time.Minute}
	if err := al.Update(ctx, []Status{status}, nil, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if len(al.Active()) != 2 || len(rec.sent) != 1 || len(rec.sent[0]) != 1 || rec.sent[0][0].Labels["severity"] != "ticket" {
		t.Errorf("active %d, sent %+v", len(al.Active()), rec.sent)
	}
	// After the silence ends the page alert is sent too.
	if err := al.Update(ctx, []Status{status}, nil, now.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if len(rec.sent[1]) != 2 {
		t.Errorf("after the silence: %+v", rec.sent[1])
	}
}
