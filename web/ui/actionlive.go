package ui

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/actions"
)

// actionWatcher is what the live timeline listens to: the actions
// engine's word that it recorded a transition of an action
// (*actions.Engine has it). Without it, or for what another process
// records, the stream reads the action again every liveRecheck.
type actionWatcher interface {
	Watch(tenant, id string) (changed <-chan struct{}, stop func())
}

// Timing of the live timeline.
const (
	// liveRecheck is how often a stream reads its action again: the
	// transitions another process records (an analyzer of its own
	// executing what this process approved) reach no watcher here.
	liveRecheck = 5 * time.Second
	// liveFor bounds one stream: the browser's EventSource connects again
	// by itself (with the last version it saw), so no connection, and no
	// goroutine behind it, outlives a tab forgotten open by much.
	liveFor = 5 * time.Minute
)

// actionEvents streams one action's timeline as server-sent events: an
// event "timeline" (id: the action's version; data: the timeline panel's
// HTML) each time the action moves, and "end" once it reaches a final
// state, after which the stream closes. The version the page shows comes
// as ?v= (or Last-Event-ID when the browser connects again), so nothing
// is sent until the action moves past it. It needs the role the page
// needs, viewer; the stream shows nothing the page does not.
func (u *UI) actionEvents(w http.ResponseWriter, r *http.Request) {
	if u.opts.Actions == nil {
		http.Error(w, "This Vigil process runs no actions engine.", http.StatusServiceUnavailable)
		return
	}
	v := u.newView(w, r, "Action", "actions")
	id := r.PathValue("id")
	// The panel's links are the action page's, not the stream's.
	v.Path = "/actions/" + id
	seen := 0
	for _, s := range []string{r.Header.Get("Last-Event-ID"), r.URL.Query().Get("v")} {
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			http.Error(w, fmt.Sprintf("version %q is not a number of an action's transitions", s), http.StatusBadRequest)
			return
		}
		seen = n
		break
	}
	v.query.Del("v")
	ctx := r.Context()
	a, err := u.opts.Actions.Get(ctx, v.Tenant, id)
	switch {
	case errors.Is(err, actions.ErrNotFound):
		http.Error(w, fmt.Sprintf("no action %s in tenant %s over the last week", id, v.Tenant), http.StatusNotFound)
		return
	case err != nil:
		http.Error(w, "The action could not load: "+err.Error(), http.StatusServiceUnavailable)
		return
	}

	var changed <-chan struct{}
	if aw, ok := u.opts.Actions.(actionWatcher); ok {
		ch, stop := aw.Watch(v.Tenant, id)
		defer stop()
		changed = ch
	}
	rc := http.NewResponseController(w)
	// The server's write timeout, if any, is for answers, not streams.
	rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // a proxy in front must not hold the events back
	w.WriteHeader(http.StatusOK)
	// Connect again after 2 s when the stream ends without an "end".
	fmt.Fprint(w, "retry: 2000\n\n")
	rc.Flush()

	recheck := time.NewTicker(liveRecheck)
	defer recheck.Stop()
	done := time.After(liveFor)
	for {
		if a != nil && a.Version != seen {
			var buf bytes.Buffer
			v.Data = &actionData{actionRow: actionRow{Action: a}}
			if err := u.pages["action"].ExecuteTemplate(&buf, "panel-timeline", v); err != nil {
				u.log.Error("cannot render the live timeline", "err", err)
				return
			}
			writeEvent(w, "timeline", strconv.Itoa(a.Version), buf.String())
			seen = a.Version
		}
		if a != nil && a.State.Final() {
			writeEvent(w, "end", "", string(a.State))
			rc.Flush()
			return
		}
		if err := rc.Flush(); err != nil {
			return // the browser went away
		}
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-changed:
		case <-recheck.C:
			// A comment keeps proxies from closing a quiet stream.
			fmt.Fprint(w, ": still there\n\n")
		}
		a, err = u.opts.Actions.Get(ctx, v.Tenant, id)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// Say so and keep going: the next read may work.
			writeEvent(w, "problem", "", "The timeline could not be read again: "+err.Error())
			a = nil
		}
	}
}

// writeEvent writes one server-sent event; data may span lines, each
// sent as a data line of its own.
func writeEvent(w http.ResponseWriter, event, id, data string) {
	var b strings.Builder
	b.WriteString("event: " + event + "\n")
	if id != "" {
		b.WriteString("id: " + id + "\n")
	}
	for _, line := range strings.Split(strings.ReplaceAll(data, "\r\n", "\n"), "\n") {
		b.WriteString("data: " + strings.ReplaceAll(line, "\r", "") + "\n")
	}
	b.WriteString("\n")
	w.Write([]byte(b.String()))
}
