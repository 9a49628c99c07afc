package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// testTypedAttributes checks that an attribute's type survives the store
// on spans, resources, events and links, that a span whose attributes are
// all strings reads back as strings beside one with types, and that a
// typed value is still found by its text.
func testTypedAttributes(t *testing.T, s store.Store) {
	c := ctx(t)
	typed := chatSpan("acme", 1, 1, -1, base, time.Second)
	typed.Resource = store.Attributes{
		{Key: "service.name", Value: "chat-gateway"},
		{Key: "host.cpu.count", Value: "64", Type: store.AttrInt},
		{Key: "k8s.pod.labels", Value: `{"app":"chat"}`, Type: store.AttrMap},
	}
	typed.Attributes = store.Attributes{
		{Key: "gen_ai.request.model", Value: "gpt-4o"},
		{Key: "http.response.status_code", Value: "200", Type: store.AttrInt},
		{Key: "gen_ai.request.temperature", Value: "0.7", Type: store.AttrDouble},
		{Key: "gen_ai.request.stream", Value: "true", Type: store.AttrBool},
		{Key: "request.digest", Value: "3q2+7w==", Type: store.AttrBytes},
		{Key: "gen_ai.request.stop_sequences", Value: `["\n","END"]`, Type: store.AttrArray},
		{Key: "big", Value: "-9223372036854775808", Type: store.AttrInt},
		{Key: "not.a.number", Value: "NaN", Type: store.AttrDouble},
	}
	typed.Events = []store.SpanEvent{{TimeUnixNano: base.UnixNano() + 5, Name: "first_token", Attributes: store.Attributes{
		{Key: "ttft_ms", Value: "41", Type: store.AttrInt},
		{Key: "note", Value: "cold start"},
	}}}
	typed.Links = []store.SpanLink{{TraceID: traceID(999), SpanID: spanID(999), Attributes: store.Attributes{{Key: "attempt", Value: "2", Type: store.AttrInt}}}}
	// Strings only, in the same batch: no types stored, none read back.
	plain := chatSpan("acme", 1, 2, 1, base.Add(time.Millisecond), time.Millisecond)
	// A typed value only after a string one: the types before it are strings.
	late := chatSpan("acme", 1, 3, 1, base.Add(2*time.Millisecond), time.Millisecond)
	late.Attributes = append(late.Attributes, store.KeyValue{Key: "retries", Value: "3", Type: store.AttrInt})

	if err := s.WriteSpans(c, []store.Span{late, plain, typed}); err != nil {
		t.Fatalf("WriteSpans: %v", err)
	}
	got, err := s.Trace(c, "acme", traceID(1))
	if err != nil {
		t.Fatalf("Trace: %v", err)
	}
	sameSpans(t, got, []store.Span{typed, plain, late})
	for i, sp := range got {
		for _, kv := range append(append(store.Attributes{}, sp.Resource...), sp.Attributes...) {
			if kv.Type < store.AttrString || kv.Type > store.AttrMap {
				t.Errorf("span %d: attribute %s has type %d, not one of store.AttrType's", i, kv.Key, kv.Type)
			}
		}
	}

	for _, q := range []map[string]string{
		{"http.response.status_code": "200"},
		{"gen_ai.request.stream": "true"},
		{"host.cpu.count": "64"},
	} {
		ids, err := s.FindTraceIDs(c, store.TraceQuery{Tenant: "acme", Tags: q, Start: base.Add(-time.Hour), End: base.Add(time.Hour)})
		if err != nil {
			t.Fatalf("FindTraceIDs %v: %v", q, err)
		}
		if fmt.Sprint(ids) != fmt.Sprint([]store.TraceID{traceID(1)}) {
			t.Errorf("FindTraceIDs %v = %v, want trace 1", q, ids)
		}
	}
}
