package otlp

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/VictoriaMetrics/easyproto"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/vigil-dev/vigil/collector"
	"github.com/vigil-dev/vigil/store"
)

// SpanRows are the rows of one decoded trace export. Their slices come
// from a pool: call Release once nothing holds them any more.
type SpanRows struct {
	Spans    []store.Span
	Rejected int    // invalid spans left out
	Msg      string // the first rejection's reason

	d *tracesDecoder // nil when pdata decoded the export
}

// Release gives the rows' buffers back for the next export. The rows must
// not be used afterwards; strings taken from them stay valid.
func (r *SpanRows) Release() {
	if r.d != nil {
		r.d.reset()
		decoders.Put(r.d)
		r.d = nil
	}
	r.Spans = nil
}

// DecodeTraces maps a protobuf ExportTraceServiceRequest to span rows, as
// pdata's decoding followed by Spans does, without building pdata's tree:
// protobuf fields are read in place with easyproto and go straight into
// rows. Input the fast path does not take (malformed protobuf, the
// deprecated instrumentation_library_spans) is decoded by pdata instead,
// so what is accepted, what is rejected and the error are pdata's.
func DecodeTraces(tenant string, body []byte, m collector.Mapping) (*SpanRows, error) {
	d := decoders.Get().(*tracesDecoder)
	if err := d.decode(tenant, body, m); err == nil {
		return &SpanRows{Spans: d.spans, Rejected: d.rejected, Msg: d.msg, d: d}, nil
	}
	d.reset()
	decoders.Put(d)
	req := ptraceotlp.NewExportRequest()
	if err := req.UnmarshalProto(body); err != nil {
		return nil, err
	}
	spans, rejected, msg := Spans(tenant, req.Traces(), m)
	return &SpanRows{Spans: spans, Rejected: rejected, Msg: msg}, nil
}

var decoders = sync.Pool{New: func() any { return newTracesDecoder() }}

// errUnsupported marks input the fast decoder leaves to pdata although it
// may be valid.
var errUnsupported = errors.New("left to pdata")

// maxDepth bounds the nesting of array and map values the fast decoder
// takes; deeper values go to pdata, which allows up to 100.
const maxDepth = 32

// Interning: repeated keys and values (attribute names, models, tiers,
// span names) share one string instead of allocating one a span. Every
// pooled decoder has its own table, so it is kept small; numbers are not
// interned, they would fill it.
const (
	maxInterned    = 4096 // entries; the table is cleared when full
	maxInternedLen = 64   // longer strings are rarely repeated
)

// rawField is a field kept for a second pass.
type rawField struct {
	num  uint32
	data []byte
}

// tracesDecoder holds the buffers of one export's decoding, kept with
// their capacity between exports.
type tracesDecoder struct {
	spans    []store.Span
	kvs      []store.KeyValue // every attribute list is a window of it
	events   []store.SpanEvent
	links    []store.SpanLink
	raw      []rawField // fields kept for a second pass, a stack
	entries  []mapEntry // the entries of the map values being written, a stack
	json     []byte
	strs     map[string]string
	doubles  map[uint64]string
	rejected int
	msg      string
}

func newTracesDecoder() *tracesDecoder {
	return &tracesDecoder{strs: make(map[string]string), doubles: make(map[uint64]string)}
}

// reset empties the decoder, keeping capacity; the interned strings stay.
func (d *tracesDecoder) reset() {
	// Drop the references the pooled buffers hold, so a pooled decoder does
	// not keep the last export's strings alive.
	clear(d.spans)
	clear(d.kvs)
	clear(d.events)
	clear(d.links)
	clear(d.raw)
	clear(d.entries)
	d.spans, d.kvs, d.events, d.links, d.raw, d.entries = d.spans[:0], d.kvs[:0], d.events[:0], d.links[:0], d.raw[:0], d.entries[:0]
	d.rejected, d.msg = 0, ""
}

func (d *tracesDecoder) reject(format string, args ...any) {
	if d.rejected == 0 {
		d.msg = fmt.Sprintf(format, args...)
	}
	d.rejected++
}

// intern returns b as a string, shared with earlier equal strings.
func (d *tracesDecoder) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxInternedLen {
		return string(b)
	}
	if s, ok := d.strs[string(b)]; ok {
		return s
	}
	if len(d.strs) >= maxInterned {
		clear(d.strs)
	}
	s := string(b)
	d.strs[s] = s
	return s
}

// double writes a double as pdata's AsString does, remembering the
// doubles it wrote: attributes such as a temperature repeat.
func (d *tracesDecoder) double(bits uint64) string {
	if s, ok := d.doubles[bits]; ok {
		return s
	}
	s := pcommon.NewValueDouble(math.Float64frombits(bits)).AsString()
	if len(d.doubles) >= maxInterned {
		clear(d.doubles)
	}
	d.doubles[bits] = s
	return s
}

// next reads the next field, refusing the field numbers pdata refuses
// (0, and those that are negative as its int32).
func next(fc *easyproto.FieldContext, src []byte) ([]byte, error) {
	src, err := fc.NextField(src)
	if err != nil {
		return src, err
	}
	if fc.FieldNum == 0 || fc.FieldNum > math.MaxInt32 {
		return src, &wireError{fmt.Sprintf("illegal field number %d", fc.FieldNum)}
	}
	return src, nil
}

// wireError is protobuf that pdata refuses too, as opposed to input the
// fast decoder leaves to pdata.
type wireError struct{ msg string }

func (e *wireError) Error() string { return e.msg }

func wrongType(field string) error { return &wireError{"wrong wire type for " + field} }

func badID(field string) error { return &wireError{"wrong wire type or length for " + field} }

func (d *tracesDecoder) decode(tenant string, body []byte, m collector.Mapping) error {
	return eachElement(body, "resource_spans", func(data []byte) error { return d.resourceSpans(tenant, data, m) })
}

func (d *tracesDecoder) resourceSpans(tenant string, src []byte, m collector.Mapping) error {
	// The resource may follow its spans on the wire: read it first, and
	// keep the scope spans for a second pass.
	var fc easyproto.FieldContext
	resStart, rawStart := len(d.kvs), len(d.raw)
	defer func() { d.raw = d.raw[:rawStart] }()
	for len(src) > 0 {
		var err error
		if src, err = next(&fc, src); err != nil {
			return err
		}
		switch fc.FieldNum {
		case 1:
			data, ok := fc.MessageData()
			if !ok {
				return wrongType("resource")
			}
			if err := d.resource(data); err != nil {
				return err
			}
		case 2:
			data, ok := fc.MessageData()
			if !ok {
				return wrongType("scope_spans")
			}
			d.raw = append(d.raw, rawField{2, data})
		case 3:
			if _, ok := fc.Bytes(); !ok {
				return wrongType("schema_url")
			}
		case 1000:
			return errUnsupported // instrumentation_library_spans, which pdata migrates
		}
	}
	resource := d.window(resStart)
	service := unknownService
	for _, kv := range resource {
		if kv.Key == "service.name" {
			if kv.Value != "" {
				service = kv.Value
			}
			break
		}
	}
	for i := rawStart; i < len(d.raw); i++ {
		if err := d.scopeSpans(tenant, d.raw[i].data, resource, service, m); err != nil {
			return err
		}
	}
	return nil
}

// window is the attributes appended to kvs since start, capped so that
// appending to one list cannot overwrite the next.
func (d *tracesDecoder) window(start int) store.Attributes {
	if len(d.kvs) == start {
		return nil
	}
	return store.Attributes(d.kvs[start:len(d.kvs):len(d.kvs)])
}

func (d *tracesDecoder) resource(src []byte) error {
	var fc easyproto.FieldContext
	for len(src) > 0 {
		var err error
		if src, err = next(&fc, src); err != nil {
			return err
		}
		switch fc.FieldNum {
		case 1:
			data, ok := fc.MessageData()
			if !ok {
				return wrongType("resource attributes")
			}
			if err := d.keyValue(data); err != nil {
				return err
			}
		case 2:
			if _, ok := fc.Uint64(); !ok {
				return wrongType("dropped_attributes_count")
			}
		case 3:
			data, ok := fc.MessageData()
			if !ok {
				return wrongType("entity_refs")
			}
			if err := checkStrings(data, 4); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkStrings checks a message that Vigil does not keep, whose fields 1
// to n are all strings, as pdata would parse it.
func checkStrings(src []byte, n uint32) error {
	var fc easyproto.FieldContext
	for len(src) > 0 {
		var err error
		if src, err = next(&fc, src); err != nil {
			return err
		}
		if fc.FieldNum <= n {
			if _, ok := fc.Bytes(); !ok {
				return wrongType("a string field")
			}
		}
	}
	return nil
}

func (d *tracesDecoder) scopeSpans(tenant string, src []byte, resource store.Attributes, service string, m collector.Mapping) error {
	var fc easyproto.FieldContext
	var scopeName, scopeVersion string
	rawStart := len(d.raw)
	defer func() { d.raw = d.raw[:rawStart] }()
	for len(src) > 0 {
		var err error
		if src, err = next(&fc, src); err != nil {
			return err
		}
		switch fc.FieldNum {
		case 1:
			data, ok := fc.MessageData()
			if !ok {
				return wrongType("scope")
			}
			if err := d.scope(data, &scopeName, &scopeVersion); err != nil {
				return err
			}
		case 2:
			data, ok := fc.MessageData()
			if !ok {
				return wrongType("spans")
			}
			d.raw = append(d.raw, rawField{2, data})
		case 3:
			if _, ok := fc.Bytes(); !ok {
				return wrongType("schema_url")
			}
		}
	}
	for i := rawStart; i < len(d.raw); i++ {
		sp := store.Span{Tenant: tenant, Service: service, ScopeName: scopeName, ScopeVersion: scopeVersion, Resource: resource}
		valid, err := d.span(d.raw[i].data, &sp)
		if err != nil {
			return err
		}
		if valid {
			m.Promote(&sp)
			d.spans = append(d.spans, sp)
		}
	}
	return nil
}

func (d *tracesDecoder) scope(src []byte, name, version *string) error {
	var fc easyproto.FieldContext
	for len(src) > 0 {
		var err error
		if src, err = next(&fc, src); err != nil {
			return err
		}
		switch fc.FieldNum {
		case 1, 2:
			b, ok := fc.Bytes()
			if !ok {
				return wrongType("scope name or version")
			}
			if fc.FieldNum == 1 {
				*name = d.intern(b)
			} else {
				*version = d.intern(b)
			}
		case 3:
			// Scope attributes are not stored, but pdata parses them.
			data, ok := fc.MessageData()
			if !ok {
				return wrongType("scope attributes")
			}
			start := len(d.kvs)
			err := d.keyValue(data)
			d.kvs = d.kvs[:start]
			if err != nil {
				return err
			}
		case 4:
			if _, ok := fc.Uint64(); !ok {
				return wrongType("dropped_attributes_count")
			}
		}
	}
	return nil
}

// span decodes one span into sp and validates it as Spans does; valid is
// false for a span left out (and counted).
func (d *tracesDecoder) span(src []byte, sp *store.Span) (valid bool, err error) {
	var fc easyproto.FieldContext
	var start, end uint64
	attrStart, rawStart := len(d.kvs), len(d.raw)
	defer func() { d.raw = d.raw[:rawStart] }()
	for len(src) > 0 {
		if src, err = next(&fc, src); err != nil {
			return false, err
		}
		switch fc.FieldNum {
		case 1:
			b, ok := fc.Bytes()
			if !ok || !id(sp.TraceID[:], b) {
				return false, badID("trace_id")
			}
		case 2:
			b, ok := fc.Bytes()
			if !ok || !id(sp.SpanID[:], b) {
				return false, badID("span_id")
			}
		case 3:
			b, ok := fc.Bytes()
			if !ok {
				return false, wrongType("trace_state")
			}
			sp.TraceState = d.intern(b)
		case 4:
			b, ok := fc.Bytes()
			if !ok || !id(sp.ParentSpanID[:], b) {
				return false, badID("parent_span_id")
			}
		case 5:
			b, ok := fc.Bytes()
			if !ok {
				return false, wrongType("name")
			}
			sp.Operation = d.intern(b)
		case 6:
			v, ok := fc.Uint64()
			if !ok {
				return false, wrongType("kind")
			}
			sp.Kind = store.SpanKind(int32(v))
		case 7, 8:
			v, ok := fc.Fixed64()
			if !ok {
				return false, wrongType("span times")
			}
			if fc.FieldNum == 7 {
				start = v
			} else {
				end = v
			}
		case 9:
			data, ok := fc.MessageData()
			if !ok {
				return false, wrongType("attributes")
			}
			if err := d.keyValue(data); err != nil {
				return false, err
			}
		case 10, 12, 14:
			if _, ok := fc.Uint64(); !ok {
				return false, wrongType("a dropped count")
			}
		case 11, 13:
			data, ok := fc.MessageData()
			if !ok {
				return false, wrongType("events or links")
			}
			d.raw = append(d.raw, rawField{fc.FieldNum, data})
		case 15:
			data, ok := fc.MessageData()
			if !ok {
				return false, wrongType("status")
			}
			if err := d.status(data, sp); err != nil {
				return false, err
			}
		case 16:
			if _, ok := fc.Fixed32(); !ok {
				return false, wrongType("flags")
			}
		}
	}
	sp.Attributes = d.window(attrStart)
	// Events and links after the span's own attributes, so that those
	// stay one window.
	evStart, lnStart := len(d.events), len(d.links)
	for _, f := range d.raw[rawStart:] {
		if f.num == 11 {
			err = d.event(f.data)
		} else {
			err = d.link(f.data)
		}
		if err != nil {
			return false, err
		}
	}
	if len(d.events) > evStart {
		sp.Events = d.events[evStart:len(d.events):len(d.events)]
	}
	if len(d.links) > lnStart {
		sp.Links = d.links[lnStart:len(d.links):len(d.links)]
	}
	switch {
	case sp.TraceID == store.TraceID{}:
		d.reject("span %q: trace id is empty", sp.Operation)
	case sp.SpanID == store.SpanID{}:
		d.reject("span %q: span id is empty", sp.Operation)
	case int64(start) <= 0 || int64(end) < int64(start):
		d.reject("span %s %q: end time %d is before start time %d", sp.SpanID, sp.Operation, int64(end), int64(start))
	default:
		sp.StartUnixNano, sp.DurationNano = int64(start), int64(end)-int64(start)
		return true, nil
	}
	return false, nil
}

// id copies a trace or span id; pdata takes an empty one as zero and
// refuses any other length but the id's.
func id(dst, b []byte) bool {
	switch len(b) {
	case 0:
		clear(dst)
	case len(dst):
		copy(dst, b)
	default:
		return false
	}
	return true
}

func (d *tracesDecoder) status(src []byte, sp *store.Span) error {
	var fc easyproto.FieldContext
	for len(src) > 0 {
		var err error
		if src, err = next(&fc, src); err != nil {
			return err
		}
		switch fc.FieldNum {
		case 2:
			b, ok := fc.Bytes()
			if !ok {
				return wrongType("status message")
			}
			sp.StatusMessage = d.intern(b)
		case 3:
			v, ok := fc.Uint64()
			if !ok {
				return wrongType("status code")
			}
			sp.StatusCode = store.StatusCode(int32(v))
		}
	}
	return nil
}

func (d *tracesDecoder) event(src []byte) error {
	var fc easyproto.FieldContext
	var e store.SpanEvent
	start := len(d.kvs)
	for len(src) > 0 {
		var err error
		if src, err = next(&fc, src); err != nil {
			return err
		}
		switch fc.FieldNum {
		case 1:
			v, ok := fc.Fixed64()
			if !ok {
				return wrongType("event time")
			}
			e.TimeUnixNano = int64(v)
		case 2:
			b, ok := fc.Bytes()
			if !ok {
				return wrongType("event name")
			}
			e.Name = d.intern(b)
		case 3:
			data, ok := fc.MessageData()
			if !ok {
				return wrongType("event attributes")
			}
			if err := d.keyValue(data); err != nil {
				return err
			}
		case 4:
			if _, ok := fc.Uint64(); !ok {
				return wrongType("dropped_attributes_count")
			}
		}
	}
	e.Attributes = d.window(start)
	d.events = append(d.events, e)
	return nil
}

func (d *tracesDecoder) link(src []byte) error {
	var fc easyproto.FieldContext
	var l store.SpanLink
	start := len(d.kvs)
	for len(src) > 0 {
		var err error
		if src, err = next(&fc, src); err != nil {
			return err
		}
		switch fc.FieldNum {
		case 1:
			b, ok := fc.Bytes()
			if !ok || !id(l.TraceID[:], b) {
				return badID("link trace_id")
			}
		case 2:
			b, ok := fc.Bytes()
			if !ok || !id(l.SpanID[:], b) {
				return badID("link span_id")
			}
		case 3:
			b, ok := fc.Bytes()
			if !ok {
				return wrongType("link trace_state")
			}
			l.TraceState = d.intern(b)
		case 4:
			data, ok := fc.MessageData()
			if !ok {
				return wrongType("link attributes")
			}
			if err := d.keyValue(data); err != nil {
				return err
			}
		case 5:
			if _, ok := fc.Uint64(); !ok {
				return wrongType("dropped_attributes_count")
			}
		case 6:
			if _, ok := fc.Fixed32(); !ok {
				return wrongType("link flags")
			}
		}
	}
	l.Attributes = d.window(start)
	d.links = append(d.links, l)
	return nil
}
