package analyzer

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// Retention drops data older than each signal's retention period.
type Retention struct {
	Store  store.Retainer
	Period map[store.Signal]time.Duration // a signal without a period is kept forever
}

// Name implements Job.
func (r *Retention) Name() string { return "retention" }

// Run drops, for every signal with a period, the days that ended before
// tick minus the period.
func (r *Retention) Run(ctx context.Context, tick time.Time) error {
	if !Owns(ctx, "retention") { // one replica drops partitions
		return nil
	}
	sigs := make([]store.Signal, 0, len(r.Period))
	for sig := range r.Period {
		sigs = append(sigs, sig)
	}
	sort.Slice(sigs, func(i, j int) bool { return sigs[i] < sigs[j] })
	var errs []error
	for _, sig := range sigs {
		if p := r.Period[sig]; p > 0 {
			if err := r.Store.DropBefore(ctx, sig, tick.Add(-p)); err != nil {
				errs = append(errs, fmt.Errorf("retention of %s: %w", sig, err))
			}
		}
	}
	return errors.Join(errs...)
}
