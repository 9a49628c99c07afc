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
	KindDelivery       EventKind = "delivery" // a delivery attempt of the dispatcher
	KindSilence        EventKind = "silence"  // a mute on alerts, created by a person
	KindAudit          EventKind = "audit"    // who logged in, made a token, was refused: package auth's
	KindConfig         EventKind = "config"   // a change of the config directory that must reach another system (a dashboard to push)
)

// Event is an append-only record of something Vigil found, alerted on,
// recommended or did. Its ID is deterministic (see EventID), so a retry or a
// second analyzer replica writing the same event keeps one copy.
//
// What an event says is its Payload: a typed record owned by the package
// that produces it, encoded and decoded only through that package's Codec
// (see Codec). The other fields are what every event has, for listing and
// filtering without knowing the producer.
type Event struct {
	Tenant string
	ID     string
	Kind   EventKind
	// Type names the producer's record, e.g. "slo.alert" or "drift.verdict":
	// the Codec that reads the payload.
	Type string
	// Subject is what the event is about: an SLO, a receiver, a monitor.
	Subject  string
	Severity string
	// Time must be derived from the same inputs as ID (an evaluation tick,
	// not the wall clock), so copies of an event are identical.
	Time    time.Time
	Summary string
	// Payload is the producer's versioned JSON document (Codec.Encode),
	// stored verbatim.
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

// EventQuery selects events with Time in [Start, End). Each list that is
// set narrows the selection to events matching one of its values.
type EventQuery struct {
	Tenant string
	// AllTenants reads every tenant's events, ignoring Tenant. It is for
	// Vigil's own background work (the dispatcher taking up undelivered
	// work after a restart), never for answering a request.
	AllTenants bool
	Kinds      []EventKind
	Types      []string
	Subjects   []string
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
