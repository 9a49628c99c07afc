package otlp

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/tenant"
)

// Receiver accepts OTLP over HTTP and gRPC and writes through the writers
// (the collector's pipeline), answering only once the data is durable.
//
// Spans must not keep the slices of the spans it is given (attributes,
// events, links) once WriteSpans has returned: protobuf exports are
// decoded into pooled buffers that serve the next export then. The
// pipeline and the stores copy what they keep; strings may be kept.
type Receiver struct {
	Spans   store.SpanWriter
	Metrics store.MetricWriter
	Logs    store.LogWriter
	Mapping collector.Mapping
	Limits  collector.BodyLimits
	Rate    *collector.TenantLimiter // nil: no limit
	Stats   *collector.Metrics

	deltas Deltas // the running totals of delta-temporality streams
}

// traces maps and writes one export; rejected spans are reported back as
// a partial success, not as an error.
func (r *Receiver) traces(ctx context.Context, tenant string, td ptrace.Traces) (rejected int, msg string, err error) {
	spans, rejected, msg := Spans(tenant, td, r.Mapping)
	return r.writeSpans(ctx, tenant, spans, rejected, msg)
}

// protoTraces decodes and writes one protobuf export with DecodeTraces.
// An undecodable body is a BadRequestError saying it could not decode
// what. decoded, when set, is called once body is no longer needed.
func (r *Receiver) protoTraces(ctx context.Context, tenant string, body []byte, what string, decoded func()) (rejected int, msg string, err error) {
	rows, err := DecodeTraces(tenant, body, r.Mapping)
	if decoded != nil {
		decoded()
	}
	if err != nil {
		return 0, "", collector.BadRequest("cannot decode OTLP %s: %v", what, err)
	}
	rejected, msg, err = r.writeSpans(ctx, tenant, rows.Spans, rows.Rejected, rows.Msg)
	// The pipeline holds a batch's rows until the batch is durable, which
	// is when WriteSpans returns unless the caller gave up first: only
	// then may the buffers serve another export.
	if ctx.Err() == nil {
		rows.Release()
	}
	return rejected, msg, err
}

func (r *Receiver) writeSpans(ctx context.Context, tenant string, spans []store.Span, rejected int, msg string) (int, string, error) {
	r.Stats.Received.WithLabelValues(collector.SignalSpans, tenant).Add(float64(len(spans) + rejected))
	if rejected > 0 {
		r.Stats.Refused.WithLabelValues(collector.SignalSpans, tenant, "invalid").Add(float64(rejected))
	}
	if len(spans) == 0 {
		return rejected, msg, nil
	}
	if !r.Rate.Allow(tenant, len(spans)) {
		r.Stats.Refused.WithLabelValues(collector.SignalSpans, tenant, "rate_limited").Add(float64(len(spans)))
		return 0, "", collector.ErrRateLimited
	}
	return rejected, msg, r.Spans.WriteSpans(ctx, spans)
}

func (r *Receiver) metrics(ctx context.Context, tenant string, md pmetric.Metrics) (rejected int, msg string, err error) {
	series, samples, rejected, msg := Metrics(tenant, md, &r.deltas)
	r.Stats.Received.WithLabelValues(collector.SignalSamples, tenant).Add(float64(len(samples) + rejected))
	if rejected > 0 {
		r.Stats.Refused.WithLabelValues(collector.SignalSamples, tenant, "invalid").Add(float64(rejected))
	}
	if len(samples) == 0 {
		return rejected, msg, nil
	}
	if !r.Rate.Allow(tenant, len(samples)) {
		r.Stats.Refused.WithLabelValues(collector.SignalSamples, tenant, "rate_limited").Add(float64(len(samples)))
		return 0, "", collector.ErrRateLimited
	}
	return rejected, msg, r.Metrics.WriteMetrics(ctx, series, samples)
}

func (r *Receiver) logs(ctx context.Context, tenant string, ld plog.Logs) (rejected int, msg string, err error) {
	logs, rejected, msg := Logs(tenant, ld, time.Now())
	r.Stats.Received.WithLabelValues(collector.SignalLogs, tenant).Add(float64(len(logs) + rejected))
	if rejected > 0 {
		r.Stats.Refused.WithLabelValues(collector.SignalLogs, tenant, "invalid").Add(float64(rejected))
	}
	if len(logs) == 0 {
		return rejected, msg, nil
	}
	if !r.Rate.Allow(tenant, len(logs)) {
		r.Stats.Refused.WithLabelValues(collector.SignalLogs, tenant, "rate_limited").Add(float64(len(logs)))
		return 0, "", collector.ErrRateLimited
	}
	return rejected, msg, r.Logs.WriteLogs(ctx, logs)
}

const (
	typeProto = "application/x-protobuf"
	typeJSON  = "application/json"
)

// contentType returns the OTLP encoding of a request: protobuf or JSON.
func contentType(req *http.Request) (string, error) {
	mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err == nil && (mt == typeProto || mt == typeJSON) {
		return mt, nil
	}
	return "", collector.BadRequest("unsupported Content-Type %q: OTLP/HTTP takes %s or %s", req.Header.Get("Content-Type"), typeProto, typeJSON)
}

// export is one OTLP/HTTP signal: how to decode a request body, store it,
// and answer with a partial success.
type export struct {
	signal string
	decode func(body []byte, json bool) error
	handle func(ctx context.Context, tenant string) (rejected int, msg string, err error)
	answer func(rejected int, msg string) (proto, json func() ([]byte, error))
}

// serve reads, decodes and stores one export and answers it in the
// request's encoding.
func (r *Receiver) serve(w http.ResponseWriter, req *http.Request, e export) {
	tenant, body, ct, ok := r.read(w, req)
	if !ok {
		return
	}
	if err := e.decode(body, ct == typeJSON); err != nil {
		collector.WriteHTTPError(w, collector.BadRequest("cannot decode OTLP %s (%s): %v", e.signal, ct, err))
		return
	}
	rejected, msg, err := e.handle(req.Context(), tenant)
	if err != nil {
		collector.WriteHTTPError(w, err)
		return
	}
	proto, json := e.answer(rejected, msg)
	writeResponse(w, ct, proto, json)
}

func decodeWith(body []byte, json bool, unmarshalJSON, unmarshalProto func([]byte) error) error {
	if json {
		return unmarshalJSON(body)
	}
	return unmarshalProto(body)
}

// HandleTraces serves POST /v1/traces: protobuf through DecodeTraces,
// JSON through pdata.
func (r *Receiver) HandleTraces(w http.ResponseWriter, req *http.Request) {
	tenant, body, ct, ok := r.read(w, req)
	if !ok {
		return
	}
	var rejected int
	var msg string
	var err error
	if ct == typeJSON {
		ex := ptraceotlp.NewExportRequest()
		if err := ex.UnmarshalJSON(body); err != nil {
			collector.WriteHTTPError(w, collector.BadRequest("cannot decode OTLP traces (%s): %v", ct, err))
			return
		}
		rejected, msg, err = r.traces(req.Context(), tenant, ex.Traces())
	} else {
		rejected, msg, err = r.protoTraces(req.Context(), tenant, body, "traces ("+typeProto+")", nil)
	}
	if err != nil {
		collector.WriteHTTPError(w, err)
		return
	}
	resp := ptraceotlp.NewExportResponse()
	if rejected > 0 {
		resp.PartialSuccess().SetRejectedSpans(int64(rejected))
		resp.PartialSuccess().SetErrorMessage(msg)
	}
	writeResponse(w, ct, resp.MarshalProto, resp.MarshalJSON)
}

// HandleMetrics serves POST /v1/metrics.
func (r *Receiver) HandleMetrics(w http.ResponseWriter, req *http.Request) {
	ex := pmetricotlp.NewExportRequest()
	r.serve(w, req, export{
		signal: "metrics",
		decode: func(b []byte, json bool) error { return decodeWith(b, json, ex.UnmarshalJSON, ex.UnmarshalProto) },
		handle: func(ctx context.Context, tenant string) (int, string, error) {
			return r.metrics(ctx, tenant, ex.Metrics())
		},
		answer: func(rejected int, msg string) (func() ([]byte, error), func() ([]byte, error)) {
			resp := pmetricotlp.NewExportResponse()
			if rejected > 0 {
				resp.PartialSuccess().SetRejectedDataPoints(int64(rejected))
				resp.PartialSuccess().SetErrorMessage(msg)
			}
			return resp.MarshalProto, resp.MarshalJSON
		},
	})
}

// HandleLogs serves POST /v1/logs.
func (r *Receiver) HandleLogs(w http.ResponseWriter, req *http.Request) {
	ex := plogotlp.NewExportRequest()
	r.serve(w, req, export{
		signal: "logs",
		decode: func(b []byte, json bool) error { return decodeWith(b, json, ex.UnmarshalJSON, ex.UnmarshalProto) },
		handle: func(ctx context.Context, tenant string) (int, string, error) {
			return r.logs(ctx, tenant, ex.Logs())
		},
		answer: func(rejected int, msg string) (func() ([]byte, error), func() ([]byte, error)) {
			resp := plogotlp.NewExportResponse()
			if rejected > 0 {
				resp.PartialSuccess().SetRejectedLogRecords(int64(rejected))
				resp.PartialSuccess().SetErrorMessage(msg)
			}
			return resp.MarshalProto, resp.MarshalJSON
		},
	})
}

func (r *Receiver) read(w http.ResponseWriter, req *http.Request) (org string, body []byte, ct string, ok bool) {
	org, err := tenant.FromHTTP(req)
	if err == nil {
		ct, err = contentType(req)
	}
	if err == nil {
		body, err = collector.ReadBody(req, r.Limits)
	}
	if err != nil {
		collector.WriteHTTPError(w, err)
		return "", nil, "", false
	}
	return org, body, ct, true
}

func writeResponse(w http.ResponseWriter, ct string, proto, json func() ([]byte, error)) {
	marshal := proto
	if ct == typeJSON {
		marshal = json
	}
	b, err := marshal()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Write(b)
}

// Routes are OTLP/HTTP's routes; sending needs the ingest role (or admin).
func (r *Receiver) Routes() []auth.Route {
	return []auth.Route{
		{Method: "POST", Pattern: "/v1/traces", Role: auth.Ingest, Handler: http.HandlerFunc(r.HandleTraces)},
		{Method: "POST", Pattern: "/v1/metrics", Role: auth.Ingest, Handler: http.HandlerFunc(r.HandleMetrics)},
		{Method: "POST", Pattern: "/v1/logs", Role: auth.Ingest, Handler: http.HandlerFunc(r.HandleLogs)},
	}
}

// GRPCMethods are the OTLP gRPC services' methods and the role each needs.
func GRPCMethods() auth.Methods {
	return auth.Methods{
		"/opentelemetry.proto.collector.trace.v1.TraceService/Export":     auth.Ingest,
		"/opentelemetry.proto.collector.metrics.v1.MetricsService/Export": auth.Ingest,
		"/opentelemetry.proto.collector.logs.v1.LogsService/Export":       auth.Ingest,
	}
}

// RegisterGRPC adds the OTLP trace, metric and log services to a gRPC
// server made with GRPCServerOptions.
func (r *Receiver) RegisterGRPC(s *grpc.Server) {
	s.RegisterService(&traceServiceDesc, &traceService{r: r})
	pmetricotlp.RegisterGRPCServer(s, &metricService{r: r})
	plogotlp.RegisterGRPCServer(s, &logService{r: r})
}

type metricService struct {
	pmetricotlp.UnimplementedGRPCServer
	r *Receiver
}

func (m *metricService) Export(ctx context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	resp := pmetricotlp.NewExportResponse()
	org, err := tenant.FromGRPC(ctx)
	if err != nil {
		return resp, collector.GRPCError(err)
	}
	rejected, msg, err := m.r.metrics(ctx, org, req.Metrics())
	if err != nil {
		return resp, collector.GRPCError(err)
	}
	if rejected > 0 {
		resp.PartialSuccess().SetRejectedDataPoints(int64(rejected))
		resp.PartialSuccess().SetErrorMessage(msg)
	}
	return resp, nil
}

type logService struct {
	plogotlp.UnimplementedGRPCServer
	r *Receiver
}

func (l *logService) Export(ctx context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	resp := plogotlp.NewExportResponse()
	org, err := tenant.FromGRPC(ctx)
	if err != nil {
		return resp, collector.GRPCError(err)
	}
	rejected, msg, err := l.r.logs(ctx, org, req.Logs())
	if err != nil {
		return resp, collector.GRPCError(err)
	}
	if rejected > 0 {
		resp.PartialSuccess().SetRejectedLogRecords(int64(rejected))
		resp.PartialSuccess().SetErrorMessage(msg)
	}
	return resp, nil
}

// Export stores one OTLP export of a signal (collector.SignalSpans,
// SignalSamples or SignalLogs) from a source with no request of its own,
// such as a Kafka record written by the OpenTelemetry collector's Kafka
// exporter: its otlp_proto encoding is the protobuf TracesData,
// MetricsData or LogsData, which is an export request on the wire, and
// otlp_json their JSON. It goes the way of an OTLP/HTTP request after the
// tenant is known: mapping, validation, rate limit, the pipeline; and
// returns once the data is durable. An undecodable body is a
// BadRequestError.
func (r *Receiver) Export(ctx context.Context, signal, tenant string, body []byte, json bool) (rejected int, msg string, err error) {
	bad := func(err error) (int, string, error) {
		return 0, "", collector.BadRequest("cannot decode OTLP %s: %v", signal, err)
	}
	switch signal {
	case collector.SignalSpans:
		if !json {
			return r.protoTraces(ctx, tenant, body, signal, nil)
		}
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(body)
		if err != nil {
			return bad(err)
		}
		return r.traces(ctx, tenant, td)
	case collector.SignalSamples:
		var md pmetric.Metrics
		if json {
			md, err = (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(body)
		} else {
			md, err = (&pmetric.ProtoUnmarshaler{}).UnmarshalMetrics(body)
		}
		if err != nil {
			return bad(err)
		}
		return r.metrics(ctx, tenant, md)
	case collector.SignalLogs:
		var ld plog.Logs
		if json {
			ld, err = (&plog.JSONUnmarshaler{}).UnmarshalLogs(body)
		} else {
			ld, err = (&plog.ProtoUnmarshaler{}).UnmarshalLogs(body)
		}
		if err != nil {
			return bad(err)
		}
		return r.logs(ctx, tenant, ld)
	}
	return 0, "", fmt.Errorf("unknown OTLP signal %q", signal)
}
