package sqlq

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// throughputPercentile is the percentile Throughput reports, P95.
const throughputPercentile = 95

// Throughput counts the spans q selects per minute, with their
// nearest-rank 95th-percentile duration: the ⌈0.95·n⌉-th of the minute's
// sorted durations, picked by index because the databases' own quantile
// functions rank differently from each other (ClickHouse's quantileExact
// takes the ⌊0.95·n⌋-th from 0, one rank above nearest-rank whenever 0.95·n
// is whole). Both hold a minute's durations in memory, as any exact
// percentile must.
func (r *Reader) Throughput(ctx context.Context, q store.ThroughputQuery) ([]store.MinuteThroughput, error) {
	if !q.End.After(q.Start) {
		return nil, fmt.Errorf("cannot read throughput: end %s is not after start %s", q.End, q.Start)
	}
	var c conds
	c.add("tenant = ?", q.Tenant)
	c.add("service = ?", q.Service)
	c.spansStarting(r.d, q.Start, q.End)
	c.equal("operation", q.Operation, "model", q.Model)
	// ⌈p·n/100⌉ in integers; arrays and lists are indexed from 1 in both.
	rank := r.d.intDiv(fmt.Sprintf("%d * count(*) + 99", throughputPercentile), "100")
	query := Query{SQL: "SELECT " + r.d.intDiv("start_ns", nanosPerMinute) + " AS minute, count(*), " + r.d.nthSmallest("duration_ns", rank) +
		" FROM spans WHERE " + c.String() + " GROUP BY minute ORDER BY minute", Args: c.args}
	var minute, p95 int64
	var t store.MinuteThroughput
	return collect(ctx, r, "read throughput", query, []any{&minute, &t.Requests, &p95}, func() (store.MinuteThroughput, error) {
		t.Minute, t.P95 = time.Unix(minute*60, 0).UTC(), time.Duration(p95)
		return t, nil
	})
}
