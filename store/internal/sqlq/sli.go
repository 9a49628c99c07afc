package sqlq

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// SLICounts counts an indicator's good and total spans per minute.
func (r *Reader) SLICounts(ctx context.Context, q store.SLIQuery) ([]store.MinuteCounts, error) {
	var c conds
	c.add("tenant = ?", q.Tenant)
	c.add("service = ?", q.Service)
	c.spansStarting(r.d, q.Start, q.End)
	c.equal("operation", q.Operation, "model", q.Model)
	for _, k := range q.SortedAttributeKeys() {
		cond, args := attrEquals(r.d, k, q.Attributes[k])
		c.add(cond, args...)
	}
	var good string
	var goodArgs []any // the SELECT list binds before the WHERE clause
	switch q.Good {
	case "latency":
		good = fmt.Sprintf("duration_ns <= %d", int64(q.Latency))
	case "availability":
		good = "NOT (" + failed + ")"
	case "attribute":
		op := store.SQLOp(q.Op)
		if op == "" {
			return nil, fmt.Errorf("cannot count SLI events: unknown comparison %q", q.Op)
		}
		// Spans without a number there are not events at all.
		value := r.d.tryCast(r.d.lookup("attr_keys", "attr_values", "?"), typeFloat64)
		c.add(value+" IS NOT NULL", q.Attribute)
		good, goodArgs = value+" "+op+" "+strconv.FormatFloat(q.Threshold, 'g', -1, 64), []any{q.Attribute}
	default:
		return nil, fmt.Errorf("cannot count SLI events: unknown kind of good event %q", q.Good)
	}
	query := Query{SQL: "SELECT " + r.d.intDiv("start_ns", nanosPerMinute) + " AS minute, " + r.d.countIf(good) + ", count(*)" +
		" FROM spans WHERE " + c.String() + " GROUP BY minute ORDER BY minute", Args: append(goodArgs, c.args...)}
	var minute int64
	var m store.MinuteCounts
	return collect(ctx, r, "count SLI events", query, []any{&minute, &m.Good, &m.Total}, func() (store.MinuteCounts, error) {
		m.Minute = time.Unix(minute*60, 0).UTC()
		return m, nil
	})
}
