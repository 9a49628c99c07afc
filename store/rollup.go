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

// GoodTotal is a window's sums.
type GoodTotal struct{ Good, Total uint64 }

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
	// SumRollupWindows adds up good and total of each of the tenant's SLOs
	// over several windows that all end at end, one per start, in one read:
	// what an evaluation round needs. SLOs without rollups are absent.
	SumRollupWindows(ctx context.Context, tenant string, slos []string, starts []time.Time, end time.Time) (map[string][]GoodTotal, error)
}
