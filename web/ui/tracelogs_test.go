package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// loggedRequest sends, through the OpenTelemetry SDK's trace and log
// pipelines, one chat request whose services log about it as they work:
// the gateway as it routes the request, the proxy as its model call is
// refused and as it gives up. It returns the trace's id.
func loggedRequest(t *testing.T, s *server) trace.TraceID {
	ctx := context.Background()
	auth := map[string]string{"authorization": "Bearer " + s.token}
	texp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(s.otlp), otlptracehttp.WithInsecure(), otlptracehttp.WithHeaders(auth))
	if err != nil {
		t.Fatal(err)
	}
	lexp, err := otlploghttp.New(ctx, otlploghttp.WithEndpoint(s.otlp), otlploghttp.WithInsecure(), otlploghttp.WithHeaders(auth))
	if err != nil {
		t.Fatal(err)
	}
	res := func(service string) *resource.Resource {
		return resource.NewSchemaless(attribute.String("service.name", service))
	}
	gwTP := sdktrace.NewTracerProvider(sdktrace.WithResource(res("chat-gateway")), sdktrace.WithSyncer(texp))
	proxyTP := sdktrace.NewTracerProvider(sdktrace.WithResource(res("llm-proxy")), sdktrace.WithSyncer(texp))
	gwLP := sdklog.NewLoggerProvider(sdklog.WithResource(res("chat-gateway")), sdklog.WithProcessor(sdklog.NewSimpleProcessor(lexp)))
	proxyLP := sdklog.NewLoggerProvider(sdklog.WithResource(res("llm-proxy")), sdklog.WithProcessor(sdklog.NewSimpleProcessor(lexp)))
	emit := func(lp *sdklog.LoggerProvider, ctx context.Context, at time.Time, sev otellog.Severity, body string) {
		var r otellog.Record
		r.SetTimestamp(at)
		r.SetSeverity(sev)
		r.SetSeverityText(sev.String())
		r.SetBody(attribute.StringValue(body))
		lp.Logger("vigil-ui-test").Emit(ctx, r)
	}
	at := time.Now().Add(-2 * time.Minute)
	ms := func(n int) time.Time { return at.Add(time.Duration(n) * time.Millisecond) }
	rctx, root := gwTP.Tracer("vigil-ui-test").Start(ctx, "POST /chat", trace.WithTimestamp(at), trace.WithSpanKind(trace.SpanKindServer))
	emit(gwLP, rctx, ms(1), otellog.SeverityInfo, "routing the request to gpt-4o")
	cctx, call := proxyTP.Tracer("vigil-ui-test").Start(rctx, "chat gpt-4o", trace.WithTimestamp(ms(10)), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("gen_ai.request.model", "gpt-4o"), attribute.String("gen_ai.provider.name", "openai")))
	emit(proxyLP, cctx, ms(200), otellog.SeverityWarn, "provider answered 429: rate limited, retrying")
	emit(proxyLP, cctx, ms(610), otellog.SeverityError, "giving up after 2 attempts: rate limited")
	call.SetStatus(codes.Error, "rate limited")
	call.End(trace.WithTimestamp(ms(620)))
	root.SetStatus(codes.Error, "upstream 429")
	root.End(trace.WithTimestamp(ms(630)))
	for _, shut := range []func(context.Context) error{gwTP.Shutdown, proxyTP.Shutdown, gwLP.Shutdown, proxyLP.Shutdown} {
		if err := shut(ctx); err != nil && !strings.Contains(err.Error(), "already shutdown") {
			t.Fatal(err)
		}
	}
	return root.SpanContext().TraceID()
}

// traceLogs: the trace's page lists its logs, oldest first, each with
// its service and span; a record's span link selects the span, whose
// detail shows the span's own records.
func traceLogs(t *testing.T, ctx context.Context, s *server, id trace.TraceID) {
	do(t, ctx, "the logged trace", chromedp.Navigate(s.url+"/traces/"+id.String()), chromedp.WaitVisible(chromedp.CSS("table.logs tbody tr")))
	rows := eval[[]string](t, ctx, `[...document.querySelectorAll("table.logs tbody tr")].map(tr => [...tr.cells].slice(2).map(c => c.textContent.trim()).join(" | "))`)
	want := []string{
		"info | chat-gateway | ",
		"warn | llm-proxy | ",
		"error | llm-proxy | ",
	}
	if len(rows) != len(want) {
		t.Fatalf("the trace's logs: %q", rows)
	}
	for i, w := range want {
		if !strings.HasPrefix(rows[i], w) {
			t.Errorf("log %d is %q, want it to start %q", i, rows[i], w)
		}
	}
	if !strings.HasSuffix(rows[2], "giving up after 2 attempts: rate limited") {
		t.Errorf("the last record: %q", rows[2])
	}
	// The link loads the page of the trace with the span selected.
	do(t, ctx, "a record's span", chromedp.Click(chromedp.CSS("table.logs tbody tr:nth-child(3) a")))
	waitLocation(t, ctx, "the record's span", func(loc string) bool { return strings.Contains(loc, "span=") })
	do(t, ctx, "the span's detail", chromedp.WaitVisible(chromedp.CSS("#span-detail h3")),
		void(chromedp.Poll[bool](`document.querySelector("#span-detail h2")?.textContent.includes("chat gpt-4o")`, chromedp.WithPollingTimeout(10*time.Second))))
	if detail := eval[string](t, ctx, `document.querySelector("#span-detail").textContent`); !strings.Contains(detail, "Logs") ||
		!strings.Contains(detail, "provider answered 429") || strings.Contains(detail, "routing the request") {
		t.Errorf("the span's detail shows other logs than its own:\n%s", detail)
	}
}
