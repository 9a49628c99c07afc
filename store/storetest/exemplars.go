package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// testSpanExemplars: the slowest span of each label set in each step, and
// the label filters.
func testSpanExemplars(t *testing.T, s store.Store) {
	c := ctx(t)
	var spans []store.Span
	for i, d := range []time.Duration{100, 900, 300, 700} { // two a minute
		sp := chatSpan("acme", i, i, -1, base.Add(time.Duration(i)*30*time.Second), d*time.Millisecond)
		spans = append(spans, sp)
	}
	failed := chatSpan("acme", 10, 10, -1, base, 50*time.Millisecond)
	failed.StatusCode = store.StatusError
	other := chatSpan("acme", 11, 11, -1, base, time.Second)
	other.Service = "embedder"
	foreign := chatSpan("globex", 12, 12, -1, base, 5*time.Second)
	if err := s.WriteSpans(c, append(spans, failed, other, foreign)); err != nil {
		t.Fatal(err)
	}
	q := store.SpanExemplarQuery{Tenant: "acme", Service: "chat-gateway", Start: base, End: base.Add(2 * time.Minute), Step: time.Minute}
	got, err := s.SpanExemplars(c, q)
	if err != nil {
		t.Fatal(err)
	}
	ex := func(sp store.Span) store.SpanExemplar {
		return store.SpanExemplar{Service: sp.Service, Operation: sp.Operation, Model: sp.Model, Deployment: sp.Deployment, Status: sp.StatusCode,
			TraceID: sp.TraceID, SpanID: sp.SpanID, StartUnixNano: sp.StartUnixNano, DurationNano: sp.DurationNano}
	}
	// Status ok (1) before error (2); each minute's slowest.
	want := []store.SpanExemplar{ex(spans[1]), ex(spans[3]), ex(failed)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	q.Service, q.Model = "", "no-such-model"
	if got, err := s.SpanExemplars(c, q); err != nil || len(got) != 0 {
		t.Errorf("another model: %v, %v", got, err)
	}
}
