package actions

import (
	"context"
	"testing"

	"github.com/vigil-dev/vigil/analyzer/canary"
	"github.com/vigil-dev/vigil/store"
)

// TestWatch: a watcher of an action hears of its approval and of the
// execution's transitions, which the dispatcher never carries (only
// recorded), and not of another action's; after stop it hears nothing.
func TestWatch(t *testing.T) {
	r := newRig(t, Approve)
	r.verdict(canary.VerdictFail)
	a := r.only()
	changed, stop := r.e.Watch(store.DefaultTenant, a.ID)
	other, stopOther := r.e.Watch(store.DefaultTenant, "another")
	defer stopOther()
	heard := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	if heard(changed) {
		t.Fatal("heard before anything was recorded")
	}
	if _, err := r.e.Approve(context.Background(), "", a.ID, Decision{Actor: "ann", Version: a.Version}); err != nil {
		t.Fatal(err)
	}
	if !heard(changed) {
		t.Error("the approval was not heard")
	}
	r.verdict(canary.VerdictFail)
	r.pub.take() // what the dispatcher carried: the approval only
	if _, err := r.e.drive(context.Background(), store.DefaultTenant, r.only().Timeline[1].Transition); err != nil {
		t.Fatal(err)
	}
	if got := states(r.only()); got != "proposed/vigil approved/ann executing/vigil verifying/vigil" {
		t.Fatalf("timeline %s", got)
	}
	if !heard(changed) {
		t.Error("executing and verifying were not heard")
	}
	if heard(other) {
		t.Error("another action's watcher heard this one")
	}
	stop()
	r.clock.add(11 * 60e9)
	r.tick()
	if a := r.only(); !a.State.Final() {
		t.Fatalf("the verification recorded nothing: %s", states(a))
	}
	if heard(changed) {
		t.Error("heard after stop")
	}
}
