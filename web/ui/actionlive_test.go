package ui

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/auth"
)

// sseEvent is one server-sent event as a browser's EventSource reads it.
type sseEvent struct{ Event, ID, Data string }

// readEvents reads the stream's events until it ends, sending each.
func readEvents(body *bufio.Reader, out chan<- sseEvent) {
	defer close(out)
	var ev sseEvent
	var data []string
	for {
		line, err := body.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.Event != "" || len(data) > 0 {
				ev.Data = strings.Join(data, "\n")
				out <- ev
			}
			ev, data = sseEvent{}, nil
		case strings.HasPrefix(line, "event: "):
			ev.Event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "id: "):
			ev.ID = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		}
	}
}

// sseOpen opens an action's event stream on srv.
func sseOpen(t *testing.T, srv *httptest.Server, path string, header ...string) (*http.Response, <-chan sseEvent) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	evs := make(chan sseEvent, 16)
	if resp.StatusCode == http.StatusOK {
		go readEvents(bufio.NewReader(resp.Body), evs)
	} else {
		close(evs)
	}
	return resp, evs
}

func sseNext(t *testing.T, evs <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-evs:
		if !ok {
			t.Fatal("the stream ended")
		}
		return ev
	case <-time.After(30 * time.Second):
		t.Fatal("no event within 30s")
	}
	return sseEvent{}
}

// TestActionEvents: the stream of a proposed action says nothing until
// the action moves; an approval made through the engine reaches it at
// once as the new timeline, and a rejection after it as the timeline
// and the end; a final action's stream sends its timeline (unless the
// page has it) and ends; bad requests get their status.
func TestActionEvents(t *testing.T) {
	st := fixtureStore(t)
	u := fixtureUIOf(t, st)
	srv := httptest.NewServer(Browser(muxOf(u)))
	defer srv.Close()

	resp, evs := sseOpen(t, srv, "/actions/act-rollback/events?v=1&tenant=default")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %v", resp.StatusCode, resp.Header)
	}
	select {
	case ev := <-evs:
		t.Fatalf("an event before the action moved: %+v", ev)
	case <-time.After(300 * time.Millisecond):
	}
	engine := u.opts.Actions
	ctx := context.Background()
	if _, err := engine.Approve(ctx, "default", "act-rollback", actions.Decision{Actor: "person:grace", Reason: "restore the budget", Version: 1}); err != nil {
		t.Fatal(err)
	}
	ev := sseNext(t, evs)
	if ev.Event != "timeline" || ev.ID != "2" || !strings.Contains(ev.Data, `<section id="timeline"`) ||
		!strings.Contains(ev.Data, "state-approved") || !strings.Contains(ev.Data, "person:grace") || !strings.Contains(ev.Data, "restore the budget") {
		t.Fatalf("after the approval: %+v", ev)
	}
	// Still open: the panel names its stream and its fallback, on the
	// action's page, from the new version.
	if !strings.Contains(ev.Data, `data-live="/actions/act-rollback/events?tenant=default&amp;v=2"`) ||
		!strings.Contains(ev.Data, `data-poll="/actions/act-rollback?panel=timeline&amp;tenant=default"`) {
		t.Errorf("the open timeline's links: %s", ev.Data)
	}
	if _, err := engine.Reject(ctx, "default", "act-rollback", actions.Decision{Actor: "person:ada", Reason: "it recovered", Version: 2}); err != nil {
		t.Fatal(err)
	}
	if ev := sseNext(t, evs); ev.Event != "timeline" || ev.ID != "3" || !strings.Contains(ev.Data, "state-rejected") || strings.Contains(ev.Data, "data-live") {
		t.Fatalf("after the rejection: %+v", ev)
	}
	if ev := sseNext(t, evs); ev.Event != "end" || ev.Data != "rejected" {
		t.Fatalf("want the end: %+v", ev)
	}
	if ev, ok := <-evs; ok {
		t.Fatalf("the stream goes on after its end: %+v", ev)
	}

	// A final action: its timeline, unless the browser has it, then the end.
	_, evs = sseOpen(t, srv, "/actions/act-hook/events")
	if ev := sseNext(t, evs); ev.Event != "timeline" || ev.ID != "5" || !strings.Contains(ev.Data, "state-succeeded") {
		t.Fatalf("a final action's stream: %+v", ev)
	}
	if ev := sseNext(t, evs); ev.Event != "end" || ev.Data != "succeeded" {
		t.Fatalf("want the end: %+v", ev)
	}
	_, evs = sseOpen(t, srv, "/actions/act-hook/events", "Last-Event-ID", "5")
	if ev := sseNext(t, evs); ev.Event != "end" {
		t.Fatalf("a browser that has the last version got %+v", ev)
	}

	for _, tc := range []struct {
		path string
		code int
	}{
		{"/actions/nope/events", 404},
		{"/actions/act-scale/events?v=x", 400},
	} {
		if resp, _ := sseOpen(t, srv, tc.path); resp.StatusCode != tc.code {
			t.Errorf("%s: %d, want %d", tc.path, resp.StatusCode, tc.code)
		}
	}
}

// TestActionEventsNeedViewer: the stream asks what the page asks, a
// viewer of the tenant; a visitor without credentials is sent to sign
// in, as from the page.
func TestActionEventsNeedViewer(t *testing.T) {
	st := fixtureStore(t)
	u := fixtureUIOf(t, st)
	for _, rt := range u.Routes() {
		if rt.Pattern == "/actions/{id}/events" && (rt.Method != "GET" || rt.Role != auth.Viewer) {
			t.Errorf("%s %s needs %v, want viewer", rt.Method, rt.Pattern, rt.Role)
		}
	}
	mux := auth.NewMux(auth.New(auth.Options{Store: st}))
	mux.Handle(u.Routes()...)
	srv := httptest.NewServer(Browser(mux))
	defer srv.Close()
	srv.Client().CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if resp, _ := sseOpen(t, srv, "/actions/act-hook/events"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Errorf("without credentials: %d %v", resp.StatusCode, resp.Header)
	}
	tok, _, err := auth.CreateToken(context.Background(), st, auth.TokenSpec{Tenant: "default", Role: auth.Viewer}, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, evs := sseOpen(t, srv, "/actions/act-hook/events", "Authorization", "Bearer "+tok)
	if resp.StatusCode != 200 {
		t.Fatalf("a viewer: %d", resp.StatusCode)
	}
	if ev := sseNext(t, evs); ev.Event != "timeline" {
		t.Errorf("a viewer's stream: %+v", ev)
	}
}
