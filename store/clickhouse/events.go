package clickhouse

import (
	"context"

	"github.com/vigil-dev/vigil/store"
)

// WriteEvents inserts events; ReplacingMergeTree keeps one per id, and
// readers use FINAL.
func (s *Store) WriteEvents(ctx context.Context, events []store.Event) error {
	return s.insert(ctx, "events", "tenant, id, time, time_ns, kind, type, subject, severity, summary, attr_keys, attr_values, payload", len(events), func(i int) ([]any, error) {
		e := &events[i]
		// The attribute columns predate typed payloads; new events leave them empty.
		return []any{e.Tenant, e.ID, dateTime(e.Time), e.Time.UnixNano(), string(e.Kind), e.Type, e.Subject, e.Severity, e.Summary, []string{}, []string{}, e.Payload}, nil
	})
}
