package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

func event(tenant string, kind store.EventKind, subject string, minute int) store.Event {
	at := base.Add(time.Duration(minute) * time.Minute)
	return store.Event{
		Tenant:   tenant,
		ID:       store.EventID(kind, tenant, subject, at.Format(time.RFC3339)),
		Kind:     kind,
		Type:     "slo.burn_rate",
		Subject:  subject,
		Severity: "page",
		Time:     at,
		Summary:  fmt.Sprintf("%s burning at minute %d", subject, minute),
		Payload:  `{"version":1,"data":{"burn_rate":14.4}}`,
	}
}

func testEvents(t *testing.T, s store.Store) {
	c := ctx(t)
	evs := []store.Event{
		event("acme", store.KindAlert, "chat-latency", 1),
		event("acme", store.KindAlert, "chat-latency", 2),
		event("acme", store.KindFinding, "drift-prompts", 3),
		event("acme", store.KindAction, "chat-latency", 4),
		event("globex", store.KindAlert, "chat-latency", 5),
	}
	evs[2].Type = "drift.verdict"
	evs[3].Type, evs[3].Payload = "actions.transition", ""
	if err := s.WriteEvents(c, evs); err != nil {
		t.Fatalf("WriteEvents: %v", err)
	}
	// A retry and a second replica write the same events again.
	if err := s.WriteEvents(c, evs[:2]); err != nil {
		t.Fatalf("WriteEvents again: %v", err)
	}
	if err := s.WriteEvents(c, []store.Event{evs[0], evs[0]}); err != nil {
		t.Fatalf("WriteEvents duplicate in one batch: %v", err)
	}

	all := store.EventQuery{Tenant: "acme", Start: base.Add(-time.Hour), End: base.Add(time.Hour)}
	cases := []struct {
		name string
		q    func(q store.EventQuery) store.EventQuery
		want []store.Event
	}{
		{"all newest first", func(q store.EventQuery) store.EventQuery { return q }, []store.Event{evs[3], evs[2], evs[1], evs[0]}},
		{"kind", func(q store.EventQuery) store.EventQuery { q.Kinds = []store.EventKind{store.KindAlert}; return q }, []store.Event{evs[1], evs[0]}},
		{"kinds", func(q store.EventQuery) store.EventQuery {
			q.Kinds = []store.EventKind{store.KindFinding, store.KindAction}
			return q
		}, []store.Event{evs[3], evs[2]}},
		{"subject", func(q store.EventQuery) store.EventQuery { q.Subjects = []string{"drift-prompts"}; return q }, []store.Event{evs[2]}},
		{"subjects", func(q store.EventQuery) store.EventQuery {
			q.Subjects = []string{"drift-prompts", "chat-latency", "unknown"}
			return q
		}, []store.Event{evs[3], evs[2], evs[1], evs[0]}},
		{"type", func(q store.EventQuery) store.EventQuery { q.Types = []string{"slo.burn_rate"}; return q }, []store.Event{evs[1], evs[0]}},
		{"types and kind", func(q store.EventQuery) store.EventQuery {
			q.Types, q.Kinds = []string{"drift.verdict", "actions.transition"}, []store.EventKind{store.KindAction}
			return q
		}, []store.Event{evs[3]}},
		{"type and subject", func(q store.EventQuery) store.EventQuery {
			q.Types, q.Subjects = []string{"slo.burn_rate", "actions.transition"}, []string{"chat-latency"}
			return q
		}, []store.Event{evs[3], evs[1], evs[0]}},
		{"all tenants", func(q store.EventQuery) store.EventQuery {
			q.Tenant, q.AllTenants, q.Types = "", true, []string{"slo.burn_rate"}
			return q
		}, []store.Event{evs[4], evs[1], evs[0]}},
		{"limit", func(q store.EventQuery) store.EventQuery { q.Limit = 1; return q }, []store.Event{evs[3]}},
		{"time range", func(q store.EventQuery) store.EventQuery {
			q.Start, q.End = base.Add(2*time.Minute), base.Add(4*time.Minute)
			return q
		}, []store.Event{evs[2], evs[1]}},
		{"tenant", func(q store.EventQuery) store.EventQuery { q.Tenant = "globex"; return q }, []store.Event{evs[4]}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Events(c, tc.q(all))
			if err != nil {
				t.Fatalf("Events: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
