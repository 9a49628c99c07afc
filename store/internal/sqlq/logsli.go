package sqlq

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// LogSLICounts counts a service's log lines per minute, and those below
// the query's severity (the good ones).
func (r *Reader) LogSLICounts(ctx context.Context, q store.LogSLIQuery) ([]store.MinuteCounts, error) {
	if q.MinSeverity <= 0 {
		return nil, fmt.Errorf("cannot count log SLI events: no severity says which lines are bad")
	}
	var c conds
	c.add("tenant = ?", q.Tenant)
	c.add("service = ?", q.Service)
	c.during(r.d, "timestamp", "time_ns", time.Time.UnixNano, q.Start, q.End)
	// The severity is written into the SELECT list, not bound: it is a
	// number Vigil checked, and the list binds before the WHERE clause.
	good := fmt.Sprintf("severity < %d", int8(q.MinSeverity))
	query := Query{SQL: "SELECT " + r.d.intDiv("time_ns", nanosPerMinute) + " AS minute, " + r.d.countIf(good) + ", count(*)" +
		" FROM logs WHERE " + c.String() + " GROUP BY minute ORDER BY minute", Args: c.args}
	var minute int64
	var m store.MinuteCounts
	return collect(ctx, r, "count log SLI events", query, []any{&minute, &m.Good, &m.Total}, func() (store.MinuteCounts, error) {
		m.Minute = time.Unix(minute*60, 0).UTC()
		return m, nil
	})
}
