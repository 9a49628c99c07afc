package store

import (
	"context"
	"time"
)

// Rollup is an SLO's good and total events in one minute. They are whole
// numbers for SLIs that count spans or counter increases, and fractional
// for SLIs read from PromQL rates (60 × a rate of 0.35/s is 21 events) or
// precomputed ratios: rounding those to whole events would lose a
// low-traffic service's errors altogether.
type Rollup struct {
	Tenant string
	SLO    string
	Minute time.Time // UTC, truncated to the minute
	Good   float64
	Total  float64
}

// RollupQuery selects one SLO's minutes in [Start, End).
type RollupQuery struct {
	Tenant     string
	SLO        string
	Start, End time.Time
}

// GoodTotal is a window's sums.
type GoodTotal struct{ Good, Total float64 }

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
	SumRollups(ctx context.Context, q RollupQuery) (good, total float64, err error)
	// SumRollupWindows adds up good and total of each of the tenant's SLOs
	// over several windows that all end at end, one per start, in one read:
	// what an evaluation round needs. SLOs without rollups are absent.
	SumRollupWindows(ctx context.Context, tenant string, slos []string, starts []time.Time, end time.Time) (map[string][]GoodTotal, error)
}

// TenantRollupReader reads the minutes of all of a tenant's SLOs in one
// read: what an analyzer that keeps its SLOs' window sums in memory needs
// to start, and to learn the minutes that leave its longest windows.
type TenantRollupReader interface {
	// TenantRollups calls fn with the stored minutes of every SLO of the
	// tenant in [start, end), in no particular order. fn must not keep
	// the pointer: the next row overwrites it.
	TenantRollups(ctx context.Context, tenant string, start, end time.Time, fn func(*Rollup) error) error
}
