package store

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type verdict struct {
	Monitor string  `json:"monitor"`
	Score   float64 `json:"score"`
}

var verdicts = Codec[verdict]{Kind: KindFinding, Type: "test.verdict", Version: 2}

func TestCodecRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	ev, err := verdicts.Event(Event{Tenant: "acme", ID: "e1", Subject: "prompts", Time: at}, verdict{Monitor: "prompts", Score: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != KindFinding || ev.Type != "test.verdict" || ev.Payload != `{"version":2,"data":{"monitor":"prompts","score":0.25}}` {
		t.Fatalf("event %+v", ev)
	}
	got, err := verdicts.Decode(ev)
	if err != nil || got != (verdict{Monitor: "prompts", Score: 0.25}) {
		t.Fatalf("Decode = %+v, %v", got, err)
	}
	q := verdicts.Query(EventQuery{Tenant: "acme"})
	if len(q.Kinds) != 1 || q.Kinds[0] != KindFinding || len(q.Types) != 1 || q.Types[0] != "test.verdict" || q.Tenant != "acme" {
		t.Errorf("Query = %+v", q)
	}
}

func TestCodecRefuses(t *testing.T) {
	good := Event{ID: "e7", Kind: KindFinding, Type: "test.verdict"}
	for _, tc := range []struct {
		name    string
		mutate  func(e *Event)
		message string
	}{
		{"another type", func(e *Event) { e.Type = "slo.alert"; e.Payload = `{"version":1,"data":{}}` }, "not a finding test.verdict"},
		{"another kind", func(e *Event) { e.Kind = KindAlert; e.Payload = `{"version":1,"data":{}}` }, "not a finding test.verdict"},
		{"empty", func(e *Event) {}, "it has none"},
		{"not an envelope", func(e *Event) { e.Payload = `{"monitor":"prompts"}` }, `unknown field "monitor"`},
		{"no version", func(e *Event) { e.Payload = `{"data":{"monitor":"x"}}` }, "no versioned data"},
		{"no data", func(e *Event) { e.Payload = `{"version":1}` }, "no versioned data"},
		{"newer", func(e *Event) { e.Payload = `{"version":3,"data":{}}` }, "schema version 3 is newer than this Vigil reads (2)"},
		{"wrong field type", func(e *Event) { e.Payload = `{"version":1,"data":{"score":"high"}}` }, "cannot unmarshal string"},
		{"unknown field", func(e *Event) { e.Payload = `{"version":1,"data":{"scor":1}}` }, `unknown field "scor"`},
		{"trailing data", func(e *Event) { e.Payload = `{"version":1,"data":{}} {}` }, "data after the document"},
		{"truncated", func(e *Event) { e.Payload = `{"version":1,"data":{"monitor":"pro` }, "unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := good
			tc.mutate(&ev)
			_, err := verdicts.Decode(ev)
			var pe *PayloadError
			if !errors.As(err, &pe) || pe.EventID != "e7" {
				t.Fatalf("Decode error = %v, want a PayloadError naming e7", err)
			}
			if !strings.Contains(err.Error(), "event e7") || !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q does not name the event and %q", err, tc.message)
			}
		})
	}
}

func FuzzCodecDecode(f *testing.F) {
	f.Add(`{"version":1,"data":{"monitor":"a","score":1}}`)
	f.Add(`{"version":2,"data":null}`)
	f.Add(`{"version":-1,"data":[]}`)
	f.Fuzz(func(t *testing.T, payload string) {
		ev := Event{ID: "f", Kind: KindFinding, Type: "test.verdict", Payload: payload}
		v, err := verdicts.Decode(ev)
		if err != nil {
			var pe *PayloadError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a PayloadError", err)
			}
			return
		}
		// What decodes encodes again to the same value.
		again, err := verdicts.Event(ev, v)
		if err != nil {
			t.Fatal(err)
		}
		if w, err := verdicts.Decode(again); err != nil || w != v {
			t.Fatalf("round trip of %q: %+v, %v", payload, w, err)
		}
	})
}
