package otlp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/VictoriaMetrics/easyproto"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/store"
)

// pdataSpans is the reference: pdata's decoding, then Spans.
func pdataSpans(body []byte, m collector.Mapping) (spans []store.Span, rejected int, msg string, err error) {
	req := ptraceotlp.NewExportRequest()
	if err := req.UnmarshalProto(body); err != nil {
		return nil, 0, "", err
	}
	spans, rejected, msg = Spans("acme", req.Traces(), m)
	return spans, rejected, msg, nil
}

// compareDecoders fails t when the fast decoder and pdata disagree on
// body: the fast decoder must accept only what pdata accepts, with the
// same rows; an error it gives must be one pdata gives too, unless it
// left the body to pdata (errUnsupported, or a wire error easyproto
// reads more strictly); and DecodeTraces must always agree with pdata.
func compareDecoders(t *testing.T, body []byte) {
	t.Helper()
	m := collector.Mapping{DeploymentAttribute: "deployment.name"}
	want, wantRejected, wantMsg, wantErr := pdataSpans(body, m)

	d := newTracesDecoder()
	fastErr := d.decode("acme", body, m)
	if fastErr == nil {
		if wantErr != nil {
			t.Fatalf("fast decoder accepted what pdata refuses: %v", wantErr)
		}
		diffRows(t, "fast decoder", d.spans, d.rejected, d.msg, want, wantRejected, wantMsg)
	} else if wantErr == nil && definite(fastErr) {
		t.Fatalf("fast decoder refused (%v) what pdata accepts", fastErr)
	}

	rows, err := DecodeTraces("acme", body, m)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("DecodeTraces error %v, pdata error %v", err, wantErr)
	}
	if err == nil {
		diffRows(t, "DecodeTraces", rows.Spans, rows.Rejected, rows.Msg, want, wantRejected, wantMsg)
		rows.Release()
	}
}

// definite tells the fast decoder's own refusals (a wrong wire type, an
// id of the wrong length, an illegal field number) from the input it
// leaves to pdata.
func definite(err error) bool {
	var wt *wireError
	return errors.As(err, &wt)
}

func diffRows(t *testing.T, who string, got []store.Span, gotRejected int, gotMsg string, want []store.Span, wantRejected int, wantMsg string) {
	t.Helper()
	if gotRejected != wantRejected || gotMsg != wantMsg {
		t.Fatalf("%s rejected %d (%q), pdata %d (%q)", who, gotRejected, gotMsg, wantRejected, wantMsg)
	}
	if len(got) != len(want) {
		t.Fatalf("%s made %d spans, pdata %d", who, len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("%s span %d differs:\n got %+v\nwant %+v", who, i, got[i], want[i])
		}
	}
}

func marshalTraces(t testing.TB, td ptrace.Traces) []byte {
	b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edgeTraces has every value type, nested values, repeated keys, invalid
// spans and invalid UTF-8.
func edgeTraces() ptrace.Traces {
	td := genAITraces()
	sp := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	a := sp.Attributes()
	a.PutStr("bad.utf8", "\xff\xfe")
	a.PutDouble("tiny", 1e-9)
	a.PutDouble("huge", 1e300)
	a.PutInt("negative", -42)
	nested := a.PutEmptyMap("nested")
	nested.PutEmptySlice("list").AppendEmpty().SetEmptyMap().PutDouble("x", 0.25)
	nested.PutEmptyBytes("raw").FromRaw([]byte("<&>"))
	nested.PutEmptyBytes("none")
	odd := a.PutEmptySlice("odd")
	odd.AppendEmpty().SetStr("\xff\u2028\t\"")
	odd.AppendEmpty()
	odd.AppendEmpty().SetDouble(-0.0)
	odd.AppendEmpty().SetEmptyBytes()
	a.PutEmptySlice("nan").AppendEmpty().SetDouble(math.NaN())
	a.PutDouble("inf", math.Inf(-1))
	sp.Attributes().CopyTo(sp.Events().AppendEmpty().Attributes())
	sp.TraceState().FromRaw("vendor=1")
	ss := td.ResourceSpans().At(0).ScopeSpans()
	bad := ss.At(0).Spans().AppendEmpty()
	bad.SetName("no ids")
	backwards := ss.At(0).Spans().AppendEmpty()
	sp.CopyTo(backwards)
	backwards.SetEndTimestamp(1)
	noService := td.ResourceSpans().AppendEmpty()
	noService.Resource().Attributes().PutStr("service.name", "")
	ss.CopyTo(noService.ScopeSpans())
	return td
}

// FuzzTracesDecoderMatchesPdata: for any bytes, the fast decoder and pdata
// with Spans agree on accepting and on the rows.
func FuzzTracesDecoderMatchesPdata(f *testing.F) {
	for _, b := range seeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		compareDecoders(t, body)
	})
}

// seeds are real exports (the tests', the benchmark's, the load
// generator's shape) and hand-made edge cases.
func seeds(t testing.TB) [][]byte {
	genAI := marshalTraces(t, genAITraces())
	edge := marshalTraces(t, edgeTraces())
	out := [][]byte{
		nil,
		{},
		genAI,
		edge,
		benchTraces(3),
		sdkExport(t),
		genAI[:len(genAI)/2], // truncated
		append(append([]byte{}, genAI...), 0xf8, 0x07, 0x01), // unknown varint field 127
		append(append([]byte{}, genAI...), 0x0b, 0x0c),       // a group, which pdata skips
		{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f},                 // a huge length
		{0x00},                                               // field 0
	}
	// The deprecated instrumentation_library_spans (field 1000 of
	// ResourceSpans) instead of scope_spans.
	var m easyproto.Marshaler
	rs := m.MessageMarshaler().AppendMessage(1)
	rs.AppendMessage(1).AppendMessage(1).AppendString(1, "service.name")
	ils := rs.AppendMessage(1000)
	span := ils.AppendMessage(2)
	span.AppendBytes(1, make16(1))
	span.AppendBytes(2, make16(2)[:8])
	span.AppendString(5, "legacy")
	span.AppendFixed64(7, 10)
	span.AppendFixed64(8, 20)
	out = append(out, m.Marshal(nil))
	// A resource after its spans, a value set twice, an unpacked repeat.
	m.Reset()
	rs = m.MessageMarshaler().AppendMessage(1)
	span = rs.AppendMessage(2).AppendMessage(2)
	span.AppendBytes(1, make16(3))
	span.AppendBytes(2, make16(4)[:8])
	span.AppendFixed64(7, 10)
	span.AppendFixed64(8, 20)
	kv := span.AppendMessage(9)
	kv.AppendString(1, "k")
	kv.AppendMessage(2).AppendString(1, "first")
	kv.AppendMessage(2).AppendInt64(3, 7)
	kv.AppendMessage(2)
	list := span.AppendMessage(9)
	list.AppendString(1, "map with a repeated key")
	kvs := list.AppendMessage(2).AppendMessage(6)
	first := kvs.AppendMessage(1)
	first.AppendString(1, "a")
	first.AppendMessage(2).AppendInt64(3, 1)
	second := kvs.AppendMessage(1)
	second.AppendString(1, "a")
	second.AppendMessage(2).AppendString(1, "x")
	rs.AppendMessage(1).AppendMessage(1).AppendString(1, "service.name")
	out = append(out, m.Marshal(nil))
	// Maps in arrays 30 and 120 deep: the first the fast decoder takes, the
	// second pdata refuses (over its 100).
	for _, depth := range []int{30, 120} {
		td := genAITraces()
		v := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().PutEmptySlice("deep").AppendEmpty()
		for range depth / 2 {
			v = v.SetEmptyMap().PutEmptySlice("x").AppendEmpty()
		}
		v.SetStr("bottom")
		out = append(out, marshalTraces(t, td))
	}
	return out
}

// sdkExport is what the OpenTelemetry Go SDK's OTLP/HTTP exporter sends
// for a few GenAI spans with events, links, errors and every attribute
// type.
func sdkExport(t testing.TB) []byte {
	bodies := make(chan []byte, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- b
	}))
	defer srv.Close()
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(srv.URL), otlptracehttp.WithRetry(otlptracehttp.RetryConfig{}))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "chat-gateway"), attribute.Int("host.cpu.count", 8))))
	tr := tp.Tracer("openai", trace.WithInstrumentationVersion("1.2.3"))
	ctx, parent := tr.Start(ctx, "agent run")
	_, sp := tr.Start(ctx, "chat gpt-4o", trace.WithSpanKind(trace.SpanKindClient), trace.WithLinks(trace.Link{SpanContext: parent.SpanContext()}))
	sp.SetAttributes(attribute.String("gen_ai.request.model", "gpt-4o"), attribute.Int("gen_ai.usage.input_tokens", 1200),
		attribute.Float64("gen_ai.request.temperature", 0.2), attribute.Bool("stream", true),
		attribute.StringSlice("gen_ai.response.finish_reasons", []string{"stop"}), attribute.Int64Slice("ids", []int64{1, 2}))
	sp.AddEvent("first_token", trace.WithAttributes(attribute.Int("index", 0)))
	sp.SetStatus(codes.Error, "rate limited")
	sp.End()
	parent.End()
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var all []byte
	for {
		select {
		case b := <-bodies:
			// Two exports, one a span: concatenated they are one export
			// of both, as protobuf merges repeated fields.
			all = append(all, b...)
		default:
			return all
		}
	}
}

func make16(b byte) []byte {
	id := make([]byte, 16)
	for i := range id {
		id[i] = b + byte(i)
	}
	return id
}

func TestTracesDecoderMatchesPdataOnSeeds(t *testing.T) {
	for i, b := range seeds(t) {
		t.Run(fmt.Sprint(i), func(t *testing.T) { compareDecoders(t, b) })
	}
}

// TestTracesDecoderReusesBuffers decodes two different exports with one
// pooled decoder: the second's rows must not carry anything of the first.
func TestTracesDecoderReusesBuffers(t *testing.T) {
	first, second := marshalTraces(t, edgeTraces()), benchTraces(2)
	rows, err := DecodeTraces("acme", first, collector.Mapping{})
	if err != nil {
		t.Fatal(err)
	}
	rows.Release()
	compareDecoders(t, second)
}

func TestDecodeTracesRefusesBadInput(t *testing.T) {
	var m easyproto.Marshaler
	m.MessageMarshaler().AppendMessage(1).AppendMessage(2).AppendMessage(2).AppendBytes(1, make([]byte, 20))
	longID := m.Marshal(nil)
	genAI := marshalTraces(t, genAITraces())
	for name, b := range map[string][]byte{
		"truncated":         genAI[:len(genAI)-1],
		"wrong wire type":   {0x08, 0x01}, // resource_spans as a varint
		"trace id too long": longID,
	} {
		if _, err := DecodeTraces("acme", b, collector.Mapping{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
