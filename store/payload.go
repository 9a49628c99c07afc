package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Codec is the contract between the producer of one type of event and its
// readers. The producer declares it once beside its record type (e.g.
// slo.AlertTransitions for slo.AlertTransition) and builds its events with
// it; every reader decodes through it, never by looking inside the JSON.
//
// A payload is stored as {"version": N, "data": {...}}. Version is the
// schema of T this Vigil writes; a payload of a newer version was written
// by a newer Vigil and is refused rather than misread. A producer changes T
// compatibly (adding fields) or bumps Version and keeps reading the old.
type Codec[T any] struct {
	Kind    EventKind
	Type    string
	Version int
}

type envelope struct {
	Version int             `json:"version"`
	Data    json.RawMessage `json:"data"`
}

// Event completes e (its identity, subject, time and summary set by the
// producer) with the codec's kind and type and v as its payload.
func (c Codec[T]) Event(e Event, v T) (Event, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return Event{}, fmt.Errorf("cannot encode a %s event: %w", c.Type, err)
	}
	payload, err := json.Marshal(envelope{Version: c.Version, Data: data})
	if err != nil {
		return Event{}, fmt.Errorf("cannot encode a %s event: %w", c.Type, err)
	}
	e.Kind, e.Type, e.Payload = c.Kind, c.Type, string(payload)
	return e, nil
}

// PayloadError says an event's payload cannot be read as its type claims.
type PayloadError struct {
	EventID string
	Type    string
	Err     error
}

func (e *PayloadError) Error() string {
	return fmt.Sprintf("event %s (%s): cannot decode its payload: %v", e.EventID, e.Type, e.Err)
}

func (e *PayloadError) Unwrap() error { return e.Err }

// Decode reads the payload of an event of the codec's type. An event of
// another type, or a payload that does not decode, is a *PayloadError
// naming the event, never a zero value.
func (c Codec[T]) Decode(ev Event) (T, error) {
	var v T
	fail := func(format string, args ...any) (T, error) {
		return v, &PayloadError{EventID: ev.ID, Type: ev.Type, Err: fmt.Errorf(format, args...)}
	}
	if ev.Type != c.Type || ev.Kind != c.Kind {
		return fail("it is a %s %s, not a %s %s", ev.Kind, ev.Type, c.Kind, c.Type)
	}
	if ev.Payload == "" {
		return fail("it has none")
	}
	var env envelope
	if err := strictJSON([]byte(ev.Payload), &env); err != nil {
		return fail("%v", err)
	}
	switch {
	case env.Version < 1 || len(env.Data) == 0:
		return fail("no versioned data")
	case env.Version > c.Version:
		return fail("schema version %d is newer than this Vigil reads (%d)", env.Version, c.Version)
	}
	if err := strictJSON(env.Data, &v); err != nil {
		return fail("%v", err)
	}
	return v, nil
}

func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("data after the document")
	}
	return nil
}

// Query narrows q to the codec's events.
func (c Codec[T]) Query(q EventQuery) EventQuery {
	q.Kinds, q.Types = []EventKind{c.Kind}, []string{c.Type}
	return q
}

// Decoded is an event with its payload read.
type Decoded[T any] struct {
	Event Event
	Value T
}

// Read returns the codec's events that q selects, newest first, decoded.
// An event that does not decode is left out and named in the error, which
// joins one *PayloadError per such event: the caller decides whether the
// rest may stand without it.
func (c Codec[T]) Read(ctx context.Context, r EventReader, q EventQuery) ([]Decoded[T], error) {
	evs, err := r.Events(ctx, c.Query(q))
	if err != nil {
		return nil, err
	}
	out := make([]Decoded[T], 0, len(evs))
	var errs []error
	for _, ev := range evs {
		v, err := c.Decode(ev)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, Decoded[T]{Event: ev, Value: v})
	}
	return out, errors.Join(errs...)
}
