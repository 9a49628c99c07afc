package dispatch

import (
	"sort"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// entry is an event waiting for one subscriber.
type entry struct {
	ev     store.Event
	queued time.Time // when it first waited: the age MaxAge bounds
}

// queue is one tenant's events for one subscriber, in event time order,
// with one entry per event id. An attempt takes the whole queue, so an
// event never overtakes an older one of the same tenant: a resolution
// cannot reach a receiver before the firing it ends.
type queue struct {
	entries []entry
	tries   int       // failed attempts in a row
	next    time.Time // no attempt before
}

// add queues ev, or refreshes the copy already queued under its id (a
// firing alert re-published with its current annotations).
func (q *queue) add(ev store.Event, now time.Time) (added bool) {
	for i := range q.entries {
		if q.entries[i].ev.ID == ev.ID {
			q.entries[i].ev = ev
			return false
		}
	}
	i := sort.Search(len(q.entries), func(i int) bool { return q.entries[i].ev.Time.After(ev.Time) })
	q.entries = append(q.entries, entry{})
	copy(q.entries[i+1:], q.entries[i:])
	q.entries[i] = entry{ev: ev, queued: now}
	return true
}

// take returns up to n of the oldest entries, leaving them queued.
func (q *queue) take(n int) []entry {
	return append([]entry(nil), q.entries[:min(n, len(q.entries))]...)
}

// remove drops the entries with these ids, answering how many it dropped.
func (q *queue) remove(done []entry) int {
	ids := make(map[string]bool, len(done))
	for _, e := range done {
		ids[e.ev.ID] = true
	}
	kept := q.entries[:0]
	for _, e := range q.entries {
		if !ids[e.ev.ID] {
			kept = append(kept, e)
		}
	}
	n := len(q.entries) - len(kept)
	clear(q.entries[len(kept):])
	q.entries = kept
	return n
}

// dropOldest drops the oldest entry to make room.
func (q *queue) dropOldest() {
	copy(q.entries, q.entries[1:])
	q.entries[len(q.entries)-1] = entry{}
	q.entries = q.entries[:len(q.entries)-1]
}
