package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

func testSLICounts(t *testing.T, s store.Store) {
	c := ctx(t)
	var spans []store.Span
	// Minute 0: 4 spans, 100..400 ms, the 400 ms one failed. Minute 2: 2
	// spans of another operation, one on gpt-4o-mini.
	for i := 1; i <= 4; i++ {
		sp := chatSpan("acme", 700+i, 700+i, -1, base.Add(time.Duration(i)*time.Second), time.Duration(i)*100*time.Millisecond)
		if i == 4 {
			sp.StatusCode = store.StatusError
		} else { // a time to first token of 0.1, 0.2, 0.3 s
			sp.Attributes = append(sp.Attributes, store.KeyValue{Key: "gen_ai.server.time_to_first_token", Value: fmt.Sprint(float64(i) / 10)})
		}
		spans = append(spans, sp)
	}
	for i := 5; i <= 6; i++ {
		sp := chatSpan("acme", 700+i, 700+i, -1, base.Add(2*time.Minute+time.Duration(i)*time.Second), 50*time.Millisecond)
		sp.Operation = "embeddings"
		if i == 6 {
			sp.Model = "gpt-4o-mini"
		}
		spans = append(spans, sp)
	}
	spans = append(spans, chatSpan("globex", 799, 799, -1, base, time.Second))
	if err := s.WriteSpans(c, spans); err != nil {
		t.Fatal(err)
	}
	q := store.SLIQuery{Tenant: "acme", Service: "chat-gateway", Good: "latency", Latency: 250 * time.Millisecond, Start: base, End: base.Add(time.Hour)}
	format := func(got []store.MinuteCounts) string {
		out := ""
		for _, m := range got {
			out += fmt.Sprintf("%s %d/%d; ", m.Minute.Format("15:04"), m.Good, m.Total)
		}
		return out
	}
	render := func(q store.SLIQuery) string {
		got, err := s.SLICounts(c, q)
		if err != nil {
			t.Fatalf("SLICounts: %v", err)
		}
		return format(got)
	}
	cases := []struct {
		name string
		q    func(store.SLIQuery) store.SLIQuery
		want string
	}{
		{"latency", func(q store.SLIQuery) store.SLIQuery { return q }, "10:00 2/4; 10:02 2/2; "},
		{"availability", func(q store.SLIQuery) store.SLIQuery { q.Good = "availability"; return q }, "10:00 3/4; 10:02 2/2; "},
		{"operation", func(q store.SLIQuery) store.SLIQuery { q.Operation = "embeddings"; return q }, "10:02 2/2; "},
		{"model", func(q store.SLIQuery) store.SLIQuery { q.Model = "gpt-4o-mini"; return q }, "10:02 1/1; "},
		{"attribute", func(q store.SLIQuery) store.SLIQuery {
			q.Attributes = map[string]string{"k8s.namespace.name": "inference"}
			return q
		}, "10:00 2/4; 10:02 2/2; "},
		{"attribute threshold", func(q store.SLIQuery) store.SLIQuery {
			q.Good, q.Attribute, q.Op, q.Threshold = "attribute", "gen_ai.server.time_to_first_token", "lt", 0.25
			return q
		}, "10:00 2/3; "},
		{"attribute threshold gte", func(q store.SLIQuery) store.SLIQuery {
			q.Good, q.Attribute, q.Op, q.Threshold = "attribute", "gen_ai.server.time_to_first_token", "gte", 0.2
			return q
		}, "10:00 2/3; "},
		{"attribute absent", func(q store.SLIQuery) store.SLIQuery { q.Attributes = map[string]string{"user.tier": "free"}; return q }, ""},
		{"range", func(q store.SLIQuery) store.SLIQuery { q.Start = base.Add(time.Minute); return q }, "10:02 2/2; "},
		{"tenant", func(q store.SLIQuery) store.SLIQuery { q.Tenant = "globex"; return q }, "10:00 0/1; "},
	}
	for _, tc := range cases {
		if got := render(tc.q(q)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}

	// Counted together, repeated and mixed across tenants, spans and
	// filters, each answers as it does alone.
	var qs []store.SLIQuery
	for range 10 {
		for _, tc := range cases {
			qs = append(qs, tc.q(q))
		}
	}
	got, err := s.SLICountsEach(c, qs)
	if err != nil {
		t.Fatalf("SLICountsEach: %v", err)
	}
	if len(got) != len(qs) {
		t.Fatalf("SLICountsEach: %d answers to %d queries", len(got), len(qs))
	}
	for i := range qs {
		if tc := cases[i%len(cases)]; format(got[i]) != tc.want {
			t.Errorf("SLICountsEach, query %d (%s): got %q, want %q", i, tc.name, format(got[i]), tc.want)
		}
	}
	bad := q
	bad.Good = "speed"
	if _, err := s.SLICountsEach(c, append(qs[:3:3], bad)); err == nil || !strings.Contains(err.Error(), `"speed"`) {
		t.Errorf("SLICountsEach with an unknown kind of good event: %v", err)
	}
	if got, err := s.SLICountsEach(c, nil); err != nil || len(got) != 0 {
		t.Errorf("SLICountsEach of nothing: %v, %v", got, err)
	}
}
