package actions

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/alert"
	"github.com/vigil-dev/vigil/dispatch"
	"github.com/vigil-dev/vigil/store"
)

type notifier struct {
	got    []alert.Alert
	status int
	err    error
}

func (n *notifier) Name() string   { return "test" }
func (n *notifier) Target() string { return "http://receiver" }
func (n *notifier) Notify(ctx context.Context, alerts []alert.Alert) (int, error) {
	n.got = append(n.got, alerts...)
	return n.status, n.err
}

// A failed action pages through the receiver; a refusal is final, a
// receiver that is down is retried.
func TestEscalation(t *testing.T) {
	failed, err := Transition{Action: "a1", Policy: "rollback-chat", State: Failed, Reason: "SLO still burns",
		Target: Target{Executor: Kubernetes, Kind: "Deployment", Namespace: "llm", Name: "chat"}}.event("acme", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	n := &notifier{status: 200}
	s := &Escalation{Notifier: n}
	if !s.Accepts(failed) {
		t.Fatal("a failure is not taken")
	}
	if _, err := s.Deliver(context.Background(), "acme", []store.Event{failed}); err != nil {
		t.Fatal(err)
	}
	l := n.got[0].Labels
	if l["alertname"] != AlertName || l["policy"] != "rollback-chat" || l["target"] != "Deployment llm/chat" || n.got[0].Annotations["description"] != "SLO still burns" {
		t.Errorf("alert %+v", n.got[0])
	}
	n.status, n.err = 400, errors.New("bad request")
	if _, err := s.Deliver(context.Background(), "acme", []store.Event{failed}); !dispatch.IsPermanent(err) {
		t.Errorf("a refusal: %v", err)
	}
	n.status, n.err = 503, errors.New("down")
	if _, err := s.Deliver(context.Background(), "acme", []store.Event{failed}); err == nil || dispatch.IsPermanent(err) {
		t.Errorf("a receiver down: %v", err)
	}
}
