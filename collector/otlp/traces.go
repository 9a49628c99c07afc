// Package otlp receives OpenTelemetry traces and metrics over gRPC and
// HTTP (protobuf or JSON) and maps them to store rows.
package otlp

import (
	"fmt"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/store"
)

// unknownService is the conventions' service name for spans without one.
const unknownService = "unknown_service"

// Spans maps an OTLP trace export to span rows. Invalid spans are left out
// and counted in rejected, with the first reason in msg.
func Spans(tenant string, td ptrace.Traces, m collector.Mapping) (spans []store.Span, rejected int, msg string) {
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
		if v, ok := res.Get("service.name"); ok && v.AsString() != "" {
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
				m.Promote(&sp)
				spans = append(spans, sp)
			}
		}
	}
	return spans, rejected, msg
}

func attributes(m pcommon.Map) store.Attributes {
	if m.Len() == 0 {
		return nil
	}
	out := make(store.Attributes, 0, m.Len())
	m.Range(func(k string, v pcommon.Value) bool {
		out = append(out, store.KeyValue{Key: k, Value: v.AsString(), Type: attrType(v.Type())})
		return true
	})
	return out
}

// attrType is the stored type of an OTLP value. AsString writes each in
// the form store.AttrType documents; an empty value is an empty string, as
// Jaeger's OTLP translator makes it.
func attrType(t pcommon.ValueType) store.AttrType {
	switch t {
	case pcommon.ValueTypeBool:
		return store.AttrBool
	case pcommon.ValueTypeInt:
		return store.AttrInt
	case pcommon.ValueTypeDouble:
		return store.AttrDouble
	case pcommon.ValueTypeBytes:
		return store.AttrBytes
	case pcommon.ValueTypeSlice:
		return store.AttrArray
	case pcommon.ValueTypeMap:
		return store.AttrMap
	}
	return store.AttrString
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
