package collector

import "math/rand/v2"

// NewLogID draws a log record's id. Log lines have no identity of their
// own; the id only orders records of the same nanosecond for paging, so
// a random 64-bit number, drawn once at ingest and kept through the
// spool, is enough. 63 bits: database/sql cannot bind a uint64 with the
// high bit set (the embedded store reads through it).
func NewLogID() uint64 { return rand.Uint64() >> 1 }
