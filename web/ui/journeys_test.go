package ui

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// billRange is the month of the FOCUS sample's charges: the cost page
// reads it with an absolute range.
const billRange = "from=2024-09-01T00:00:00Z&to=2024-10-01T00:00:00Z"

// importBills sends the FOCUS 1.0 sample (1,000 anonymised real billing
// rows of the FOCUS project's sample data, kept in
// collector/billing/testdata) through the billing importer, as a user's
// upload.
func importBills(t *testing.T, s *server) {
	data, err := os.ReadFile("../../collector/billing/testdata/focus_1.0_sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", s.url+"/api/v1/billing/import?name=focus.csv", strings.NewReader(string(data)))
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("importing the bills: %d %s", resp.StatusCode, body)
	}
}

// receiver is a webhook receiver the call-oncall policy's executor posts
// to: what the test observes of an executed action.
type receiver struct {
	*httptest.Server
	mu    sync.Mutex
	calls []string      // the Idempotency-Key of each POST: the action's id
	hold  chan struct{} // when set, a POST is answered once it is closed
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		rc.mu.Lock()
		rc.calls = append(rc.calls, r.Header.Get("Idempotency-Key"))
		hold := rc.hold
		rc.mu.Unlock()
		if hold != nil {
			// Within the executor's 30-second attempt, whatever the test does.
			select {
			case <-hold:
			case <-time.After(20 * time.Second):
			}
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// holdCalls keeps the webhook's answers back until release is called: the
// action stays executing meanwhile.
func (rc *receiver) holdCalls() (release func()) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.hold = make(chan struct{})
	ch := rc.hold
	return sync.OnceFunc(func() { close(ch) })
}

func (rc *receiver) got() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.calls...)
}

// proposals are the actions waiting for a decision, from the API.
func proposals(t *testing.T, s *server) []string {
	var page struct {
		Actions []struct{ ID string }
	}
	json.Unmarshal([]byte(s.body(t, "/api/v1/actions?state=proposed")), &page)
	var ids []string
	for _, a := range page.Actions {
		ids = append(ids, a.ID)
	}
	return ids
}

// waitForProposal waits until the page alert has made the policy propose
// its action.
func waitForProposal(t *testing.T, s *server) {
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		if len(proposals(t, s)) > 0 {
			return
		}
	}
	t.Fatalf("no action was proposed: %s\nstderr:\n%s", s.body(t, "/api/v1/actions"), s.stderr)
}

func firstAction(t *testing.T, s *server) string {
	ids := proposals(t, s)
	if len(ids) == 0 {
		t.Fatal("no proposal")
	}
	return ids[0]
}

// costJourney: the cost page of the sample's month aggregates by
// provider; a row drills into it (the breadcrumb grows, the filter is in
// the URL), and its CSV link downloads the rows shown.
func costJourney(t *testing.T, ctx context.Context, s *server) {
	row := chromedp.CSS(`#allocation ~ table a[data-row]`)
	do(t, ctx, "cost", chromedp.Navigate(s.url+"/cost?"+billRange), chromedp.WaitVisible(row))
	first := eval[string](t, ctx, `document.querySelector("#allocation ~ table a[data-row]").textContent`)
	do(t, ctx, "drill down", chromedp.Click(row), chromedp.WaitVisible(chromedp.CSS(`nav.breadcrumb li:nth-child(2)`)))
	waitLocation(t, ctx, "the drill-down", func(loc string) bool { return strings.Contains(loc, "f=provider%3A") })
	if crumb := eval[string](t, ctx, `document.querySelector("nav.breadcrumb [aria-current]").textContent`); crumb != "provider = "+first {
		t.Errorf("the breadcrumb ends at %q, want provider = %s", crumb, first)
	}
	shown := eval[int](t, ctx, `document.querySelectorAll("#allocation ~ table tbody tr").length`)
	csv := eval[string](t, ctx, `fetch(document.querySelector('a[href*="table=allocation"]').href).then(r => r.text())`)
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	if !strings.HasPrefix(lines[0], "service,currency,billed_cost,effective_cost") || len(lines)-1 != shown {
		t.Errorf("the CSV has %d rows, the page %d:\n%.500s", len(lines)-1, shown, csv)
	}
}

// sseSpy wraps EventSource, before any script of a page runs, to count
// the streams opened and the timeline events they brought.
const sseSpy = `(() => {
  const Real = window.EventSource;
  if (!Real) return;
  window.__sse = { open: 0, timeline: 0 };
  window.EventSource = class extends Real {
    constructor(url, init) {
      super(url, init);
      this.addEventListener("open", () => window.__sse.open++);
      this.addEventListener("timeline", () => window.__sse.timeline++);
    }
  };
})();`

// actionJourney: the proposed action is first in the inbox; its page
// shows the evidence and the plan; a person approves it with a reason
// behind the confirmation; the webhook receives the call, and the
// timeline on the page follows the action through execution, brought
// by the server's events without a reload. The webhook's answer is held
// until the page's stream is open, so the execution's end can only reach
// the page through the stream.
func actionJourney(t *testing.T, ctx context.Context, s *server, hook *receiver) {
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: sseSpy}); err != nil {
		t.Fatal(err)
	}
	release := hook.holdCalls()
	defer release()
	row := chromedp.CSS(`#inbox + table a[data-row]`)
	do(t, ctx, "inbox", chromedp.Navigate(s.url+"/actions"), chromedp.WaitVisible(row))
	if title := eval[string](t, ctx, `document.querySelector("#inbox + table a[data-row]").textContent`); !strings.HasPrefix(title, "Call the webhook at 127.0.0.1") {
		t.Errorf("the inbox's first action is %q", title)
	}
	do(t, ctx, "the action", chromedp.Click(row), chromedp.WaitVisible(chromedp.CSS("#plan")),
		chromedp.Click(chromedp.CSS("details.decision-approve summary")), chromedp.WaitVisible(chromedp.CSS("#reason-approve")),
		chromedp.SendKeys(chromedp.CSS("#reason-approve"), "page the on-call: the gateway burns its budget"),
		chromedp.Click(chromedp.CSS("#confirm-approve")), chromedp.Click(chromedp.CSS("button.approve")),
		chromedp.WaitVisible(chromedp.CSS("p.done")))
	id := eval[string](t, ctx, `location.pathname.split("/").pop()`)
	eval[bool](t, ctx, `window.__sameDocument = true`) // a reload would lose it
	err := chromedp.Do(ctx, void(chromedp.Poll[bool](`window.__sse?.open > 0`, chromedp.WithPollingTimeout(30*time.Second))))
	if err != nil {
		t.Fatalf("the timeline's stream did not open: %v", err)
	}
	const executed = `[...document.querySelectorAll("#timeline .step")].some(li => /verifying|succeeded/.test(li.className))`
	if eval[bool](t, ctx, executed) {
		t.Fatal("the action executed while the webhook's answer was held")
	}
	release()
	// The stream brings the timeline as the action executes.
	err = chromedp.Do(ctx, void(chromedp.Poll[bool](executed, chromedp.WithPollingTimeout(60*time.Second))))
	if err != nil {
		timeline, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#timeline").textContent`))
		t.Fatalf("the action did not execute on the page: %v\n%s\nstderr:\n%s", err, timeline, s.stderr)
	}
	if !eval[bool](t, ctx, `window.__sameDocument === true && window.__sse.timeline > 0`) {
		t.Errorf("the executed step did not come through the stream without a reload: %s", eval[string](t, ctx, `JSON.stringify([window.__sameDocument, window.__sse])`))
	}
	if calls := hook.got(); len(calls) != 1 || calls[0] != id {
		t.Errorf("the webhook received %v, want one call for %s", calls, id)
	}
	audit := eval[string](t, ctx, `fetch("/actions/audit?format=csv").then(r => r.text())`)
	if !strings.Contains(audit, "page the on-call: the gateway burns its budget") || !strings.Contains(audit, ",approve,") {
		t.Errorf("the audit trail lacks the approval:\n%.1000s", audit)
	}
}
