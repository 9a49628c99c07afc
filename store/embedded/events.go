package embedded

import (
	"context"
	"database/sql/driver"

	"github.com/vigil-dev/vigil/store"
)

// WriteEvents appends events not stored yet.
func (s *Store) WriteEvents(ctx context.Context, events []store.Event) error {
	// Copies of an event are identical (its id derives from its content),
	// so which of a batch's copies is written does not matter.
	type key struct{ tenant, id string }
	keep := lastOfEach(len(events), func(i int) key { return key{events[i].Tenant, events[i].ID} })
	return s.appendRows(ctx, "events", "INSERT OR IGNORE INTO events SELECT * FROM appended_data", len(keep), func(i int) []driver.Value {
		e := &events[keep[i]]
		// The attribute columns predate typed payloads; new events leave them empty.
		return []driver.Value{e.Tenant, e.ID, string(e.Kind), e.Type, e.Subject, e.Severity, e.Time.UnixNano(), e.Summary, []string{}, []string{}, e.Payload}
	})
}
