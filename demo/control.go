package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/vigil-dev/vigil/alert"
)

// Control is the fleet's control endpoint: what a model router's admin
// API is to a real fleet. Vigil's webhook executor drives it: every
// change is a POST signed as Vigil signs webhooks (alert.Verify: an
// HMAC-SHA256 of the timestamp and the body, at most five minutes old),
// carrying the action in its body, and made once per Idempotency-Key.
//
//	POST /control/rollback          the canary serves nothing any more
//	POST /control/shift?canary=N    the canary serves N% of the self-hosted traffic
//	POST /control/scale?replicas=N  the stable deployment runs N replicas
//	GET  /control/state             the routing in force and the changes made (unsigned: it changes nothing)
type Control struct {
	Fleet  *Fleet
	Secret string // the webhook secret; without one every change is refused
	Logger *slog.Logger
	Now    func() time.Time // nil is time.Now

	mu      sync.Mutex
	done    map[string]string // guarded by mu: idempotency key → the answer given
	changes []Change          // guarded by mu
}

// Change is one change the endpoint made.
type Change struct {
	At        time.Time `json:"at"`
	Operation string    `json:"operation"`
	Action    string    `json:"action"`
	Result    string    `json:"result"`
}

// State is what GET /control/state answers.
type State struct {
	Routing Routing  `json:"routing"`
	Changes []Change `json:"changes"`
}

// Handler serves the endpoint.
func (c *Control) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /control/{op}", c.change)
	mux.HandleFunc("GET /control/state", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(c.State())
	})
	return mux
}

// State is the routing in force and the changes made.
func (c *Control) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return State{Routing: c.Fleet.Routing(), Changes: append([]Change{}, c.changes...)}
}

func (c *Control) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// webhookBody is the part of Vigil's webhook message the endpoint reads.
type webhookBody struct {
	Action string `json:"action"`
}

func (c *Control) change(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	if c.Secret == "" {
		http.Error(w, "the control endpoint has no secret to check signatures with", http.StatusForbidden)
		return
	}
	if err := alert.Verify(c.Secret, r.Header, body, c.now(), 5*time.Minute); err != nil {
		http.Error(w, "unsigned or badly signed request: "+err.Error(), http.StatusUnauthorized)
		return
	}
	var msg webhookBody
	if err := json.Unmarshal(body, &msg); err != nil || msg.Action == "" {
		http.Error(w, "the body is not a Vigil action webhook: want JSON with an action id", http.StatusBadRequest)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		key = msg.Action
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if answer, ok := c.done[key]; ok {
		fmt.Fprintln(w, answer+" (already done)")
		return
	}
	op := r.PathValue("op")
	var result string
	switch op {
	case "rollback":
		rt := c.Fleet.SetRouting(func(rt *Routing) { rt.CanaryWeight = 0 })
		result = fmt.Sprintf("rolled the chat model back to %s: the canary %s serves no traffic", rt.StableVersion, rt.CanaryVersion)
	case "shift":
		pct, err := strconv.Atoi(r.URL.Query().Get("canary"))
		if err != nil || pct < 0 || pct > 100 {
			http.Error(w, "shift: want ?canary=N, a percent from 0 to 100", http.StatusBadRequest)
			return
		}
		c.Fleet.SetRouting(func(rt *Routing) { rt.CanaryWeight = float64(pct) / 100 })
		result = fmt.Sprintf("the canary serves %d%% of the self-hosted traffic", pct)
	case "scale":
		n, err := strconv.Atoi(r.URL.Query().Get("replicas"))
		if err != nil || n < 1 || n > 16 {
			http.Error(w, "scale: want ?replicas=N, from 1 to 16", http.StatusBadRequest)
			return
		}
		c.Fleet.SetRouting(func(rt *Routing) { rt.StableReplicas = n })
		result = fmt.Sprintf("the stable deployment runs %d replicas", n)
	default:
		http.Error(w, fmt.Sprintf("unknown operation %q: want rollback, shift or scale", op), http.StatusNotFound)
		return
	}
	if c.done == nil {
		c.done = map[string]string{}
	}
	c.done[key] = result
	c.changes = append(c.changes, Change{At: c.now(), Operation: op, Action: msg.Action, Result: result})
	if c.Logger != nil {
		c.Logger.Info("the fleet changed on Vigil's signed request", "operation", op, "action", msg.Action, "result", result)
	}
	fmt.Fprintln(w, result)
}
