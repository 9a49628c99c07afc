package ui

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/dispatch"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// fixedNow is the instant every fixture and golden page is at.
var fixedNow = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

// fixtureTrace is the trace with a model call, its prompt and
// completion, and an error.
var fixtureTrace = store.TraceID{0xfe, 0xed, 0xbe, 0xef, 15: 1}

const fixtureSLOs = `slos:
  - name: chat-availability
    service: chat-gateway
    availability: true
    objective: 99.5%
    window: 7d
  - name: chat-latency
    service: chat-gateway
    model: gpt-4o
    latency: 800ms
    objective: 99%
    window: 7d
`

// fixtureSLOList loads the fixture's SLOs as the config directory would.
func fixtureSLOList(t testing.TB) []*slo.SLO {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slos.yaml"), []byte(fixtureSLOs), 0o644); err != nil {
		t.Fatal(err)
	}
	slos, problems, err := slo.Load([]string{dir}, time.Minute)
	if err != nil || len(problems) > 0 {
		t.Fatalf("SLOs: %v %v", problems, err)
	}
	return slos
}

// fixtureStore is an embedded store holding an hour of a small AI fleet,
// SLO rollups of two days, alerts, a silence and deliveries.
func fixtureStore(t testing.TB) *embedded.Store {
	st, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if err := st.WriteSpans(ctx, fixtureSpans()); err != nil {
		t.Fatal(err)
	}
	if err := st.WriteRollups(ctx, fixtureRollups()); err != nil {
		t.Fatal(err)
	}
	if err := st.WriteLogs(ctx, fixtureLogs()); err != nil {
		t.Fatal(err)
	}
	evs, err := fixtureEvents()
	if err == nil {
		err = st.WriteEvents(ctx, evs)
	}
	if err != nil {
		t.Fatal(err)
	}
	fillMore(t, st)
	return st
}

// fixtureSpans are 240 requests over the hour before fixedNow: each a
// gateway server span, and a model call under it (chat or embeddings),
// and a ranker's internal root now and then; plus fixtureTrace.
func fixtureSpans() []store.Span {
	rng := rand.New(rand.NewPCG(1, 2))
	var spans []store.Span
	start := fixedNow.Add(-time.Hour)
	for i := 0; i < 240; i++ {
		at := start.Add(time.Duration(i) * 15 * time.Second)
		trace := store.TraceID{0xaa, 14: byte(i >> 8), 15: byte(i)}
		root := span(trace, 1, 0, at, time.Duration(80+rng.IntN(400))*time.Millisecond, "chat-gateway", "POST /chat", store.SpanKindServer)
		if i%17 == 0 {
			root.StatusCode, root.StatusMessage = store.StatusError, "upstream 503"
		}
		model, op := "gpt-4o", "chat gpt-4o"
		if i%3 == 0 {
			model, op = "text-embedding-3-small", "embeddings text-embedding-3-small"
		}
		call := span(trace, 2, 1, at.Add(5*time.Millisecond), time.Duration(root.DurationNano)-10*time.Millisecond, "llm-proxy", op, store.SpanKindClient)
		call.Model, call.Provider, call.InputTokens, call.OutputTokens = model, "openai", int64(200+rng.IntN(800)), int64(50+rng.IntN(300))
		call.Cost = decimal.New(call.InputTokens*25+call.OutputTokens*100, -7)
		// The team: search's embeddings say so on the resource, the
		// assistant's chats on the span; one call in eleven has none.
		switch {
		case i%11 == 0:
		case i%3 == 0:
			call.Resource = append(slices.Clone(call.Resource), store.KeyValue{Key: "team", Value: "search"})
		default:
			call.Attributes = append(call.Attributes, store.KeyValue{Key: "team", Value: "assistant"})
		}
		spans = append(spans, root, call)
		if i%4 == 0 {
			spans = append(spans, span(store.TraceID{0xbb, 15: byte(i)}, 1, 0, at, time.Duration(5+rng.IntN(20))*time.Millisecond, "ranker", "rank", store.SpanKindInternal))
		}
	}
	return append(spans, fixtureTraceSpans()...)
}

func span(trace store.TraceID, id, parent byte, at time.Time, d time.Duration, service, op string, kind store.SpanKind) store.Span {
	sp := store.Span{Tenant: store.DefaultTenant, TraceID: trace, SpanID: store.SpanID{7: id}, Service: service, Operation: op, Kind: kind,
		StartUnixNano: at.UnixNano(), DurationNano: int64(d), StatusCode: store.StatusOK,
		Resource: store.Attributes{{Key: "service.name", Value: service}}}
	if parent != 0 {
		sp.ParentSpanID = store.SpanID{7: parent}
	}
	return sp
}

// fixtureTraceSpans: a request whose retrieval and first model call
// succeed and whose second model call fails, with GenAI messages.
func fixtureTraceSpans() []store.Span {
	at := fixedNow.Add(-10 * time.Minute)
	root := span(fixtureTrace, 1, 0, at, 900*time.Millisecond, "chat-gateway", "POST /chat", store.SpanKindServer)
	root.Attributes = store.Attributes{{Key: "http.route", Value: "/chat"}, {Key: "user.tier", Value: "pro"}}
	retrieve := span(fixtureTrace, 2, 1, at.Add(10*time.Millisecond), 120*time.Millisecond, "retriever", "search documents", store.SpanKindClient)
	first := span(fixtureTrace, 3, 1, at.Add(140*time.Millisecond), 300*time.Millisecond, "llm-proxy", "chat gpt-4o", store.SpanKindClient)
	first.Model, first.Provider, first.InputTokens, first.OutputTokens, first.Cost = "gpt-4o", "openai", 1200, 300, decimal.RequireFromString("0.006")
	first.Attributes = store.Attributes{{Key: "gen_ai.request.model", Value: "gpt-4o"}, {Key: "gen_ai.prompt.0.content", Value: "What is our refund policy?"},
		{Key: "gen_ai.completion.0.content", Value: "Refunds within 30 days."}}
	first.Events = []store.SpanEvent{{TimeUnixNano: at.Add(200 * time.Millisecond).UnixNano(), Name: "first_token", Attributes: store.Attributes{{Key: "ttft_ms", Value: "60"}}}}
	second := span(fixtureTrace, 4, 1, at.Add(450*time.Millisecond), 440*time.Millisecond, "llm-proxy", "chat gpt-4o", store.SpanKindClient)
	second.Model, second.InputTokens, second.StatusCode, second.StatusMessage = "gpt-4o", 1500, store.StatusError, "rate limited"
	second.Events = []store.SpanEvent{{TimeUnixNano: at.Add(460 * time.Millisecond).UnixNano(), Name: "gen_ai.user.message", Attributes: store.Attributes{{Key: "content", Value: "Summarise it."}}}}
	return []store.Span{root, retrieve, first, second}
}

// fixtureLogs: what the services of fixtureTrace logged about it (one
// record a little before the trace starts, one with no span), and a
// record of another trace, which its page must not show.
func fixtureLogs() []store.LogRecord {
	at := fixedNow.Add(-10 * time.Minute)
	rec := func(id uint64, off time.Duration, service string, sev store.Severity, text, body string, trace store.TraceID, span byte) store.LogRecord {
		r := store.LogRecord{Tenant: store.DefaultTenant, ID: id, TimeUnixNano: at.Add(off).UnixNano(), ObservedUnixNano: at.Add(off).UnixNano(),
			Service: service, Severity: sev, SeverityText: text, Body: body, TraceID: trace}
		if span != 0 {
			r.SpanID = store.SpanID{7: span}
		}
		return r
	}
	return []store.LogRecord{
		rec(1, -2*time.Millisecond, "chat-gateway", store.SeverityInfo, "INFO", "request queued behind 3 others", fixtureTrace, 0),
		rec(2, 125*time.Millisecond, "retriever", store.SeverityInfo, "info", "retrieved 4 documents from index faq-v3", fixtureTrace, 2),
		rec(3, 460*time.Millisecond, "llm-proxy", store.SeverityWarn, "WARNING", "provider answered 429: rate limited, retrying in 200ms", fixtureTrace, 4),
		rec(4, 889*time.Millisecond, "llm-proxy", store.SeverityError, "ERROR", "giving up after 2 attempts: rate limited", fixtureTrace, 4),
		rec(5, 889*time.Millisecond, "chat-gateway", store.SeverityInfo, "INFO", "another request's record", store.TraceID{0xaa, 15: 1}, 1),
	}
}

// fixtureRollups: chat-availability at 99.7% for two days, then burning
// at 90% for the last hour; chat-latency at 99.9%.
func fixtureRollups() []store.Rollup {
	var out []store.Rollup
	for m := fixedNow.Add(-48 * time.Hour); m.Before(fixedNow); m = m.Add(time.Minute) {
		good := float64(997)
		if fixedNow.Sub(m) <= time.Hour {
			good = 900
		}
		out = append(out, store.Rollup{Tenant: store.DefaultTenant, SLO: "chat-availability", Minute: m, Good: good, Total: 1000},
			store.Rollup{Tenant: store.DefaultTenant, SLO: "chat-latency", Minute: m, Good: 999, Total: 1000})
	}
	return out
}

// fixtureEvents: a page alert firing for 40 minutes, a ticket that
// resolved, a silence of the ticket, and two deliveries.
func fixtureEvents() ([]store.Event, error) {
	labels := func(sev, long, short string) map[string]string {
		return map[string]string{"alertname": slo.AlertName, "slo": "chat-availability", "service": "chat-gateway", "severity": sev,
			"long_window": long, "short_window": short, "tenant": store.DefaultTenant}
	}
	alert := func(fp string, state slo.AlertState, l map[string]string, at time.Time) (store.Event, error) {
		tr := slo.AlertTransition{SLO: "chat-availability", Fingerprint: fp, State: state, Labels: l, StartsAt: at}
		return slo.AlertTransitions.Event(store.Event{Tenant: store.DefaultTenant, ID: store.EventID(store.KindAlert, fp, string(state)), Subject: "chat-availability",
			Severity: l["severity"], Time: at, Summary: fmt.Sprintf("%s %s: chat-availability burns its budget", state, l["severity"])}, tr)
	}
	var out []store.Event
	for _, a := range []struct {
		fp    string
		state slo.AlertState
		l     map[string]string
		at    time.Time
	}{
		{"f1", slo.StateFiring, labels("page", "1h", "5m"), fixedNow.Add(-40 * time.Minute)},
		{"f2", slo.StateFiring, labels("ticket", "6h", "30m"), fixedNow.Add(-5 * time.Hour)},
		{"f2", slo.StateResolved, labels("ticket", "6h", "30m"), fixedNow.Add(-20 * time.Minute)},
	} {
		ev, err := alert(a.fp, a.state, a.l, a.at)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	sil := slo.Silence{Tenant: store.DefaultTenant, Matchers: map[string]string{"severity": "ticket", "slo": "chat-availability"},
		StartsAt: fixedNow.Add(-time.Hour), EndsAt: fixedNow.Add(3 * time.Hour), CreatedBy: "person:ada", Comment: "known: model provider incident"}
	sev, err := slo.Silences.Event(store.Event{Tenant: store.DefaultTenant, ID: "silence-1", Subject: "silence-1", Time: sil.StartsAt, Summary: sil.Comment}, sil)
	if err != nil {
		return nil, err
	}
	out = append(out, sev)
	for i, d := range []dispatch.Delivery{
		{Subscriber: "alertmanager", Target: "http://am:9093", Try: 1, Status: 503, LatencyMS: 12.5, Outcome: dispatch.Retrying, Error: "503 Service Unavailable", Keys: []string{"f1"}},
		{Subscriber: "alertmanager", Target: "http://am:9093", Try: 2, Status: 200, LatencyMS: 8.25, Outcome: dispatch.Delivered, Keys: []string{"f1"}},
	} {
		ev, err := dispatch.Deliveries.Event(store.Event{Tenant: store.DefaultTenant, ID: fmt.Sprintf("delivery-%d", i), Subject: d.Subscriber,
			Time: fixedNow.Add(time.Duration(i-40) * time.Minute), Summary: string(d.Outcome)}, d)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}
