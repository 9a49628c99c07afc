package embedded

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// DropBefore deletes the signal's rows of whole days before cutoff's day.
func (s *Store) DropBefore(ctx context.Context, sig store.Signal, cutoff time.Time) error {
	day := store.RetentionDay(cutoff)
	var query string
	var arg any
	switch sig {
	case store.SignalSpans:
		query, arg = `DELETE FROM spans WHERE day < ?`, day
	case store.SignalSamples:
		query, arg = `DELETE FROM metric_samples WHERE day < ?`, day
	case store.SignalRollups:
		query, arg = `DELETE FROM sli_rollups WHERE minute < ?`, day
	case store.SignalLogs:
		query, arg = `DELETE FROM logs WHERE day < ?`, day
	case store.SignalEvents:
		query, arg = `DELETE FROM events WHERE time_ns < ?`, day.UnixNano()
	default:
		return fmt.Errorf("no retention for signal %q", sig)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, err := s.db.ExecContext(ctx, query, arg); err != nil {
		return fmt.Errorf("cannot drop %s before %s: %w", sig, day.Format(time.DateOnly), err)
	}
	switch sig {
	case store.SignalSpans:
		// The trace index's rows of traces whose spans all started
		// before the cutoff's day: those DELETE FROM spans has dropped.
		// After the spans, so that a crash between the two leaves index
		// rows without spans (a look-up finds nothing) and never spans
		// without index rows (a look-up would miss them).
		for _, table := range []string{"trace_runs", "trace_pending"} {
			res, err := s.db.ExecContext(ctx, `DELETE FROM `+table+` WHERE last_ns < ?`, day.UnixNano())
			if err != nil {
				return fmt.Errorf("cannot drop the trace index before %s: %w", day.Format(time.DateOnly), err)
			}
			if n, err := res.RowsAffected(); err == nil && table == "trace_pending" {
				s.pendingTraces -= int(n)
			}
		}
	case store.SignalRollups:
		// The hourly level goes with the minutes it sums.
		if _, err := s.db.ExecContext(ctx, `DELETE FROM sli_rollups_hourly WHERE hour < ?`, day); err != nil {
			return fmt.Errorf("cannot drop hourly rollups before %s: %w", day.Format(time.DateOnly), err)
		}
	}
	return nil
}
