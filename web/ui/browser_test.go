package ui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-dev/vigil/web/ui/uitest"
)

// These tests drive the pages in headless Chromium (Debian's chromium)
// against a real `vigil serve`, filled through the OpenTelemetry SDK as
// an instrumented AI service would fill it, signed in through the login
// page as the local admin.

// chromium finds the browser (uitest.Chromium).
func chromium(t *testing.T) string { t.Helper(); return uitest.Chromium(t) }

// server is a running `vigil serve`.
type server struct {
	url, otlp, token, password string
	stderr                     *syncBuffer
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

const browserSLOs = `slos:
  - name: chat-availability
    service: chat-gateway
    availability: true
    objective: 99%
  - name: chat-latency
    service: llm-proxy
    model: gpt-4o
    latency: 800ms
    objective: 95%
`

// browserConfig is the rest of the config directory: a drift monitor on
// the model calls' prompt tokens, and a policy that, when the
// availability SLO pages, proposes calling a webhook (the test's
// receiver, %s) for a person to approve.
const browserConfig = `drift:
  - name: prompt-tokens
    filter: {service: llm-proxy}
    watch: input_tokens
    reference: {offset: 20m}
    current: 20m
    every: 10s
actions:
  - name: call-oncall
    when: {slo: chat-availability, alert: page}
    do: {webhook: {url: "%s"}}
    mode: approve
`

// startVigil builds vigil, makes an API token, and starts `vigil serve`
// with two SLOs, a drift monitor and an action policy calling hook in its
// config directory; it reads the local admin's first password from the
// log, as a person would.
func startVigil(t *testing.T, hook string) *server {
	dir := t.TempDir()
	bin := filepath.Join(dir, "vigil")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/vigil-dev/vigil/cmd/vigil").CombinedOutput(); err != nil {
		t.Fatalf("building vigil: %v\n%s", err, out)
	}
	data, config := filepath.Join(dir, "data"), filepath.Join(dir, "config")
	os.MkdirAll(config, 0o755)
	os.WriteFile(filepath.Join(config, "slos.yaml"), []byte(browserSLOs), 0o644)
	os.WriteFile(filepath.Join(config, "more.yaml"), []byte(fmt.Sprintf(browserConfig, hook)), 0o644)
	out, err := exec.Command(bin, "token", "create", "--data-dir", data, "--tenant", "*", "--role", "admin").Output()
	if err != nil {
		t.Fatalf("vigil token create: %v", err)
	}
	web, otlp := freePort(t), freePort(t)
	s := &server{url: "http://" + web, otlp: otlp, token: strings.TrimSpace(string(out)), stderr: &syncBuffer{}}
	cmd := exec.Command(bin, "serve", "--data-dir", data, "--config-dir", config, "--web.listen-address", web,
		"--collector.http-address", otlp, "--collector.otlp-grpc-address", freePort(t), "--collector.jaeger-agent-address", freePort(t),
		"--collector.max-batch-age", "100ms", "--analyzer.interval", "2s")
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	password := regexp.MustCompile(`password=(\S+)`)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if m := password.FindStringSubmatch(s.stderr.String()); m != nil && s.get(t, "/readyz") == 200 {
			s.password = strings.Trim(m[1], `"`)
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("vigil did not start; stderr:\n%s", s.stderr)
	return nil
}

func (s *server) get(t *testing.T, path string) int {
	req, _ := http.NewRequest("GET", s.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// body reads an API path with the server's token.
func (s *server) body(t *testing.T, path string) string {
	req, _ := http.NewRequest("GET", s.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// fleet sends the last 50 minutes of a small AI fleet through the OTel
// SDK: requests to chat-gateway (one in five failing) that call a
// retriever and a model through llm-proxy with GenAI attributes, and one
// trace of 10,000 spans. It returns the big trace's id.
func fleet(t *testing.T, s *server) trace.TraceID {
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(s.otlp), otlptracehttp.WithInsecure(),
		otlptracehttp.WithHeaders(map[string]string{"authorization": "Bearer " + s.token}))
	if err != nil {
		t.Fatal(err)
	}
	providers := map[string]*sdktrace.TracerProvider{}
	tracer := func(service string) trace.Tracer {
		if providers[service] == nil {
			res := resource.NewSchemaless(attribute.String("service.name", service), attribute.String("service.version", "v7"))
			providers[service] = sdktrace.NewTracerProvider(sdktrace.WithResource(res),
				sdktrace.WithBatcher(exp, sdktrace.WithMaxQueueSize(50000), sdktrace.WithMaxExportBatchSize(2000)))
		}
		return providers[service].Tracer("vigil-ui-test")
	}
	now := time.Now()
	for i := 0; i < 600; i++ {
		at := now.Add(-50 * time.Minute).Add(time.Duration(i) * 5 * time.Second)
		request(tracer, at, i)
	}
	big := bigTrace(tracer, now.Add(-3*time.Minute))
	// Flush every provider before shutting any down: they share the
	// exporter, which the first Shutdown closes.
	for _, p := range providers {
		if err := p.ForceFlush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range providers {
		p.Shutdown(ctx)
	}
	return big
}

// request is one chat request: gateway, retrieval, then a model call.
func request(tracer func(string) trace.Tracer, at time.Time, i int) {
	ms := func(n int) time.Time { return at.Add(time.Duration(n) * time.Millisecond) }
	ctx, root := tracer("chat-gateway").Start(context.Background(), "POST /chat", trace.WithTimestamp(at), trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.route", "/chat"), attribute.String("user.tier", []string{"free", "pro"}[i%2])))
	_, ret := tracer("retriever").Start(ctx, "search documents", trace.WithTimestamp(ms(5)), trace.WithSpanKind(trace.SpanKindServer))
	ret.End(trace.WithTimestamp(ms(40 + i%30)))
	model := []string{"gpt-4o", "gpt-4o-mini"}[i%2]
	took := 200 + (i*37)%900
	_, call := tracer("llm-proxy").Start(ctx, "chat "+model, trace.WithTimestamp(ms(50)), trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.provider.name", "openai"),
		attribute.String("gen_ai.request.model", model), attribute.Int("gen_ai.usage.input_tokens", 400+i%700),
		attribute.Int("gen_ai.usage.output_tokens", 80+i%300), attribute.String("gen_ai.prompt.0.content", "What is our refund policy?"),
		attribute.String("gen_ai.completion.0.content", "Refunds are possible within 30 days.")))
	call.AddEvent("first_token", trace.WithTimestamp(ms(120)))
	if i%5 == 0 {
		call.SetStatus(codes.Error, "rate limited")
		root.SetStatus(codes.Error, "upstream 429")
	}
	call.End(trace.WithTimestamp(ms(50 + took)))
	root.End(trace.WithTimestamp(ms(60 + took)))
}

// bigTrace is one request of 10,000 spans: a batch job fanning out to
// 99 workers of 100 steps each.
func bigTrace(tracer func(string) trace.Tracer, at time.Time) trace.TraceID {
	ctx, root := tracer("batch").Start(context.Background(), "embed corpus", trace.WithTimestamp(at), trace.WithSpanKind(trace.SpanKindServer))
	for w := 0; w < 99; w++ {
		wctx, worker := tracer("batch").Start(ctx, fmt.Sprintf("worker %d", w), trace.WithTimestamp(at.Add(time.Duration(w)*time.Millisecond)))
		for s := 0; s < 100; s++ {
			start := at.Add(time.Duration(w+s*10) * time.Millisecond)
			_, step := tracer("llm-proxy").Start(wctx, "embeddings", trace.WithTimestamp(start), trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(attribute.String("gen_ai.request.model", "text-embedding-3-small"), attribute.Int("gen_ai.usage.input_tokens", 300)))
			step.End(trace.WithTimestamp(start.Add(9 * time.Millisecond)))
		}
		worker.End(trace.WithTimestamp(at.Add(time.Duration(w+990) * time.Millisecond)))
	}
	root.End(trace.WithTimestamp(at.Add(1200 * time.Millisecond)))
	return root.SpanContext().TraceID()
}

// browser starts Chromium (uitest.Browser) for five minutes.
func browser(t *testing.T, path string) (context.Context, *consoleLog) {
	ctx, log := uitest.Browser(t, path, 5*time.Minute)
	consoleOf[ctx] = log
	return ctx, log
}

// consoleOf finds a browser's console log from its context.
var consoleOf = map[context.Context]*consoleLog{}

type consoleLog = uitest.Console

func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// settled waits until the page's lazy panels have loaded and its charts
// are drawn.
func settled(t *testing.T, ctx context.Context) {
	console := consoleOf[ctx]
	t.Helper()
	const done = `document.querySelectorAll(".panel .loading").length === 0 &&
		[...document.querySelectorAll("figure[data-chart]")].every(f => f.chart || f.querySelector(".plot").textContent)`
	err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("main")), void(chromedp.Poll[bool](done, chromedp.WithPollingTimeout(30*time.Second))))
	if err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`typeof htmx + " " + (window.htmx && htmx.version) + " " + (document.querySelector(".panel")?.outerHTML.slice(0, 300)) + location.href + " loading: " + document.querySelectorAll(".panel .loading").length +
			" charts: " + document.querySelectorAll("figure[data-chart]").length + " drawn: " + [...document.querySelectorAll("figure[data-chart]")].filter(f => f.chart).length`))
		t.Fatalf("the page did not settle (%v): %s\nconsole: %v", err, state, console.Take())
	}
}

func signIn(t *testing.T, ctx context.Context, s *server) {
	do(t, ctx, "sign in", chromedp.Navigate(s.url+"/"), chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "admin"), chromedp.SendKeys(chromedp.CSS("#password"), s.password),
		chromedp.Submit(chromedp.CSS("#password")), chromedp.WaitVisible(chromedp.CSS("table.data")))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/services") {
		t.Fatalf("after signing in: %s", loc)
	}
}

// waitForAlert waits until the analyzer has judged the SLOs and the
// availability alert fires: a fifth of the requests fail, twenty times
// the budget's pace.
func waitForAlert(t *testing.T, s *server) {
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(s.body(t, "/api/v1/alerts"), `"state":"firing"`) {
			return
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("no alert fired: %s\nstderr:\n%s", s.body(t, "/api/v1/alerts"), s.stderr)
}

// TestPagesInChromium loads every page signed in, light and dark: no
// JavaScript error, no serious or critical axe-core violation, and a
// screenshot of each at 1440×900 under $VIGIL_SCREENSHOTS (or a folder
// the test prints). Then the journeys: alert → SLO → traces → trace; a
// copied link reproduces its view; dragging on a chart zooms into the
// URL and Back returns; the 10,000-span waterfall keeps few rows in the
// DOM and reaches its last span; a trace lists its logs and a record
// leads to its span; the keyboard moves between pages.
func TestPagesInChromium(t *testing.T) {
	path := chromium(t)
	hook := newReceiver(t)
	s := startVigil(t, hook.URL)
	big := fleet(t, s)
	logged := loggedRequest(t, s)
	importBills(t, s)
	waitForAlert(t, s)
	waitForProposal(t, s)
	ctx, console := browser(t, path)
	shots := screenshotDir(t)
	axe, err := os.ReadFile("testdata/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	signInPage(t, ctx, s, string(axe), shots)
	signIn(t, ctx, s)
	pages := []struct{ name, path string }{
		{"services", "/services"},
		{"service", "/services/chat-gateway"},
		{"traces", "/traces?service=chat-gateway&status=error"},
		{"trace", "/traces/" + big.String()},
		{"trace-logs", "/traces/" + logged.String()},
		{"slos", "/slos"},
		{"slo", "/slos/chat-availability?from=now-3h"},
		{"alerts", "/alerts"},
		{"llm", "/llm"},
		{"llm-by-team", "/llm?by=team"},
		{"cost", "/cost?" + billRange + "&view=daily"},
		{"cost-calls", "/cost?source=calls&by=model"},
		{"drift", "/drift"},
		{"drift-report", "/drift/prompt-tokens"},
		{"canaries", "/canaries"},
		{"recommendations", "/recommendations"},
		{"actions", "/actions"},
		{"action", "/actions/" + firstAction(t, s)},
		{"audit", "/actions/audit"},
		{"settings", "/settings"},
	}
	for _, p := range pages {
		for _, theme := range []string{"light", "dark"} {
			media := emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: theme}}}
			if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, media); err != nil {
				t.Fatal(err)
			}
			do(t, ctx, p.name, chromedp.Navigate(s.url+p.path))
			settled(t, ctx)
			checkAxe(t, ctx, p.name+" "+theme, string(axe))
			png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(shots, p.name+"-"+theme+".png"), png, 0o644)
			for _, e := range console.Take() {
				t.Errorf("%s (%s): %s", p.name, theme, e)
			}
		}
	}
	t.Logf("screenshots of every page, light and dark, at 1440×900: %s", shots)
	journey(t, ctx, s)
	silence(t, ctx, s)
	copiedLink(t, ctx, s)
	dragZoom(t, ctx, s)
	bigWaterfall(t, ctx, s, big)
	traceLogs(t, ctx, s, logged)
	keyboard(t, ctx, s)
	costJourney(t, ctx, s)
	actionJourney(t, ctx, s, hook)
	for _, e := range console.Take() {
		t.Errorf("journeys: %s", e)
	}
}

func screenshotDir(t *testing.T) string {
	dir := os.Getenv("VIGIL_SCREENSHOTS")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "vigil-screenshots-"); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkAxe runs axe-core on the page and fails on serious and critical
// violations, naming each rule and its first elements.
func checkAxe(t *testing.T, ctx context.Context, page, axe string) {
	t.Helper()
	type violation struct {
		ID, Impact, Help string
		Nodes            []struct{ Target []any }
	}
	eval[bool](t, ctx, axe+";true")
	vs := eval[[]violation](t, ctx, `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations)`)
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			var where []string
			for i, n := range v.Nodes {
				if i < 3 {
					where = append(where, fmt.Sprint(n.Target...))
				}
			}
			t.Errorf("%s: axe %s (%s): %s at %s", page, v.ID, v.Impact, v.Help, strings.Join(where, "; "))
		}
	}
}

// journey follows an alert to its evidence: the alerts page's firing
// alert opens its SLO, whose bad events open the failed traces, the first
// of which opens its trace and a span's detail.
func journey(t *testing.T, ctx context.Context, s *server) {
	link := chromedp.CSS(`#firing + table a[data-row][href^="/slos/chat-availability"]`)
	do(t, ctx, "alerts", chromedp.Navigate(s.url+"/alerts"), chromedp.WaitVisible(link), chromedp.Click(link), chromedp.WaitVisible(chromedp.CSS("#burn")))
	settled(t, ctx)
	do(t, ctx, "bad events", chromedp.Click(chromedp.Search(`//a[text()="Traces of bad events"]`)),
		chromedp.WaitVisible(chromedp.CSS("table.data a[data-row]")))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/traces?") || !strings.Contains(loc, "status=error") {
		t.Errorf("the SLO's bad events are at %s", loc)
	}
	do(t, ctx, "a trace", chromedp.Click(chromedp.CSS("table.data a[data-row]")), chromedp.WaitVisible(chromedp.CSS(".wf-viewport .wf-row")))
	do(t, ctx, "a span", chromedp.Click(chromedp.CSS(".wf-viewport .wf-row:nth-child(3) a")),
		void(chromedp.Poll[bool](`location.search.includes("span=") && document.querySelector("#span-detail h2") !== null`)))
	if detail := eval[string](t, ctx, `document.querySelector("#span-detail").textContent`); !strings.Contains(detail, "Duration") {
		t.Errorf("span detail: %q", detail)
	}
}

// silence creates a silence from a firing alert, its matchers pre-filled,
// through the form and its CSRF token.
func silence(t *testing.T, ctx context.Context, s *server) {
	form := `#firing + table details`
	do(t, ctx, "silence", chromedp.Navigate(s.url+"/alerts"), chromedp.WaitVisible(chromedp.CSS(form)),
		chromedp.Click(chromedp.CSS(form+" summary")), chromedp.WaitVisible(chromedp.CSS(form+" textarea")))
	if m := eval[string](t, ctx, `document.querySelector("#firing + table details textarea").value`); !strings.Contains(m, "slo=chat-") || !strings.Contains(m, "severity=") {
		t.Errorf("the silence's matchers are not pre-filled: %q", m)
	}
	do(t, ctx, "submit the silence", chromedp.SendKeys(chromedp.CSS(form+` input[name="comment"]`), "deploying the fix"),
		chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS("p.done")))
	if n := eval[int](t, ctx, `document.querySelectorAll("#silences + table tbody tr").length`); n != 1 {
		t.Errorf("%d silences in force after creating one", n)
	}
}

// copiedLink: the link with absolute time, opened again, shows the same
// rows in the same order.
func copiedLink(t *testing.T, ctx context.Context, s *server) {
	do(t, ctx, "traces", chromedp.Navigate(s.url+"/traces?service=chat-gateway&sort=-duration&limit=20"), chromedp.WaitVisible(chromedp.CSS("table.data")))
	rows := eval[string](t, ctx, `document.querySelector("table.data tbody").textContent`)
	link := eval[string](t, ctx, `new URL(document.querySelector("[data-copy-link]").getAttribute("href"), location.href).href`)
	if !regexp.MustCompile(`from=20\d\d-`).MatchString(link) || !strings.Contains(link, "sort=-duration") {
		t.Errorf("the copied link %s has no absolute range or lost the sort", link)
	}
	do(t, ctx, "the copied link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("table.data")))
	if again := eval[string](t, ctx, `document.querySelector("table.data tbody").textContent`); again != rows {
		t.Errorf("the copied link shows other rows:\n%s\nwant\n%s", again, rows)
	}
}

// dragZoom drags across the service's rate chart: the range goes into the
// URL, the charts redraw, and Back returns to the range before.
func dragZoom(t *testing.T, ctx context.Context, s *server) {
	do(t, ctx, "service", chromedp.Navigate(s.url+"/services/chat-gateway"))
	settled(t, ctx)
	type box struct{ X, Y, W, H float64 }
	b := eval[box](t, ctx, `(() => { const r = document.querySelector("figure[data-chart] .u-over").getBoundingClientRect(); return {X: r.x, Y: r.y, W: r.width, H: r.height}; })()`)
	y := b.Y + b.H/2
	do(t, ctx, "drag", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, b.X+b.W*0.3, y),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, b.X+b.W*0.3, y, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, b.X+b.W*0.5, y, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, b.X+b.W*0.7, y, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, b.X+b.W*0.7, y, chromedp.ButtonLeft),
		void(chromedp.Poll[bool](`/from=20\d\d-/.test(location.search)`, chromedp.WithPollingTimeout(10*time.Second))))
	zoomedTo, _ := chromedp.Run(ctx, chromedp.Location())
	settled(t, ctx)
	// Back reloads the page before (htmx is set to).
	do(t, ctx, "back", chromedp.NavigateBack())
	waitLocation(t, ctx, "Back after zooming to "+zoomedTo, func(loc string) bool { return !strings.Contains(loc, "from=20") })
	settled(t, ctx)
}

// waitLocation waits until the page's location satisfies ok, reading it
// again while the page navigates (a page being replaced cannot answer).
func waitLocation(t *testing.T, ctx context.Context, what string, ok func(string) bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err == nil && ok(loc) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the page is at %s (%v)", what, loc, err)
		}
	}
}

// bigWaterfall: the trace of 10,000 spans keeps only the rows in view in the
// DOM, and scrolling to the end shows its last span.
func bigWaterfall(t *testing.T, ctx context.Context, s *server, big trace.TraceID) {
	do(t, ctx, "big trace", chromedp.Navigate(s.url+"/traces/"+big.String()), chromedp.WaitVisible(chromedp.CSS(".wf-viewport .wf-row")))
	if n := eval[int](t, ctx, `document.querySelector("[data-waterfall]").waterfall.rows.length`); n != 10000 {
		t.Errorf("the waterfall has %d spans, want 10000", n)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll(".wf-viewport .wf-row").length`); n > 100 {
		t.Errorf("%d rows in the DOM: the waterfall is not windowed", n)
	}
	do(t, ctx, "scroll", chromedp.Focus(chromedp.CSS(".wf-viewport")), chromedp.KeyEvent(kb.End),
		void(chromedp.Poll[bool](`[...document.querySelectorAll(".wf-viewport .wf-row")].some(r => r.style.top === (9999 * 24) + "px")`,
			chromedp.WithPollingTimeout(10*time.Second))))
}

// keyboard: g then t goes to the traces page; ? opens the help.
func keyboard(t *testing.T, ctx context.Context, s *server) {
	do(t, ctx, "keys", chromedp.Navigate(s.url+"/services"), chromedp.WaitVisible(chromedp.CSS("table.data")),
		chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`), chromedp.KeyEvent("g"), chromedp.KeyEvent("t"))
	waitLocation(t, ctx, "g t", func(loc string) bool { return strings.Contains(loc, "/traces") })
	do(t, ctx, "help", chromedp.WaitVisible(chromedp.CSS("form.search")), chromedp.KeyEvent("?"), chromedp.WaitVisible(chromedp.CSS("dialog#keys")))
}

// void drops an action's result, to run it among others.
func void[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}
