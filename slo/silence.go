package slo

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// Silence mutes alerts whose labels match all of its matchers until it
// ends: the record of slo.silence events, so silences outlive restarts and
// every replica sees them.
type Silence struct {
	ID        string            `json:"-"`        // the event's
	Tenant    string            `json:"-"`        // the event's
	Matchers  map[string]string `json:"matchers"` // label = value
	StartsAt  time.Time         `json:"starts_at"`
	EndsAt    time.Time         `json:"ends_at"`
	CreatedBy string            `json:"created_by"`
	Comment   string            `json:"comment"`
}

// Silences is the codec of silence events.
var Silences = store.Codec[Silence]{Kind: store.KindSilence, Type: "slo.silence", Version: 1}

// Matches reports whether the silence mutes an alert with these labels.
func (s Silence) Matches(labels map[string]string) bool {
	for k, v := range s.Matchers {
		if labels[k] != v {
			return false
		}
	}
	return len(s.Matchers) > 0
}

// Active reports whether the silence is in force at t.
func (s Silence) Active(t time.Time) bool { return !t.Before(s.StartsAt) && t.Before(s.EndsAt) }

// maxSilence bounds how long a silence may last, and so how far back
// silences are looked for.
const maxSilence = 30 * 24 * time.Hour

// InvalidSilenceError says what is wrong with a silence asked for.
type InvalidSilenceError struct{ Reason string }

func (e *InvalidSilenceError) Error() string { return e.Reason }

// SaveSilence records a silence; its id derives from its content.
func SaveSilence(ctx context.Context, w store.EventWriter, s Silence) (Silence, error) {
	if len(s.Matchers) == 0 {
		return s, &InvalidSilenceError{"a silence needs at least one matcher"}
	}
	if !s.EndsAt.After(s.StartsAt) || s.EndsAt.Sub(s.StartsAt) > maxSilence {
		return s, &InvalidSilenceError{fmt.Sprintf("a silence must end after it starts and last at most %s", maxSilence)}
	}
	s.StartsAt, s.EndsAt = s.StartsAt.UTC(), s.EndsAt.UTC()
	parts := []string{s.Tenant, s.StartsAt.Format(time.RFC3339Nano), s.EndsAt.Format(time.RFC3339Nano)}
	for _, k := range slices.Sorted(maps.Keys(s.Matchers)) {
		parts = append(parts, k+"="+s.Matchers[k])
	}
	s.ID = store.EventID(store.KindSilence, parts...)
	ev, err := Silences.Event(store.Event{Tenant: s.Tenant, ID: s.ID, Subject: s.ID, Time: s.StartsAt, Summary: s.Comment}, s)
	if err != nil {
		return s, err
	}
	return s, w.WriteEvents(ctx, []store.Event{ev})
}

// ActiveSilences returns the tenant's silences in force at now. A silence
// event that does not decode is named in the error, beside the others.
func ActiveSilences(ctx context.Context, r store.EventReader, tenant string, now time.Time) ([]Silence, error) {
	evs, err := Silences.Read(ctx, r, store.EventQuery{Tenant: tenant, Start: now.Add(-maxSilence), End: now.Add(time.Second)})
	var out []Silence
	for _, ev := range evs {
		s := ev.Value
		s.ID, s.Tenant = ev.Event.ID, ev.Event.Tenant
		if s.Active(now) {
			out = append(out, s)
		}
	}
	return out, err
}
