package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/analyzer"
	"github.com/vigil-dev/vigil/analyzer/drift"
	"github.com/vigil-dev/vigil/analyzer/rightsize"
	"github.com/vigil-dev/vigil/demo"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
	"github.com/vigil-dev/vigil/web/ui/uitest"
)

// TestDemoStory runs `vigil serve --demo --speed 10` as a user would and
// follows its story through the API: traces of every service arrive (the
// jaeger-client-go ranker's too), the canary fails, the SLO's page alert
// fires, the rollback is proposed, the local admin approves it on the
// Actions page in headless Chromium, the webhook executor rolls the
// fleet's canary back, the verification sees the SLO stop burning (on
// the action's page, through the API and on the SLO's page), and the
// drift, resize and anomaly findings are in the store.
func TestDemoStory(t *testing.T) {
	// Parallel: the story mostly waits on the demo clock.
	t.Parallel()
	chrome := uitest.Chromium(t) // before the story: without a browser there is no test
	data := t.TempDir()
	web, control := freeAddr(t), freeAddr(t)
	args := []string{"serve", "--demo", "--speed", "10", "--data-dir", data, "--web.listen-address", web, "--demo.control-address", control,
		"--collector.otlp-grpc-address", freeAddr(t), "--collector.http-address", freeAddr(t), "--collector.jaeger-agent-address", freeUDPAddr(t)}
	cmd := exec.Command(binary, args...)
	// Read while the process writes them.
	var stdout, stderr syncBuf
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	base := "http://" + web
	// await polls check every half second until it says done, failing the
	// test with the server's log after within.
	await := func(what string, within time.Duration, check func() bool) time.Duration {
		t.Helper()
		for deadline := time.Now().Add(within); ; time.Sleep(500 * time.Millisecond) {
			select {
			case err := <-exited:
				t.Fatalf("vigil exited (%v) while waiting for %s; stderr:\n%s", err, what, tail(stderr.String()))
			default:
			}
			if check() {
				took := time.Since(began)
				t.Logf("%s: %.1fs after the start", what, took.Seconds())
				return took
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not happen within %s; stderr:\n%s", what, within, tail(stderr.String()))
			}
		}
	}

	// The banner says where to sign in, and the password.
	var password string
	await("the banner", time.Minute, func() bool {
		m := regexp.MustCompile(`open (http://\S+/) and sign in as admin, password (\S+)\.`).FindStringSubmatch(stdout.String())
		if m != nil {
			password = m[2]
		}
		return m != nil
	})
	s := signIn(t, base, password)

	// The first page with live data: the services page lists the
	// gateway's traffic (what a newcomer opening the printed URL sees).
	await("the first page with live data", 2*time.Minute, func() bool {
		code, body := s.do("GET", "/services", "")
		return code == 200 && bytes.Contains(body, []byte("data-rows")) && bytes.Contains(body, []byte("llm-gateway"))
	})
	// Live data: a trace of the gateway from the last minute.
	await("the first live trace", 2*time.Minute, func() bool {
		var got jaegerTraces
		return s.getJSON("/api/traces?service=llm-gateway&lookback=1m&limit=1", &got) && len(got.Data) > 0
	})
	// Every service, the ranker on jaeger-client-go included.
	await("traces of every service", 2*time.Minute, func() bool {
		var services struct{ Data []string }
		if !s.getJSON("/api/services", &services) {
			return false
		}
		for _, want := range []string{"llm-gateway", "chat-model", "embedding", "vector-search", "ranker"} {
			if !contains(services.Data, want) {
				return false
			}
		}
		return true
	})
	history := await("the week of history stored", 4*time.Minute, func() bool { return strings.Contains(stderr.String(), "the week of history is in") })

	// The canary regresses two story-minutes later; it fails and a
	// rollback is proposed.
	var proposed actions.Summary
	regression := await("the regression", 2*time.Minute, func() bool { return strings.Contains(stderr.String(), "canary v2 of the chat model ships") })
	proposal := await("the rollback's proposal", 4*time.Minute, func() bool {
		var page struct{ Actions []actions.Summary }
		if !s.getJSON("/api/v1/actions?policy="+demo.RollbackPolicy+"&state=proposed", &page) || len(page.Actions) == 0 {
			return false
		}
		proposed = page.Actions[0]
		return true
	})
	t.Logf("history in %.1fs; regression to proposal %.1fs", history.Seconds(), (proposal - regression).Seconds())
	var full actions.Action
	if !s.getJSON("/api/v1/actions/"+proposed.ID, &full) || proposed.Trigger != actions.OnCanary || full.Plan.Target.URL == "" || full.Mode != actions.Approve {
		t.Fatalf("the proposal: %+v", full)
	}

	// The page alert fires on the time-to-first-token SLO while the
	// canary still serves: an operator approves after it, as the story
	// goes. (Approving at once can end the regression before the fast-burn
	// window's two minutes have seen enough of it to page.)
	await("the SLO's page alert", 3*time.Minute, func() bool {
		var alerts []struct {
			State  string
			Labels map[string]string
		}
		if !s.getJSON("/api/v1/alerts", &alerts) {
			return false
		}
		for _, a := range alerts {
			if a.Labels["slo"] == "chat-ttft" && a.Labels["severity"] == "page" && (a.State == "firing" || a.State == "resolved") {
				return true
			}
		}
		return false
	})
	// An operator approves it in the browser: the Actions inbox, the
	// proposal's page with its evidence and plan, Approve with a reason
	// behind the confirmation.
	ctx, console := uitest.Browser(t, chrome, 12*time.Minute)
	browse := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("in the browser, %s: %v\nconsole: %v\nstderr:\n%s", what, err, console.Take(), tail(stderr.String()))
		}
	}
	text := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("in the browser, %s: %v", js, err)
		}
		return v
	}
	const row = `#inbox + table a[data-row]`
	browse("sign in", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "admin"), chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Submit(chromedp.CSS("#password")), chromedp.WaitVisible(chromedp.CSS("table.data")))
	browse("the Actions inbox", chromedp.Navigate(base+"/actions"), chromedp.WaitVisible(chromedp.CSS(row)))
	if href := text(`document.querySelector("` + row + `").getAttribute("href")`); !strings.Contains(href, proposed.ID) {
		t.Fatalf("the inbox's first action links to %q, not to the proposal %s", href, proposed.ID)
	}
	const reason = "the canary fails its analysis and the chat SLO pages"
	browse("approve the proposal", chromedp.Click(chromedp.CSS(row)), chromedp.WaitVisible(chromedp.CSS("#plan")),
		chromedp.Click(chromedp.CSS("details.decision-approve summary")), chromedp.WaitVisible(chromedp.CSS("#reason-approve")),
		chromedp.SendKeys(chromedp.CSS("#reason-approve"), reason),
		chromedp.Click(chromedp.CSS("#confirm-approve")), chromedp.Click(chromedp.CSS("button.approve")),
		chromedp.WaitVisible(chromedp.CSS("p.done")))
	approved := time.Now()
	t.Logf("approved in the browser %.1fs after the start", approved.Sub(began).Seconds())

	// The page follows the action: executed (the fleet's answer in the
	// timeline), then verified against the SLO.
	browse("the action verified on its page", uitest.Void(chromedp.Poll[bool](`!!document.querySelector("#timeline .step-succeeded, #timeline .step-failed")`,
		chromedp.WithPollingTimeout(6*time.Minute), chromedp.WithPollingInterval(2*time.Second))))
	timeline := text(`document.querySelector("#timeline").textContent`)
	if !strings.Contains(timeline, "succeeded") || !strings.Contains(timeline, "serves no traffic") || !strings.Contains(timeline, "below 1") || !strings.Contains(timeline, reason) {
		t.Fatalf("the action's timeline on the page:\n%s", timeline)
	}

	// Through the API: the person's approval, the execution, the
	// verification's burn rate since the rollback.
	var done actions.Action
	if !s.getJSON("/api/v1/actions/"+proposed.ID, &done) || done.State != actions.Succeeded {
		t.Fatalf("the action through the API: %+v", done)
	}
	var byPerson, executed bool
	for _, st := range done.Timeline {
		byPerson = byPerson || st.State == actions.Approved && st.Actor == "person:admin" && st.Decision == actions.VerbApprove && st.Reason == reason
		executed = executed || st.State == actions.Verifying && strings.Contains(st.Result, "serves no traffic")
	}
	if !byPerson || !executed {
		t.Fatalf("the timeline through the API lacks the admin's approval or the execution: %+v", done.Timeline)
	}
	// The fleet: its control endpoint took the rollback from this action,
	// and Vigil sees no canary span since.
	await("the canary rolled back", time.Minute, func() bool {
		resp, err := http.Get("http://" + control + "/control/state")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var st demo.State
		json.NewDecoder(resp.Body).Decode(&st)
		return st.Routing.CanaryWeight == 0 && len(st.Changes) == 1 && st.Changes[0].Action == proposed.ID
	})
	since := approved.Add(30 * time.Second) // past the requests already under way
	await("stable answers since the rollback, and no canary's", 2*time.Minute, func() bool {
		q := func(deployment string) int {
			var got jaegerTraces
			tags := url.QueryEscape(`{"deployment.name":"` + deployment + `"}`)
			if !s.getJSON(fmt.Sprintf("/api/traces?service=chat-model&tags=%s&start=%d&end=%d&limit=50", tags, since.UnixMicro(), time.Now().UnixMicro()), &got) {
				return -1
			}
			return len(got.Data)
		}
		if n := q(demo.Canary); n != 0 {
			if n > 0 {
				t.Fatalf("%d traces of the canary since the rollback", n)
			}
			return false
		}
		return q(demo.Stable) > 0
	})
	// The SLO: its fast-burn window falls below 1, through the API and on
	// its page.
	await("the SLO's fast burn below 1", 5*time.Minute, func() bool {
		var st struct {
			BurnRates []struct {
				Severity     string   `json:"severity"`
				LongBurnRate *float64 `json:"long_burn_rate"`
			} `json:"burn_rates"`
		}
		if !s.getJSON("/api/v1/slos/chat-ttft", &st) {
			return false
		}
		for _, b := range st.BurnRates {
			if b.Severity == "page" {
				return b.LongBurnRate != nil && *b.LongBurnRate < 1
			}
		}
		return false
	})
	browse("the SLO's page", chromedp.Navigate(base+"/slos/chat-ttft"), chromedp.WaitVisible(chromedp.CSS("#burn + table tbody tr")))
	if burn := text(`document.querySelector("#burn + table tbody tr td:nth-child(5)").textContent`); !burnBelow1(burn) {
		t.Errorf("the SLO's page shows the fast burn at %q", burn)
	}
	if errs := console.Take(); len(errs) > 0 {
		t.Errorf("the pages logged errors: %v", errs)
	}

	// The drift (six story-minutes in), the resize advice (every two
	// minutes) and the anomaly (eight story-minutes in) come later: wait for
	// the last step, then a little more for the analyzer.
	await("yesterday's bill", 2*time.Minute, func() bool {
		return strings.Contains(stderr.String(), "imported the fleet's cloud bill\" component=demo file=focus-") && strings.Count(stderr.String(), "imported the fleet's cloud bill") == 2
	})
	time.Sleep(2*time.Minute + 10*time.Second)

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(time.Minute):
		t.Fatalf("vigil did not stop; stderr:\n%s", tail(stderr.String()))
	}
	st, err := embedded.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, q := context.Background(), store.EventQuery{Tenant: store.DefaultTenant, Start: began.Add(-48 * time.Hour), End: time.Now().Add(time.Hour)}
	verdicts, err := drift.Verdicts.Read(ctx, st, q)
	drifted := false
	for _, v := range verdicts {
		drifted = drifted || v.Value.Monitor == "embedding-prompt-length" && v.Value.Drifted
	}
	if err != nil || !drifted {
		t.Errorf("no prompt-length drift among %d verdicts (%v)", len(verdicts), err)
	}
	advices, err := rightsize.Advices.Read(ctx, st, q)
	gpuAdvice := false
	for _, a := range advices {
		for _, r := range a.Value.Resources {
			for _, g := range r.GPUs {
				gpuAdvice = gpuAdvice || r.Workload == "embedding-server" && len(g.Options) > 0 && g.UtilP95 < 40
			}
		}
	}
	if err != nil || !gpuAdvice {
		t.Errorf("no GPU advice for the idle embedding servers among %d advices (%v)", len(advices), err)
	}
	anomalies, err := analyzer.SpendAnomalies.Read(ctx, st, q)
	if err != nil || len(anomalies) == 0 || anomalies[0].Value.Group["service"] != "OpenAI API" {
		t.Errorf("spend anomalies %+v (%v)", anomalies, err)
	}
	if strings.Contains(stderr.String(), password) {
		t.Errorf("the admin's password is in the log")
	}
}

// session is a browser's sign-in: its cookies and CSRF token.
type session struct {
	t       *testing.T
	base    string
	cookies []*http.Cookie
	csrf    string
}

// signIn signs in as the local admin through the sign-in form, as a
// browser does. The cookies are kept by hand: they are Secure on
// loopback, which Go's cookie jar would not send over plain HTTP.
func signIn(t *testing.T, base, password string) *session {
	t.Helper()
	s := &session{t: t, base: base}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Transport: http.DefaultTransport}
	resp, err := client.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s.keep(resp)
	form := url.Values{"username": {"admin"}, "password": {password}, "csrf": {s.csrf}}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	s.add(req)
	if resp, err = client.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s.keep(resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %s", resp.Status)
	}
	return s
}

func (s *session) keep(resp *http.Response) {
	for _, c := range resp.Cookies() {
		if c.Name == "vigil_csrf" {
			s.csrf = c.Value
		}
		s.cookies = append(s.cookies, c)
	}
}

func (s *session) add(req *http.Request) {
	seen := map[string]bool{}
	for i := len(s.cookies) - 1; i >= 0; i-- { // the newest of each name
		if c := s.cookies[i]; !seen[c.Name] {
			seen[c.Name] = true
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	req.Header.Set("X-CSRF-Token", s.csrf)
}

func (s *session) do(method, path, body string) (int, []byte) {
	req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
	s.add(req)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	// The plain transport: this is the browser's session, not a token.
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (s *session) getJSON(path string, out any) bool {
	code, body := s.do("GET", path, "")
	return code == 200 && json.Unmarshal(body, out) == nil
}

func (s *session) post(path, body string) (int, []byte) { return s.do("POST", path, body) }

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// burnBelow1 reads a burn rate as a page shows it ("0.42×").
func burnBelow1(shown string) bool {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(shown), "×"), 64)
	return err == nil && v < 1
}

// tail is the end of a long log.
func tail(s string) string {
	if len(s) > 8000 {
		return "..." + s[len(s)-8000:]
	}
	return s
}
