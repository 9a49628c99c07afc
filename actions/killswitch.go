package actions

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// Pause is the kill switch turned on or off: the record of actions.pause
// events. The newest one, across every tenant, is the switch's state.
type Pause struct {
	Paused bool   `json:"paused"`
	Actor  string `json:"actor"`
	Reason string `json:"reason,omitempty"`
}

// Pauses is the codec of the kill switch's events.
var Pauses = store.Codec[Pause]{Kind: store.KindAction, Type: "actions.pause", Version: 1}

// killSwitch is the subject of the kill switch's events.
const killSwitch = "kill-switch"

// Pause stops every action at once: from now on nothing executes or
// reverts (approved actions wait, and expire if the pause outlasts their
// approval); proposals and verifications go on. It is global: the event
// is recorded in the default tenant and read across all.
func (e *Engine) Pause(ctx context.Context, actor, reason string) error {
	return e.setPaused(ctx, Pause{Paused: true, Actor: actor, Reason: reason})
}

// Resume lets actions execute again.
func (e *Engine) Resume(ctx context.Context, actor, reason string) error {
	return e.setPaused(ctx, Pause{Paused: false, Actor: actor, Reason: reason})
}

func (e *Engine) setPaused(ctx context.Context, p Pause) error {
	at := e.now()
	// The newest event is the state: a flip is recorded after the one
	// before, even when the clocks say otherwise.
	if prev, err := Pauses.Read(ctx, e.opts.Store, switchQuery(at)); err == nil && len(prev) > 0 && !at.After(prev[0].Event.Time) {
		at = prev[0].Event.Time.Add(time.Millisecond)
	}
	verb := map[bool]string{true: "paused", false: "resumed"}[p.Paused]
	ev, err := Pauses.Event(store.Event{Tenant: store.DefaultTenant,
		ID:      store.EventID(store.KindAction, killSwitch, at.Format(time.RFC3339Nano), verb, p.Actor),
		Subject: killSwitch, Severity: "warning", Time: at, Summary: fmt.Sprintf("actions %s by %s: %s", verb, p.Actor, p.Reason)}, p)
	if err != nil {
		return err
	}
	if err := e.opts.Store.WriteEvents(ctx, []store.Event{ev}); err != nil {
		return fmt.Errorf("cannot record the kill switch: %w", err)
	}
	return nil
}

// Paused reports whether the kill switch is on (the flag, or the stored
// state) and the event that turned it on.
func (e *Engine) Paused(ctx context.Context) (bool, Pause, error) {
	ks, err := e.KillSwitch(ctx)
	return ks.Paused, Pause{Paused: ks.Paused, Actor: ks.Actor, Reason: ks.Reason}, err
}

// KillSwitch reports the kill switch: on by the flag, or as its newest
// stored event left it.
func (e *Engine) KillSwitch(ctx context.Context) (KillSwitch, error) {
	if e.opts.Paused {
		return KillSwitch{Paused: true, Flag: true, Actor: "vigil", Reason: "--actions.paused"}, nil
	}
	recs, err := Pauses.Read(ctx, e.opts.Store, switchQuery(e.now()))
	if len(recs) == 0 {
		// Unreadable is paused: the switch must stop everything when the
		// store cannot say it is off.
		if err != nil {
			return KillSwitch{Paused: true}, fmt.Errorf("cannot read the kill switch: %w", err)
		}
		return KillSwitch{}, nil
	}
	p, at := recs[0].Value, recs[0].Event.Time
	return KillSwitch{Paused: p.Paused, Actor: p.Actor, Reason: p.Reason, Since: &at}, nil
}

// switchQuery reads the newest kill switch event, over all of time: a
// pause holds until someone resumes.
func switchQuery(now time.Time) store.EventQuery {
	return store.EventQuery{AllTenants: true, Subjects: []string{killSwitch}, Start: time.Unix(0, 0), End: now.Add(24 * time.Hour), Limit: 1}
}
