// Package jaeger receives Jaeger Thrift spans: compact Thrift over UDP, what
// jaeger-client-go's agent transport sends (:6831), and binary Thrift
// batches over HTTP at /api/traces, what its HTTP transport sends to a
// Jaeger collector (:14268).
package jaeger

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/jaegertracing/jaeger-idl/thrift-gen/jaeger"

	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/store"
)

// Spans maps a Jaeger batch to span rows. A span without ids is rejected
// and counted; the rest are kept.
func Spans(tenant string, b *jaeger.Batch, m collector.Mapping) (spans []store.Span, rejected int, msg string) {
	service := "unknown_service"
	var resource store.Attributes
	if b.Process != nil {
		if b.Process.ServiceName != "" {
			service = b.Process.ServiceName
		}
		resource = append(store.Attributes{{Key: "service.name", Value: service}}, tags(b.Process.Tags)...)
	}
	for _, js := range b.Spans {
		if js == nil {
			continue
		}
		if js.TraceIdHigh == 0 && js.TraceIdLow == 0 || js.SpanId == 0 {
			if rejected == 0 {
				msg = fmt.Sprintf("span %q: trace or span id is zero", js.OperationName)
			}
			rejected++
			continue
		}
		sp := store.Span{
			Tenant:        tenant,
			TraceID:       traceID(js.TraceIdHigh, js.TraceIdLow),
			SpanID:        spanID(js.SpanId),
			ParentSpanID:  spanID(js.ParentSpanId),
			Service:       service,
			Operation:     js.OperationName,
			StartUnixNano: js.StartTime * 1000,
			DurationNano:  max(js.Duration, 0) * 1000,
			Resource:      resource,
		}
		for _, ref := range js.References {
			if ref == nil {
				continue
			}
			if ref.RefType == jaeger.SpanRefType_CHILD_OF && sp.ParentSpanID.IsZero() && traceID(ref.TraceIdHigh, ref.TraceIdLow) == sp.TraceID {
				sp.ParentSpanID = spanID(ref.SpanId)
				continue
			}
			if ref.RefType == jaeger.SpanRefType_FOLLOWS_FROM || spanID(ref.SpanId) != sp.ParentSpanID {
				sp.Links = append(sp.Links, store.SpanLink{TraceID: traceID(ref.TraceIdHigh, ref.TraceIdLow), SpanID: spanID(ref.SpanId)})
			}
		}
		sp.Attributes = spanTags(&sp, js.Tags)
		for _, l := range js.Logs {
			if l == nil {
				continue
			}
			ev := store.SpanEvent{TimeUnixNano: l.Timestamp * 1000}
			for _, kv := range tags(l.Fields) {
				if kv.Key == "event" && ev.Name == "" {
					ev.Name = kv.Value
					continue
				}
				ev.Attributes = append(ev.Attributes, kv)
			}
			sp.Events = append(sp.Events, ev)
		}
		m.Promote(&sp)
		spans = append(spans, sp)
	}
	return spans, rejected, msg
}

// spanTags maps tags to attributes, moving the ones Jaeger uses for span
// kind and status into their columns, as Jaeger's own OTLP translation does.
func spanTags(sp *store.Span, ts []*jaeger.Tag) store.Attributes {
	var out store.Attributes
	for _, kv := range tags(ts) {
		switch kv.Key {
		case "span.kind":
			sp.Kind = kindOf(kv.Value)
		case "error":
			if kv.Value == "true" {
				sp.StatusCode = store.StatusError
			}
		case "otel.status_code":
			switch kv.Value {
			case "ERROR":
				sp.StatusCode = store.StatusError
			case "OK":
				sp.StatusCode = store.StatusOK
			}
		case "otel.status_description":
			sp.StatusMessage = kv.Value
		case "otel.scope.name", "otel.library.name":
			sp.ScopeName = kv.Value
		case "otel.scope.version", "otel.library.version":
			sp.ScopeVersion = kv.Value
		default:
			out = append(out, kv)
		}
	}
	return out
}

func kindOf(s string) store.SpanKind {
	switch s {
	case "server":
		return store.SpanKindServer
	case "client":
		return store.SpanKindClient
	case "producer":
		return store.SpanKindProducer
	case "consumer":
		return store.SpanKindConsumer
	case "internal":
		return store.SpanKindInternal
	}
	return store.SpanKindUnspecified
}

func tags(ts []*jaeger.Tag) store.Attributes {
	if len(ts) == 0 {
		return nil
	}
	out := make(store.Attributes, 0, len(ts))
	for _, t := range ts {
		if t == nil {
			continue
		}
		kv := store.KeyValue{Key: t.Key}
		switch t.VType {
		case jaeger.TagType_STRING:
			kv.Value = t.GetVStr()
		case jaeger.TagType_DOUBLE:
			kv.Value, kv.Type = strconv.FormatFloat(t.GetVDouble(), 'g', -1, 64), store.AttrDouble
		case jaeger.TagType_BOOL:
			kv.Value, kv.Type = strconv.FormatBool(t.GetVBool()), store.AttrBool
		case jaeger.TagType_LONG:
			kv.Value, kv.Type = strconv.FormatInt(t.GetVLong(), 10), store.AttrInt
		case jaeger.TagType_BINARY:
			kv.Value, kv.Type = base64.StdEncoding.EncodeToString(t.GetVBinary()), store.AttrBytes
		}
		out = append(out, kv)
	}
	return out
}

func traceID(high, low int64) store.TraceID {
	var id store.TraceID
	binary.BigEndian.PutUint64(id[:8], uint64(high))
	binary.BigEndian.PutUint64(id[8:], uint64(low))
	return id
}

func spanID(id int64) store.SpanID {
	var s store.SpanID
	binary.BigEndian.PutUint64(s[:], uint64(id))
	return s
}
