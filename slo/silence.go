package slo

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// Silence mutes alerts whose labels match all of its matchers until it
// ends. Silences are stored as action events, so they outlive restarts and
// every replica sees them.
type Silence struct {
	ID        string
	Tenant    string
	Matchers  map[string]string // label = value
	StartsAt  time.Time
	EndsAt    time.Time
	CreatedBy string
	Comment   string
}

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

const silenceType = "alert.silence"

// maxSilence bounds how long a silence may last, and so how far back
// silences are looked for.
const maxSilence = 30 * 24 * time.Hour

// SaveSilence records a silence; its id derives from its content.
func SaveSilence(ctx context.Context, w store.EventWriter, s Silence) (Silence, error) {
	if len(s.Matchers) == 0 {
		return s, fmt.Errorf("a silence needs at least one matcher")
	}
	if !s.EndsAt.After(s.StartsAt) || s.EndsAt.Sub(s.StartsAt) > maxSilence {
		return s, fmt.Errorf("a silence must end after it starts and last at most %s", maxSilence)
	}
	keys := make([]string, 0, len(s.Matchers))
	for k := range s.Matchers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	attrs := store.Attributes{{Key: "ends_at", Value: s.EndsAt.UTC().Format(time.RFC3339Nano)}, {Key: "created_by", Value: s.CreatedBy}}
	parts := []string{s.Tenant, s.StartsAt.UTC().Format(time.RFC3339Nano), s.EndsAt.UTC().Format(time.RFC3339Nano)}
	for _, k := range keys {
		attrs = append(attrs, store.KeyValue{Key: "match." + k, Value: s.Matchers[k]})
		parts = append(parts, k+"="+s.Matchers[k])
	}
	s.ID = store.EventID(store.KindAction, parts...)
	err := w.WriteEvents(ctx, []store.Event{{
		Tenant: s.Tenant, ID: s.ID, Kind: store.KindAction, Type: silenceType, Subject: s.ID, Time: s.StartsAt,
		Summary: s.Comment, Attributes: attrs,
	}})
	return s, err
}

// Silences returns the tenant's silences in force at now.
func Silences(ctx context.Context, r store.EventReader, tenant string, now time.Time) ([]Silence, error) {
	evs, err := r.Events(ctx, store.EventQuery{Tenant: tenant, Kinds: []store.EventKind{store.KindAction}, Start: now.Add(-maxSilence), End: now.Add(time.Second)})
	if err != nil {
		return nil, err
	}
	var out []Silence
	for _, ev := range evs {
		if ev.Type != silenceType {
			continue
		}
		s := Silence{ID: ev.ID, Tenant: tenant, StartsAt: ev.Time, Comment: ev.Summary, Matchers: map[string]string{}}
		for _, kv := range ev.Attributes {
			switch {
			case kv.Key == "ends_at":
				s.EndsAt, _ = time.Parse(time.RFC3339Nano, kv.Value)
			case kv.Key == "created_by":
				s.CreatedBy = kv.Value
			case strings.HasPrefix(kv.Key, "match."):
				s.Matchers[strings.TrimPrefix(kv.Key, "match.")] = kv.Value
			}
		}
		if s.Active(now) {
			out = append(out, s)
		}
	}
	return out, nil
}
