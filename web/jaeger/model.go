package jaeger

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/vigil-dev/vigil/store"
)

// The JSON shapes of Jaeger's query API, as the Jaeger UI and Grafana's
// Jaeger data source read them. Times are microseconds.

type response struct {
	Data   any        `json:"data"`
	Total  int        `json:"total"`
	Limit  int        `json:"limit"`
	Offset int        `json:"offset"`
	Errors []apiError `json:"errors"`
}

type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"msg"`
}

type operation struct {
	Name     string `json:"name"`
	SpanKind string `json:"spanKind"`
}

type keyValue struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

type reference struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

type log struct {
	Timestamp int64      `json:"timestamp"`
	Fields    []keyValue `json:"fields"`
}

type span struct {
	TraceID       string      `json:"traceID"`
	SpanID        string      `json:"spanID"`
	Flags         int         `json:"flags"`
	OperationName string      `json:"operationName"`
	References    []reference `json:"references"`
	StartTime     int64       `json:"startTime"`
	Duration      int64       `json:"duration"`
	Tags          []keyValue  `json:"tags"`
	Logs          []log       `json:"logs"`
	ProcessID     string      `json:"processID"`
	Warnings      []string    `json:"warnings"`
}

type process struct {
	ServiceName string     `json:"serviceName"`
	Tags        []keyValue `json:"tags"`
}

type trace struct {
	TraceID   string             `json:"traceID"`
	Spans     []span             `json:"spans"`
	Processes map[string]process `json:"processes"`
	Warnings  []string           `json:"warnings"`
}

func str(k, v string) keyValue { return keyValue{Key: k, Type: "string", Value: v} }

func tags(a store.Attributes) []keyValue {
	out := make([]keyValue, 0, len(a))
	for _, kv := range a {
		out = append(out, tag(kv))
	}
	return out
}

// JavaScript's safe integers: beyond them a JSON number loses digits in
// the Jaeger UI, so Jaeger's query service sends such an int64 as a string.
const (
	jsMaxSafeInteger = 1<<53 - 1
	jsMinSafeInteger = -jsMaxSafeInteger
)

// tag is an attribute as Jaeger's OTLP translator and query service give
// it: int, double, bool and bytes as int64, float64, bool and binary (the
// bytes, which encoding/json writes as base64, as Jaeger's []byte is);
// arrays and maps as strings holding their JSON. A value that does not
// parse as its type — never written by Vigil's receivers — is sent as the
// string it is rather than failing the trace.
func tag(kv store.KeyValue) keyValue {
	switch kv.Type {
	case store.AttrBool:
		if b, err := strconv.ParseBool(kv.Value); err == nil {
			return keyValue{Key: kv.Key, Type: "bool", Value: b}
		}
	case store.AttrInt:
		if n, err := strconv.ParseInt(kv.Value, 10, 64); err == nil {
			if n > jsMaxSafeInteger || n < jsMinSafeInteger {
				return keyValue{Key: kv.Key, Type: "int64", Value: kv.Value}
			}
			return keyValue{Key: kv.Key, Type: "int64", Value: n}
		}
	case store.AttrDouble:
		if f, err := strconv.ParseFloat(kv.Value, 64); err == nil {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				// JSON has no number for these; the text keeps the value.
				return keyValue{Key: kv.Key, Type: "float64", Value: kv.Value}
			}
			return keyValue{Key: kv.Key, Type: "float64", Value: f}
		}
	case store.AttrBytes:
		if b, err := base64.StdEncoding.DecodeString(kv.Value); err == nil {
			return keyValue{Key: kv.Key, Type: "binary", Value: b}
		}
	}
	return str(kv.Key, kv.Value)
}

// toTrace converts a trace's spans. Each distinct service and resource
// becomes a process, numbered in order of first appearance.
func toTrace(spans []store.Span) trace {
	t := trace{TraceID: spans[0].TraceID.String(), Processes: map[string]process{}}
	procIDs := map[string]string{}
	for i := range spans {
		s := &spans[i]
		key, _ := json.Marshal([]any{s.Service, s.Resource})
		pid, ok := procIDs[string(key)]
		if !ok {
			pid = fmt.Sprintf("p%d", len(procIDs)+1)
			procIDs[string(key)] = pid
			t.Processes[pid] = process{ServiceName: s.Service, Tags: tags(s.Resource)}
		}
		t.Spans = append(t.Spans, toSpan(s, pid))
	}
	return t
}

func toSpan(s *store.Span, pid string) span {
	out := span{
		TraceID:       s.TraceID.String(),
		SpanID:        s.SpanID.String(),
		Flags:         1,
		OperationName: s.Operation,
		References:    []reference{},
		StartTime:     s.StartUnixNano / 1000,
		Duration:      s.DurationNano / 1000,
		Tags:          tags(s.Attributes),
		Logs:          []log{},
		ProcessID:     pid,
	}
	if !s.ParentSpanID.IsZero() {
		out.References = append(out.References, reference{RefType: "CHILD_OF", TraceID: s.TraceID.String(), SpanID: s.ParentSpanID.String()})
	}
	for _, l := range s.Links {
		out.References = append(out.References, reference{RefType: "FOLLOWS_FROM", TraceID: l.TraceID.String(), SpanID: l.SpanID.String()})
	}
	// The fields Jaeger's own OTLP translation adds, so the UI shows kind,
	// status and errors as it does for Jaeger-stored spans.
	if s.Kind != store.SpanKindUnspecified {
		out.Tags = append(out.Tags, str("span.kind", s.Kind.String()))
	}
	switch s.StatusCode {
	case store.StatusError:
		out.Tags = append(out.Tags, keyValue{Key: "error", Type: "bool", Value: true}, str("otel.status_code", "ERROR"))
	case store.StatusOK:
		out.Tags = append(out.Tags, str("otel.status_code", "OK"))
	}
	if s.StatusMessage != "" {
		out.Tags = append(out.Tags, str("otel.status_description", s.StatusMessage))
	}
	if s.ScopeName != "" {
		out.Tags = append(out.Tags, str("otel.scope.name", s.ScopeName))
	}
	if s.ScopeVersion != "" {
		out.Tags = append(out.Tags, str("otel.scope.version", s.ScopeVersion))
	}
	// The cost Vigil computed at ingest, under the attribute a caller would
	// have supplied it with.
	if _, supplied := s.Attributes.Get("gen_ai.usage.cost"); !supplied && !s.Cost.IsZero() {
		out.Tags = append(out.Tags, str("gen_ai.usage.cost", s.Cost.String()))
	}
	if s.TraceState != "" {
		out.Tags = append(out.Tags, str("w3c.tracestate", s.TraceState))
	}
	for _, e := range s.Events {
		fields := append([]keyValue{str("event", e.Name)}, tags(e.Attributes)...)
		out.Logs = append(out.Logs, log{Timestamp: e.TimeUnixNano / 1000, Fields: fields})
	}
	sort.SliceStable(out.Logs, func(i, j int) bool { return out.Logs[i].Timestamp < out.Logs[j].Timestamp })
	return out
}
