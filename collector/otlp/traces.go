// Package otlp receives OpenTelemetry traces and metrics over gRPC and
// HTTP (protobuf or JSON) and maps them to store rows.
package otlp

import (
	"fmt"
	"strconv"

	"github.com/shopspring/decimal"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/vigil-dev/vigil/store"
)

// Mapping says how attributes fill the promoted span columns.
type Mapping struct {
	// DeploymentAttribute names the span or resource attribute that carries
	// the deployment or canary label ("stable", "canary"); when absent,
	// deployment.environment.name (or the older deployment.environment) is
	// used.
	DeploymentAttribute string
}

// DefaultDeploymentAttribute is the semantic-convention deployment name.
const DefaultDeploymentAttribute = "deployment.name"

// Attribute names from the OpenTelemetry GenAI and resource conventions;
// where the conventions renamed one, both spellings are read, newest first.
var (
	attrModel        = []string{"gen_ai.response.model", "gen_ai.request.model"}
	attrProvider     = []string{"gen_ai.provider.name", "gen_ai.system"}
	attrOperation    = []string{"gen_ai.operation.name"}
	attrInputTokens  = []string{"gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"}
	attrOutputTokens = []string{"gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"}
	attrCachedTokens = []string{"gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens", "gen_ai.usage.cached_tokens"}
	attrCost         = []string{"gen_ai.usage.cost"} // a cost the caller computed wins over pricing at ingest
	attrServiceName  = "service.name"
	attrServiceVer   = "service.version"
	attrEnvironment  = []string{"deployment.environment.name", "deployment.environment"}
	unknownService   = "unknown_service"
)

// Spans maps an OTLP trace export to span rows. Invalid spans are left out
// and counted in rejected, with the first reason in msg.
func Spans(tenant string, td ptrace.Traces, m Mapping) (spans []store.Span, rejected int, msg string) {
	if m.DeploymentAttribute == "" {
		m.DeploymentAttribute = DefaultDeploymentAttribute
	}
	spans = make([]store.Span, 0, td.SpanCount())
	reject := func(format string, args ...any) {
		if rejected == 0 {
			msg = fmt.Sprintf(format, args...)
		}
		rejected++
	}
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		res := rs.Resource().Attributes()
		resource := attributes(res)
		service := unknownService
		if v, ok := res.Get(attrServiceName); ok && v.AsString() != "" {
			service = v.AsString()
		}
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			scope := ss.Scope()
			ps := ss.Spans()
			for k := 0; k < ps.Len(); k++ {
				p := ps.At(k)
				if p.TraceID().IsEmpty() {
					reject("span %q: trace id is empty", p.Name())
					continue
				}
				if p.SpanID().IsEmpty() {
					reject("span %q: span id is empty", p.Name())
					continue
				}
				start, end := int64(p.StartTimestamp()), int64(p.EndTimestamp())
				if start <= 0 || end < start {
					reject("span %s %q: end time %d is before start time %d", p.SpanID(), p.Name(), end, start)
					continue
				}
				sp := store.Span{
					Tenant:        tenant,
					TraceID:       store.TraceID(p.TraceID()),
					SpanID:        store.SpanID(p.SpanID()),
					ParentSpanID:  store.SpanID(p.ParentSpanID()),
					TraceState:    p.TraceState().AsRaw(),
					Service:       service,
					Operation:     p.Name(),
					Kind:          store.SpanKind(p.Kind()),
					StartUnixNano: start,
					DurationNano:  end - start,
					StatusCode:    store.StatusCode(p.Status().Code()),
					StatusMessage: p.Status().Message(),
					ScopeName:     scope.Name(),
					ScopeVersion:  scope.Version(),
					Resource:      resource,
					Attributes:    attributes(p.Attributes()),
					Events:        events(p.Events()),
					Links:         links(p.Links()),
				}
				promote(&sp, p.Attributes(), res, m)
				spans = append(spans, sp)
			}
		}
	}
	return spans, rejected, msg
}

// promote fills the AI columns from span attributes, then resource ones.
func promote(sp *store.Span, attrs, res pcommon.Map, m Mapping) {
	str := func(keys ...string) string {
		for _, from := range []pcommon.Map{attrs, res} {
			for _, k := range keys {
				if v, ok := from.Get(k); ok && v.AsString() != "" {
					return v.AsString()
				}
			}
		}
		return ""
	}
	num := func(keys []string) int64 {
		for _, k := range keys {
			if v, ok := attrs.Get(k); ok {
				switch v.Type() {
				case pcommon.ValueTypeInt:
					return v.Int()
				case pcommon.ValueTypeDouble:
					return int64(v.Double())
				case pcommon.ValueTypeStr:
					if n, err := strconv.ParseInt(v.Str(), 10, 64); err == nil {
						return n
					}
				}
			}
		}
		return 0
	}
	sp.Model = str(attrModel...)
	sp.Provider = str(attrProvider...)
	sp.OperationType = str(attrOperation...)
	sp.InputTokens = num(attrInputTokens)
	sp.OutputTokens = num(attrOutputTokens)
	sp.CachedTokens = num(attrCachedTokens)
	sp.ModelVersion = str(attrServiceVer)
	sp.Deployment = str(m.DeploymentAttribute)
	if sp.Deployment == "" {
		sp.Deployment = str(attrEnvironment...)
	}
	if c := str(attrCost...); c != "" {
		if d, err := decimal.NewFromString(c); err == nil {
			if d, err := store.Money(d); err == nil {
				sp.Cost = d
			}
		}
	}
}

func attributes(m pcommon.Map) store.Attributes {
	if m.Len() == 0 {
		return nil
	}
	out := make(store.Attributes, 0, m.Len())
	m.Range(func(k string, v pcommon.Value) bool {
		out = append(out, store.KeyValue{Key: k, Value: v.AsString()})
		return true
	})
	return out
}

func events(es ptrace.SpanEventSlice) []store.SpanEvent {
	if es.Len() == 0 {
		return nil
	}
	out := make([]store.SpanEvent, es.Len())
	for i := range out {
		e := es.At(i)
		out[i] = store.SpanEvent{TimeUnixNano: int64(e.Timestamp()), Name: e.Name(), Attributes: attributes(e.Attributes())}
	}
	return out
}

func links(ls ptrace.SpanLinkSlice) []store.SpanLink {
	if ls.Len() == 0 {
		return nil
	}
	out := make([]store.SpanLink, ls.Len())
	for i := range out {
		l := ls.At(i)
		out[i] = store.SpanLink{TraceID: store.TraceID(l.TraceID()), SpanID: store.SpanID(l.SpanID()), TraceState: l.TraceState().AsRaw(), Attributes: attributes(l.Attributes())}
	}
	return out
}
