package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// EventKind says what an event records.
type EventKind string

const (
	KindFinding        EventKind = "finding"
	KindAlert          EventKind = "alert"
	KindRecommendation EventKind = "recommendation"
	KindAction         EventKind = "action"
	KindDelivery       EventKind = "delivery" // a notification delivery attempt
)

// Event is an append-only record of something Vigil found, alerted on,
// recommended or did. Its ID is deterministic (see EventID), so a retry or a
// second analyzer replica writing the same event keeps one copy.
type Event struct {
	Tenant string
	ID     string
	Kind   EventKind
	// Type names the producer's own kind, e.g. "slo.burn_rate" or "drift".
	Type string
	// Subject is what the event is about: an SLO, a workload, a monitor.
	Subject  string
	Severity string
	// Time must be derived from the same inputs as ID (an evaluation tick,
	// not the wall clock), so copies of an event are identical.
	Time       time.Time
	Summary    string
	Attributes Attributes
	// Payload is the producer's JSON document, stored verbatim.
	Payload string
}

// EventID derives an event id from its kind and the parts that identify it.
func EventID(kind EventKind, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(kind))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// EventQuery selects events with Time in [Start, End).
type EventQuery struct {
	Tenant     string
	Kinds      []EventKind // none means every kind
	Subject    string
	Start, End time.Time
	Limit      int // 0 means no limit
}

// EventWriter appends events; an event whose tenant and id are stored
// already is not stored again.
type EventWriter interface {
	WriteEvents(ctx context.Context, events []Event) error
}

// EventReader reads events back, newest first (ties by id).
type EventReader interface {
	Events(ctx context.Context, q EventQuery) ([]Event, error)
}
