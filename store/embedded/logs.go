package embedded

import (
	"context"
	"database/sql/driver"
	"fmt"

	"github.com/vigil-dev/vigil/store"
)

// WriteLogs appends log records with the words of their bodies.
func (s *Store) WriteLogs(ctx context.Context, logs []store.LogRecord) error {
	rows := make([][]driver.Value, len(logs))
	for i := range logs {
		r := &logs[i]
		if err := store.ValidateLog(r); err != nil {
			return fmt.Errorf("log record %d: %w", i, err)
		}
		rk, rv := r.Resource.Split()
		ak, av := r.Attributes.Split()
		tokens := store.Tokens(r.Body)
		if tokens == nil {
			tokens = []string{}
		}
		// In the order of the schema's columns.
		rows[i] = []driver.Value{
			r.Tenant, dayOf(r.Time()), r.TimeUnixNano, r.ObservedUnixNano, r.ID, r.Service,
			int8(r.Severity), r.SeverityText, r.Body, r.TraceID[:], r.SpanID[:], r.ScopeName,
			rk, rv, ak, av, tokens,
		}
	}
	return s.appendRows(ctx, "logs", "", len(rows), func(i int) []driver.Value { return rows[i] })
}
