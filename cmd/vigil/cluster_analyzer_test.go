package main

import (
	"bytes"
	be "encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/alert"
)

// clusterActionsConfig is tenant acme's SLO and two policies on its page
// alert, both posting to the test's webhook: one executes on its own, the
// other waits for an operator's approval. URL is the receiver's.
const clusterActionsConfig = `slos:
  - name: chat-errors
    tenant: acme
    service: chat
    availability: true
    objective: 99%
actions:
  - name: hook-auto
    tenant: acme
    when: {slo: chat-errors, alert: page}
    do: {webhook: {url: "URL/act/auto"}}
    mode: auto
    cooldown: 30m
  - name: hook-approve
    tenant: acme
    when: {slo: chat-errors, alert: page}
    do: {webhook: {url: "URL/act/approve"}}
    mode: approve
    cooldown: 30m
`

// notification is one alert of one webhook message, as a receiver got it.
type notification struct {
	analyzer    string // the path's last element: which analyzer sent it
	fingerprint string
	status      string
	startsAt    time.Time
	at          time.Time
}

// hookLog is the test's webhook receiver: alert notifications, each
// analyzer posting to a path of its own (/alerts/<replica>), and action
// executions (/act/<policy>) with their idempotency keys.
type hookLog struct {
	mu      sync.Mutex
	alerts  []notification            // guarded by mu
	actions map[string]map[string]int // guarded by mu: path → Idempotency-Key → posts
}

func (h *hookLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case strings.HasPrefix(r.URL.Path, "/alerts/"):
		var m alert.WebhookMessage
		if err := json.Unmarshal(body, &m); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		for _, a := range m.Alerts {
			h.alerts = append(h.alerts, notification{analyzer: strings.TrimPrefix(r.URL.Path, "/alerts/"),
				fingerprint: a.Fingerprint, status: a.Status, startsAt: a.StartsAt, at: time.Now()})
		}
	case strings.HasPrefix(r.URL.Path, "/act/"):
		if h.actions[r.URL.Path] == nil {
			h.actions[r.URL.Path] = map[string]int{}
		}
		h.actions[r.URL.Path][r.Header.Get("Idempotency-Key")]++
	default:
		http.NotFound(w, r)
	}
}

func (h *hookLog) notifications() []notification {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]notification(nil), h.alerts...)
}

// executions are the posts to an action path by idempotency key.
func (h *hookLog) executions(path string) map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for k, n := range h.actions[path] {
		out[k] = n
	}
	return out
}

// checkTransitions fails on an alert notified in more than one
// transition: a firing alert is sent again at every tick with the same
// start (receivers such as Alertmanager expire it otherwise), so a second
// firing notification is a second start, and any resolution is one too
// many while the SLO burns. It returns the fingerprints notified.
func checkTransitions(t *testing.T, ns []notification) map[string]time.Time {
	t.Helper()
	starts := map[string]time.Time{}
	for _, n := range ns {
		switch {
		case n.status != "firing":
			t.Errorf("alert %s was notified %s (by analyzer %s) while its SLO burns", n.fingerprint, n.status, n.analyzer)
		case starts[n.fingerprint].IsZero():
			starts[n.fingerprint] = n.startsAt
		case !starts[n.fingerprint].Equal(n.startsAt):
			t.Errorf("alert %s fired twice: started %s, then again %s (by analyzer %s)", n.fingerprint,
				starts[n.fingerprint].Format(time.RFC3339), n.startsAt.Format(time.RFC3339), n.analyzer)
		}
	}
	return starts
}

// checkOnce fails on an action posted to its webhook more than once.
func checkOnce(t *testing.T, path string, posts map[string]int) {
	t.Helper()
	for key, n := range posts {
		if n != 1 {
			t.Errorf("action %s was executed %d times at %s", key, n, path)
		}
	}
}

// chatRequest is one OTLP/HTTP export of n spans of service chat, the
// first failed of them failing, with span ids from first on.
func chatRequest(first, n, failed int) []byte {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "chat")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	now := time.Now()
	for i := range n {
		s := spans.AppendEmpty()
		var tid pcommon.TraceID
		var sid pcommon.SpanID
		be.BigEndian.PutUint64(tid[8:], uint64(first+i+1))
		be.BigEndian.PutUint64(sid[:], uint64(first+i+1))
		s.SetTraceID(tid)
		s.SetSpanID(sid)
		s.SetName("POST /chat")
		s.SetKind(ptrace.SpanKindServer)
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Millisecond)))
		if i < failed {
			s.Status().SetCode(ptrace.StatusCodeError)
		}
	}
	b, _ := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	return b
}

// postChat sends chat spans to a collector in tenant acme.
func postChat(t *testing.T, collector *roleProc, first, n, failed int) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+collector.http+"/v1/traces", bytes.NewReader(chatRequest(first, n, failed)))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Scope-OrgID", "acme")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("posting chat spans: %s", resp.Status)
	}
}

// actionsOf are tenant acme's actions as the web role lists them.
func actionsOf(t *testing.T, web *roleProc) []actions.Summary {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+web.web+"/api/v1/actions", nil)
	req.Header.Set("X-Scope-OrgID", "acme")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var page struct{ Actions []actions.Summary }
	if resp.StatusCode != 200 || json.Unmarshal(body, &page) != nil {
		t.Fatalf("GET /api/v1/actions: %s %s", resp.Status, body)
	}
	return page.Actions
}

// postAPI posts a JSON body to the web role's API in tenant acme with a
// token, and fails the test on any answer but 200.
func postAPI(t *testing.T, web *roleProc, token, path, body string) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+web.web+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Scope-OrgID", "acme")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: %s %s", path, resp.Status, answer)
	}
}

// stateOf is the state of one of tenant acme's actions.
func stateOf(t *testing.T, web *roleProc, id string) actions.State {
	t.Helper()
	for _, a := range actionsOf(t, web) {
		if a.ID == id {
			return a.State
		}
	}
	t.Fatalf("no action %s", id)
	return ""
}

// ticksBetween is how many ticks of the interval fall in (from, to].
func ticksBetween(from, to time.Time, interval time.Duration) int {
	return int(to.Truncate(interval).Sub(from.Truncate(interval)) / interval)
}

// TestClusterAnalyzerFaults is issue 17's analyzer faults on a 2x2
// ClickHouse cluster of its own, with an SLO and two action policies (one
// automatic, one awaiting approval) posting to a webhook, and each
// analyzer notifying alerts to a path of its own:
//
//   - takeover: the SLO fires; the analyzer that owns it is killed; the
//     other takes its monitors over within two ticks, and across the
//     takeover no alert is notified in a second transition or by both
//     analyzers, and no action executes twice.
//   - restart: everything (both collectors, both analyzers, the web role,
//     the four ClickHouse servers and ZooKeeper) is killed at once and
//     started again: the alert stays firing with its start, the action
//     approved under the kill switch is still approved and, the switch
//     turned off before the analyzers start (both dispatchers take the
//     approval up at once), executes once, the automatic action does not
//     execute again, and every span acknowledged before the kill is
//     stored once.
func TestClusterAnalyzerFaults(t *testing.T) {
	c := newCluster(t)
	db := fmt.Sprintf("vigil_analyzers_%d", time.Now().UnixNano())
	storeURL := c.storeURL(db)
	dataDir := t.TempDir()
	token := createToken(t, dataDir, storeURL, "*", "admin")
	operator := createToken(t, dataDir, storeURL, "acme", "operator")

	hooks := &hookLog{actions: map[string]map[string]int{}}
	receiver := httptest.NewServer(hooks)
	defer receiver.Close()
	configDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(configDir, "vigil.yaml"), []byte(strings.ReplaceAll(clusterActionsConfig, "URL", receiver.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	// Ticks of two seconds: short enough to see a takeover quickly, long
	// enough that a busy machine rarely overruns one (an analyzer that
	// misses a tick's heartbeat drops out of the other's view for it).
	const interval = 2 * time.Second
	analyzer := func(replica string) *roleProc {
		return startRole(t, "analyzer", storeURL, token, "--config-dir", configDir, "--analyzer.interval", interval.String(),
			"--analyzer.replica", replica, "--config.poll-interval", "1s", "--alert.webhook-url", receiver.URL+"/alerts/"+replica)
	}
	collectors := []*roleProc{startRole(t, "collector", storeURL, token), startRole(t, "collector", storeURL, token)}
	web := startRole(t, "web", storeURL, token, "--config-dir", configDir)
	analyzers := map[string]*roleProc{"a": analyzer("a"), "b": analyzer("b")}
	for name, a := range analyzers {
		for deadline := time.Now().Add(time.Minute); a.metric(t, "vigil_analyzer_replicas") != 2; time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("analyzer %s does not see two replicas; stderr:\n%s", name, a.stderr)
			}
		}
	}

	// Half of the chat requests fail: every burn-rate rule fires.
	postChat(t, collectors[0], 1<<40, 200, 100)
	postChat(t, collectors[1], 1<<40+200, 200, 100)
	var owner string
	for deadline := time.Now().Add(2 * time.Minute); owner == ""; time.Sleep(200 * time.Millisecond) {
		for _, n := range hooks.notifications() {
			owner = n.analyzer
		}
		if time.Now().After(deadline) {
			t.Fatalf("no alert was notified within 2 minutes; analyzer stderr:\n%s\n%s", analyzers["a"].stderr, analyzers["b"].stderr)
		}
	}
	survivor := map[string]string{"a": "b", "b": "a"}[owner]
	for deadline := time.Now().Add(time.Minute); len(hooks.executions("/act/auto")) == 0; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the automatic action did not execute within a minute; actions: %+v", actionsOf(t, web))
		}
	}

	t.Run("takeover", func(t *testing.T) {
		// A few ticks of the owner alone notifying, then it dies.
		time.Sleep(3 * interval)
		killed := time.Now()
		analyzers[owner].kill()
		var alone, notified time.Time
		for deadline := killed.Add(time.Minute); alone.IsZero() || notified.IsZero(); time.Sleep(100 * time.Millisecond) {
			if alone.IsZero() && analyzers[survivor].metric(t, "vigil_analyzer_replicas") == 1 {
				alone = time.Now()
			}
			for _, n := range hooks.notifications() {
				if n.analyzer == survivor && notified.IsZero() {
					notified = n.at
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("analyzer %s has not taken over a minute after %s was killed (alone: %v, notified: %v); stderr:\n%s",
					survivor, owner, !alone.IsZero(), !notified.IsZero(), analyzers[survivor].stderr)
			}
		}
		// The gauge is set when a tick begins; polled, it is seen a little
		// later, so this counts at most one tick too many, never too few.
		if n := ticksBetween(killed, alone, interval); n > 2 {
			t.Errorf("analyzer %s took over %d ticks after %s was killed, want at most 2", survivor, n, owner)
		}
		t.Logf("analyzer %s counted itself alone %s (%d ticks) after %s was killed, and notified the firing alert %s after",
			survivor, alone.Sub(killed).Round(100*time.Millisecond), ticksBetween(killed, alone, interval), owner, notified.Sub(killed).Round(100*time.Millisecond))
		time.Sleep(2 * interval) // the survivor's notifications go on

		ns := hooks.notifications()
		starts := checkTransitions(t, ns)
		// Until the kill only the owner notified; after it only the
		// survivor: never both for one alert.
		for _, n := range ns {
			if n.analyzer == survivor && n.at.Before(killed) {
				t.Errorf("alert %s was notified by %s too while %s owned it", n.fingerprint, survivor, owner)
			}
		}
		took := map[string]bool{}
		for _, n := range ns {
			if n.analyzer == survivor {
				took[n.fingerprint] = true
			}
		}
		for fp := range starts {
			if !took[fp] {
				t.Errorf("alert %s was not notified by %s after the takeover", fp, survivor)
			}
		}
		checkOnce(t, "/act/auto", hooks.executions("/act/auto"))
		if len(hooks.executions("/act/approve")) != 0 {
			t.Errorf("the policy awaiting approval executed: %v", hooks.executions("/act/approve"))
		}
	})

	t.Run("restart", func(t *testing.T) {
		var pending actions.Summary
		for deadline := time.Now().Add(time.Minute); pending.ID == ""; time.Sleep(500 * time.Millisecond) {
			for _, a := range actionsOf(t, web) {
				if a.Policy == "hook-approve" && a.State == actions.Proposed {
					pending = a
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no proposal awaits approval: %+v", actionsOf(t, web))
			}
		}
		// The proposal is approved with the kill switch on: approved and
		// not executed when everything dies.
		postAPI(t, web, token, "/api/v1/actions/pause", `{"reason": "hold the approval over the restart"}`)
		postAPI(t, web, operator, "/api/v1/actions/"+pending.ID+"/approve", fmt.Sprintf(`{"reason": "before the restart", "version": %d}`, pending.Version))
		if s := stateOf(t, web, pending.ID); s != actions.Approved {
			t.Fatalf("action %s is %s after its approval", pending.ID, s)
		}
		startsBefore := checkTransitions(t, hooks.notifications())
		autoBefore := hooks.executions("/act/auto")
		loads := []*spanLoad{startLoad(t, collectors[0], true, 0), startLoad(t, collectors[1], false, 1<<32)}
		time.Sleep(3 * time.Second)

		// Everything dies at once, as a power cut would have it.
		var all []*roleProc
		all = append(all, collectors...)
		all = append(all, web, analyzers[survivor])
		var wg sync.WaitGroup
		for _, r := range all {
			wg.Go(r.kill)
		}
		wg.Go(func() { c.run(t, "kill", "s1r1", "s1r2", "s2r1", "s2r2", "zookeeper") })
		wg.Wait()
		killed := time.Now()
		for _, l := range loads {
			l.finish()
		}
		// The store, the collectors and the web role first: there, still
		// approved and not executed, the action is let go (the kill
		// switch turned off) before the analyzers start, so both of their
		// dispatchers take the approval up from the store at once, before
		// either has learnt from a tick that the other is alive.
		c.run(t, "start")
		for _, r := range append(collectors, web) {
			r.restart(t)
		}
		if s := stateOf(t, web, pending.ID); s != actions.Approved {
			t.Fatalf("action %s is %s after the restart, want still approved", pending.ID, s)
		}
		if n := hooks.executions("/act/approve"); len(n) != 0 {
			t.Fatalf("the approved action executed with the kill switch on: %v", n)
		}
		postAPI(t, web, token, "/api/v1/actions/resume", `{"reason": "restarted"}`)
		for _, a := range analyzers {
			a.launch(t)
		}
		for _, a := range analyzers {
			a.awaitReady(t)
		}
		t.Logf("everything was started again %s after the kill", time.Since(killed).Round(100*time.Millisecond))
		settle(t, c, db, collectors, loads)

		// Several ticks of the restarted analyzers: the alert is notified
		// again with its start, and nothing executes again.
		restarted := time.Now()
		for deadline := restarted.Add(2 * time.Minute); ; time.Sleep(500 * time.Millisecond) {
			again := 0
			for _, n := range hooks.notifications() {
				if n.at.After(restarted) {
					again++
				}
			}
			if again >= 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the firing alert was not notified after the restart; analyzer stderr:\n%s\n%s", analyzers["a"].stderr, analyzers["b"].stderr)
			}
		}
		startsAfter := checkTransitions(t, hooks.notifications())
		for fp, at := range startsBefore {
			if !startsAfter[fp].Equal(at) {
				t.Errorf("alert %s started %s before the restart, %s after", fp, at, startsAfter[fp])
			}
		}
		if got := hooks.executions("/act/auto"); fmt.Sprint(got) != fmt.Sprint(autoBefore) {
			t.Errorf("the automatic action's executions went from %v to %v across the restart", autoBefore, got)
		}

		// The approval survived the restart and, let go, executes once.
		for deadline := time.Now().Add(time.Minute); hooks.executions("/act/approve")[pending.ID] == 0; time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the approved action did not execute within a minute of the resume: %+v", actionsOf(t, web))
			}
		}
		time.Sleep(3 * interval) // time for a second execution to show
		approved := hooks.executions("/act/approve")
		checkOnce(t, "/act/approve", approved)
		checkOnce(t, "/act/auto", hooks.executions("/act/auto"))
		t.Logf("after the restart: %d alerts firing with their starts; posts by action: approved %v, automatic %v",
			len(startsAfter), approved, hooks.executions("/act/auto"))
	})
}
