package dispatch

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// recoverUndelivered queues again, for each subscriber and tenant, the
// events of its types over MaxAge that it accepts, that no final attempt
// carried, and that are no older than the newest event a final attempt
// did carry. Attempts take a tenant's queue oldest first, so anything older
// than that was delivered or given up; what is newer and unsettled was
// published and never delivered (the process stopped, or its queue
// overflowed).
func (d *Dispatcher) recoverUndelivered(ctx context.Context, now time.Time) error {
	d.mu.RLock()
	workers := d.workers
	d.mu.RUnlock()
	var types []string
	for _, w := range workers {
		w.mu.Lock()
		wtypes := w.types
		w.mu.Unlock()
		for _, t := range wtypes {
			if !slices.Contains(types, t) {
				types = append(types, t)
			}
		}
	}
	from, to := now.Add(-d.opts.MaxAge), now.Add(time.Minute)
	events, err := d.opts.Store.Events(ctx, store.EventQuery{AllTenants: true, Types: types, Start: from, End: to})
	if err != nil {
		return fmt.Errorf("cannot read events to deliver: %w", err)
	}
	if len(events) == 0 {
		return nil
	}
	// Attempts made up to now, from a little before the oldest event they
	// may carry.
	log, err := Deliveries.Read(ctx, d.opts.Store, store.EventQuery{AllTenants: true, Start: from, End: to})
	if err != nil {
		return fmt.Errorf("cannot read the delivery log: %w", err)
	}
	when := make(map[string]time.Time, len(events))
	for _, ev := range events {
		when[ev.Tenant+"\x00"+ev.ID] = ev.Time
	}
	type key struct{ subscriber, tenant string }
	settled := map[key]map[string]bool{}
	newest := map[key]time.Time{}
	for _, rec := range log {
		if !rec.Value.Outcome.final() {
			continue
		}
		k := key{rec.Value.Subscriber, rec.Event.Tenant}
		if settled[k] == nil {
			settled[k] = map[string]bool{}
		}
		for _, id := range rec.Value.Events {
			settled[k][id] = true
			if t, ok := when[k.tenant+"\x00"+id]; ok && t.After(newest[k]) {
				newest[k] = t
			}
		}
	}
	for _, w := range workers {
		n := 0
		for i := len(events) - 1; i >= 0; i-- { // oldest first
			ev := events[i]
			k := key{w.name, ev.Tenant}
			if settled[k][ev.ID] || ev.Time.Before(newest[k]) || !w.wants(ev) {
				continue
			}
			w.add(ev, now)
			n++
		}
		if n > 0 {
			d.opts.Logger.Info("taking up undelivered events", "subscriber", w.name, "events", n)
		}
	}
	return nil
}
