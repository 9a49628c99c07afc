package sqlq

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// Events returns matching events, newest first (ties by id). ClickHouse
// keeps one row per id once its background merges run; FINAL reads as if
// they had.
func (r *Reader) Events(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	var c conds
	r.d.prune(&c, "time", q.Start, q.End)
	c.add("time_ns >= ? AND time_ns < ?", q.Start.UnixNano(), q.End.UnixNano())
	if !q.AllTenants {
		c.add("tenant = ?", q.Tenant)
	}
	kinds := make([]string, len(q.Kinds))
	for i, k := range q.Kinds {
		kinds[i] = string(k)
	}
	c.in("kind", kinds)
	c.in("type", q.Types)
	c.in("subject", q.Subjects)
	sql := "SELECT tenant, id, kind, type, subject, severity, time_ns, summary, payload FROM " + r.d.final("events") +
		" WHERE " + c.String() + " ORDER BY time_ns DESC, id"
	if q.Limit > 0 {
		sql += " LIMIT " + strconv.Itoa(q.Limit)
	}
	var e store.Event
	var kind string
	var ns int64
	dest := []any{&e.Tenant, &e.ID, &kind, &e.Type, &e.Subject, &e.Severity, &ns, &e.Summary, &e.Payload}
	return collect(ctx, r, "read events", Query{SQL: sql, Args: c.args}, dest, func() (store.Event, error) {
		e.Kind, e.Time = store.EventKind(kind), time.Unix(0, ns).UTC()
		return e, nil
	})
}

// in appends "column IN (?, ...)", one argument a value, when values are
// set: an IN list uses ClickHouse 18.16's primary key where has(array,
// column) would not.
func (c *conds) in(column string, values []string) {
	if len(values) == 0 {
		return
	}
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	c.add(column+" IN (?"+strings.Repeat(", ?", len(values)-1)+")", args...)
}
