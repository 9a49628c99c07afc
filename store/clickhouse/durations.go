package clickhouse

import (
	"context"
	"fmt"
	"strings"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/internal/codec"
)

// SpanDurations reads the durations of the spans q selects, at most
// q.DurationLimit() of them (the smallest span ids), with exact counts of
// all matching spans and errors.
func (s *Store) SpanDurations(ctx context.Context, q store.DurationQuery) (store.Durations, error) {
	if !q.End.After(q.Start) {
		return store.Durations{}, fmt.Errorf("cannot read span durations: end %s is not after start %s", q.End, q.Start)
	}
	from, to := secondsRange(q.Start, q.End)
	// timestamp bounds the partitions read; start_ns is the exact range.
	where := []string{"tenant = ?", "timestamp >= ?", "timestamp <= ?", "start_ns >= ?", "start_ns < ?"}
	args := []any{q.Tenant, from, to, q.Start.UnixNano(), q.End.UnixNano()}
	where, args = codec.Equal(where, args, "service", q.Service, "operation", q.Operation, "model", q.Model, "model_version", q.ModelVersion, "deployment", q.Deployment)
	cond := strings.Join(where, " AND ")
	var out store.Durations
	// Counts and samples are two reads: spans written between them can
	// make the samples a little younger than the counts, which a
	// statistical comparison does not notice.
	if err := s.conn.QueryRow(ctx, `SELECT count(), countIf(status_code = 2) FROM spans WHERE `+cond, args...).Scan(&out.Spans, &out.Errors); err != nil {
		return store.Durations{}, fmt.Errorf("cannot count span durations: %w", err)
	}
	if out.Spans == 0 {
		return out, nil
	}
	rows, err := s.conn.Query(ctx, `SELECT duration_ns, status_code FROM spans WHERE `+cond+
		fmt.Sprintf(` ORDER BY span_id, trace_id, start_ns LIMIT %d`, q.DurationLimit()), args...)
	if err != nil {
		return store.Durations{}, fmt.Errorf("cannot read span durations: %w", err)
	}
	defer rows.Close()
	out.Samples = make([]store.DurationSample, 0, min(out.Spans, uint64(q.DurationLimit())))
	for rows.Next() {
		var d int64
		var code int8
		if err := rows.Scan(&d, &code); err != nil {
			return store.Durations{}, fmt.Errorf("cannot read span durations: %w", err)
		}
		out.Samples = append(out.Samples, store.DurationSample{Nanos: d, Error: store.StatusCode(code) == store.StatusError})
	}
	if err := rows.Err(); err != nil {
		return store.Durations{}, fmt.Errorf("cannot read span durations: %w", err)
	}
	return out, nil
}
