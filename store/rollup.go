package store

import (
	"context"
	"time"
)

// Rollup is an SLO's good and total event counts for one minute.
type Rollup struct {
	Tenant string
	SLO    string
	Minute time.Time // UTC, truncated to the minute
	Good   uint64
	Total  uint64
}

// RollupQuery selects one SLO's minutes in [Start, End).
type RollupQuery struct {
	Tenant     string
	SLO        string
	Start, End time.Time
}

// RollupWriter writes rollups. A rollup replaces the one stored for the same
// tenant, SLO and minute: the evaluator recomputes recent minutes when late
// data arrives, and two analyzers writing the same minute agree instead of
// adding up.
type RollupWriter interface {
	WriteRollups(ctx context.Context, rollups []Rollup) error
}

// RollupReader reads rollups back.
type RollupReader interface {
	// Rollups returns the stored minutes, ascending.
	Rollups(ctx context.Context, q RollupQuery) ([]Rollup, error)
	// SumRollups adds up good and total over the range.
	SumRollups(ctx context.Context, q RollupQuery) (good, total uint64, err error)
	// SumRollupWindows adds up good and total over several windows that all
	// end at end, one per start, in one read: what an SLO evaluation needs.
	SumRollupWindows(ctx context.Context, tenant, slo string, starts []time.Time, end time.Time) (good, total []uint64, err error)
}
