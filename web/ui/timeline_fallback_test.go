package ui

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/vigil-dev/vigil/actions"
)

// TestTimelineFallbackInChromium: in a browser without EventSource the
// action page's island polls the timeline panel instead, so a decision
// made elsewhere (here through the engine, as another person's browser
// would) appears without a reload. The proposal's panel asks every 15
// seconds; the test allows a minute.
func TestTimelineFallbackInChromium(t *testing.T) {
	path := chromium(t)
	u := fixtureUIOf(t, fixtureStore(t))
	srv := httptest.NewServer(Browser(muxOf(u)))
	defer srv.Close()
	ctx, console := browser(t, path)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `delete window.EventSource;`}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "the proposal", chromedp.Navigate(srv.URL+"/actions/act-rollback"), chromedp.WaitVisible(chromedp.CSS("#timeline[data-poll]")))
	if eval[bool](t, ctx, `"EventSource" in window`) {
		t.Fatal("the browser still has EventSource")
	}
	eval[bool](t, ctx, `window.__sameDocument = true`)
	if _, err := u.opts.Actions.Approve(context.Background(), "default", "act-rollback", actions.Decision{Actor: "person:grace", Reason: "restore the budget", Version: 1}); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Do(ctx, void(chromedp.Poll[bool](`document.querySelector("#timeline .step-approved") !== null`, chromedp.WithPollingTimeout(time.Minute))))
	if err != nil {
		t.Fatalf("the approval did not appear by polling: %v\n%s", err, eval[string](t, ctx, `document.querySelector("#timeline").outerHTML`))
	}
	if !eval[bool](t, ctx, `window.__sameDocument === true`) {
		t.Error("the page reloaded")
	}
	for _, e := range console.Take() {
		t.Errorf("console: %s", e)
	}
}
