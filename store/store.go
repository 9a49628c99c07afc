// Package store owns Vigil's domain rows (spans, metric series and samples,
// FOCUS-shaped cost lines, per-minute SLI rollups and events) and the small
// interfaces through which every other package reads and writes them.
//
// Two backends implement every interface: store/clickhouse (the store of
// record) and store/embedded (DuckDB, the default for one machine). The
// conformance suite in store/storetest holds both to the same answers.
//
// Write contract, for every Write* method: the call is one batch. When it
// returns nil the rows are durable in the backend and visible to readers;
// when it returns an error none of the batch may be assumed written, and the
// caller may retry the whole batch (rows with identities — cost lines,
// rollups, events — are idempotent; spans and samples are not, so the
// collector spools instead of retrying blindly). Writers never retain the
// slices they are given. All methods are safe for concurrent use.
//
// Tenancy: every row and every query carries a tenant; a query never returns
// another tenant's rows.
//
// Events are the contract between Vigil's packages: what an evaluator
// concludes, an action does, a dispatcher delivers. The store keeps an
// event's typed payload verbatim and never looks inside it; the package
// that produces an event type owns its record and declares a Codec, and
// every reader decodes through that codec (see payload.go). Readers select
// events by kind, type and subject in the store, never by decoding and
// filtering. The config directory (package config) is not the store's:
// what is configured lives in files, what happened lives here.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultTenant is the tenant of data that arrives without X-Scope-OrgID.
const DefaultTenant = "default"

// ErrNotFound is returned (wrapped) when a lookup by identity finds nothing.
var ErrNotFound = errors.New("not found")

// ErrLocked is returned (wrapped) when a store cannot be opened because
// another process holds it: the embedded store's file is open in one
// process at a time.
var ErrLocked = errors.New("store is locked by another process")

// Store is everything a backend provides. Consumers should depend on the
// smaller interfaces below, or declare their own.
type Store interface {
	SpanWriter
	SpanReader
	LogWriter
	LogReader
	LogSLIReader
	SpanExemplarReader
	SpanRepricer
	UsageReader
	SLIReader
	DurationReader
	SpanValueReader
	ThroughputReader
	SpanStatsReader
	TraceSummaryReader
	MetricWriter
	MetricReader
	MetricQuerier
	CostWriter
	CostReader
	RollupWriter
	RollupReader
	TenantRollupReader
	HourlyRollups
	SLOsRollupReader
	EventWriter
	EventReader
	Members
	Retainer
	Credentials
	// Ping reports whether the backend answers.
	Ping(ctx context.Context) error
	// Close releases connections; the store must not be used afterwards.
	Close() error
}

// HourlyRollup is an SLO's good and total over one UTC hour: the sum of its
// stored minutes, kept once they can no longer change, so a month's window
// is read as 720 rows instead of 43,200 (issue 19).
type HourlyRollup struct {
	Tenant string
	SLO    string
	Hour   time.Time // UTC, on the hour
	Good   float64
	Total  float64
}

// HourlyRollups is the hourly level over the per-minute rollups. The store
// does not derive it: its writer (the SLO evaluator) keeps each row equal
// to the sum of the hour's stored minutes, and a reader takes an hour
// without a row from its minutes. Retention drops it with the minutes
// (SignalRollups).
type HourlyRollups interface {
	// WriteHourlyRollups writes hours; a row replaces the one stored for
	// the same tenant, SLO and hour, as minutes do. An hour that is not
	// on the hour is an error.
	WriteHourlyRollups(ctx context.Context, hours []HourlyRollup) error
	// TenantHourlyRollups calls fn with the stored hours of every SLO of
	// the tenant in [start, end), in no particular order. fn must not keep
	// the pointer: the next row overwrites it.
	TenantHourlyRollups(ctx context.Context, tenant string, start, end time.Time, fn func(*HourlyRollup) error) error
	// SumRollupHours calls fn with the sum of each SLO's stored minutes in
	// every hour of [start, end) that has any, in no particular order:
	// what an hourly row of those minutes holds.
	SumRollupHours(ctx context.Context, tenant string, slos []string, start, end time.Time, fn func(*HourlyRollup) error) error
}

// SLOsRollupReader reads the minutes of some of a tenant's SLOs in one
// read: an analyzer keeping running window sums reads the hour that will
// next leave its long windows a share of SLOs per tick, rather than the
// whole tenant's hour at the tick the windows reach it.
type SLOsRollupReader interface {
	// SLOsRollups calls fn with the stored minutes of the named SLOs of
	// the tenant in [start, end), in no particular order. fn must not keep
	// the pointer: the next row overwrites it.
	SLOsRollups(ctx context.Context, tenant string, slos []string, start, end time.Time, fn func(*Rollup) error) error
}

// CheckHours returns an error naming the first hour that is not on the
// hour: backends refuse such a batch whole.
func CheckHours(hours []HourlyRollup) error {
	for i, h := range hours {
		if !h.Hour.Equal(h.Hour.Truncate(time.Hour)) {
			return fmt.Errorf("hourly rollup %d (%s/%s): %s is not on the hour", i, h.Tenant, h.SLO, h.Hour.UTC().Format(time.RFC3339Nano))
		}
	}
	return nil
}

// Signal names a time-partitioned kind of data for retention.
type Signal string

const (
	SignalSpans   Signal = "spans"
	SignalSamples Signal = "samples"
	SignalRollups Signal = "rollups"
	SignalEvents  Signal = "events"
	SignalLogs    Signal = "logs"
)

// Signals lists every signal that retention applies to.
var Signals = []Signal{SignalSpans, SignalSamples, SignalRollups, SignalEvents, SignalLogs}

// Retainer drops old data. Cost lines are billing records and are never
// dropped by retention.
type Retainer interface {
	// DropBefore removes every whole UTC day of the signal's data that ends
	// at or before cutoff; the day containing cutoff is kept. On ClickHouse
	// this drops daily partitions, never row by row.
	DropBefore(ctx context.Context, s Signal, cutoff time.Time) error
}

// dayStart returns the UTC midnight at or before t.
func dayStart(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// RetentionDay is the first UTC day DropBefore keeps for cutoff; backends
// share it so both drop the same days.
func RetentionDay(cutoff time.Time) time.Time { return dayStart(cutoff) }

// SchemaTooNewError says a database was migrated by a newer Vigil than this
// one, which must not write to it.
type SchemaTooNewError struct {
	Database string
	Version  int // the database's schema version
	Known    int // the newest version this Vigil knows
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("database %s has schema version %d, newer than this Vigil knows (%d): upgrade Vigil, or point it at another database", e.Database, e.Version, e.Known)
}
