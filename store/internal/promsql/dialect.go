package promsql

import (
	"math"
	"time"
)

// Dialect is what differs between ClickHouse's SQL and DuckDB's in these
// reads. Its methods are unexported: ClickHouse and DuckDB are the only two.
type Dialect interface {
	// lookup is the value of the series label named by the one argument,
	// '' when the series lacks it: labels are parallel key and value arrays.
	lookup() string
	// has is true when the series has the label named by the one argument.
	has() string
	// match is true when expr matches the pattern argument; the pattern
	// anchors itself. Both backends use RE2, the syntax and semantics Go's
	// regexp (and so Prometheus) has.
	match(expr string) string
	// allKeys yields, one row each, __name__ and every label name of a
	// series.
	allKeys() string
	// seriesTable reads metric_series with one row per series.
	seriesTable() string
	// window is the condition on metric_samples for [minT, maxT] in Unix
	// milliseconds, with its arguments.
	window(minT, maxT int64) (string, []any)
}

// ClickHouse is the SQL of every ClickHouse from 18.16.
var ClickHouse Dialect = clickHouse{}

// DuckDB is the embedded store's SQL.
var DuckDB Dialect = duckDB{}

type clickHouse struct{}

// lookup relies on indexOf being 0 for a missing key, and element 0 of an
// array being the type's default, ”.
func (clickHouse) lookup() string           { return "label_values[indexOf(label_keys, ?)]" }
func (clickHouse) has() string              { return "has(label_keys, ?)" }
func (clickHouse) match(expr string) string { return "match(" + expr + ", ?)" }
func (clickHouse) allKeys() string          { return "arrayJoin(arrayPushFront(label_keys, '__name__'))" }
func (clickHouse) seriesTable() string      { return "metric_series FINAL" }
func (clickHouse) window(minT, maxT int64) (string, []any) {
	// The DateTime column prunes partitions and the primary key; ts_ms is
	// the exact bound.
	return "timestamp >= ? AND timestamp <= ? AND ts_ms >= ? AND ts_ms <= ?",
		[]any{dateTime(floorDiv(minT, 1000)), dateTime(-floorDiv(-maxT, 1000)), minT, maxT}
}

// dateTime is a DateTime argument for Unix seconds, clamped to the range a
// DateTime holds (1970 to 2106): an open API range asks for far beyond it.
func dateTime(sec int64) time.Time {
	return time.Unix(min(max(sec, 0), math.MaxUint32), 0).UTC()
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

type duckDB struct{}

// lookup: list_position is NULL for a missing key, and so is the element.
func (duckDB) lookup() string           { return "coalesce(label_values[list_position(label_keys, ?)], '')" }
func (duckDB) has() string              { return "list_contains(label_keys, ?)" }
func (duckDB) match(expr string) string { return "regexp_matches(" + expr + ", ?)" }
func (duckDB) allKeys() string          { return "unnest(list_prepend('__name__', label_keys))" }

// seriesTable: the primary key already keeps one row per series.
func (duckDB) seriesTable() string { return "metric_series" }

// window: DuckDB's min-max index of each row group on ts_ms does the
// skipping.
func (duckDB) window(minT, maxT int64) (string, []any) {
	return "ts_ms >= ? AND ts_ms <= ?", []any{minT, maxT}
}
