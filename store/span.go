package store

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// TraceID is a 16-byte trace identifier.
type TraceID [16]byte

// String returns the 32-character lower-case hex form.
func (t TraceID) String() string { return hex.EncodeToString(t[:]) }

// IsZero reports whether every byte is zero (an invalid id).
func (t TraceID) IsZero() bool { return t == TraceID{} }

// ParseTraceID accepts 1 to 32 hex digits; shorter forms are left-padded
// with zeros, as Jaeger writes 64-bit trace ids.
func ParseTraceID(s string) (TraceID, error) {
	var t TraceID
	if err := parseHexID(t[:], s); err != nil {
		return t, fmt.Errorf("cannot parse trace id %q: %w", s, err)
	}
	return t, nil
}

// SpanID is an 8-byte span identifier.
type SpanID [8]byte

// String returns the 16-character lower-case hex form.
func (s SpanID) String() string { return hex.EncodeToString(s[:]) }

// IsZero reports whether every byte is zero (no span, e.g. a root's parent).
func (s SpanID) IsZero() bool { return s == SpanID{} }

// ParseSpanID accepts 1 to 16 hex digits, left-padded with zeros.
func ParseSpanID(s string) (SpanID, error) {
	var id SpanID
	if err := parseHexID(id[:], s); err != nil {
		return id, fmt.Errorf("cannot parse span id %q: %w", s, err)
	}
	return id, nil
}

func parseHexID(dst []byte, s string) error {
	if len(s) == 0 || len(s) > 2*len(dst) {
		return fmt.Errorf("want 1 to %d hex digits, got %d", 2*len(dst), len(s))
	}
	if len(s)%2 == 1 {
		s = "0" + s
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return err
	}
	copy(dst[len(dst)-len(b):], b)
	return nil
}

// SpanKind follows OTLP's numbering.
type SpanKind int8

const (
	SpanKindUnspecified SpanKind = iota
	SpanKindInternal
	SpanKindServer
	SpanKindClient
	SpanKindProducer
	SpanKindConsumer
)

var spanKindNames = [...]string{"unspecified", "internal", "server", "client", "producer", "consumer"}

// String returns the lower-case name Jaeger uses ("server", "client", ...).
func (k SpanKind) String() string {
	if k >= 0 && int(k) < len(spanKindNames) {
		return spanKindNames[k]
	}
	return "unspecified"
}

// StatusCode follows OTLP's numbering.
type StatusCode int8

const (
	StatusUnset StatusCode = iota
	StatusOK
	StatusError
)

var statusNames = [...]string{"unset", "ok", "error"}

// String returns the lower-case name: "unset", "ok" or "error".
func (c StatusCode) String() string {
	if c >= 0 && int(c) < len(statusNames) {
		return statusNames[c]
	}
	return "unset"
}

// SpanEvent is a timed annotation on a span (a Jaeger log).
type SpanEvent struct {
	TimeUnixNano int64      `json:"t"`
	Name         string     `json:"n"`
	Attributes   Attributes `json:"a,omitempty"`
}

// SpanLink points from a span to another span.
type SpanLink struct {
	TraceID    TraceID    `json:"tid"`
	SpanID     SpanID     `json:"sid"`
	TraceState string     `json:"ts,omitempty"`
	Attributes Attributes `json:"a,omitempty"`
}

// Span is one span with the columns Vigil filters and sums on promoted out
// of the attributes.
type Span struct {
	Tenant        string
	TraceID       TraceID
	SpanID        SpanID
	ParentSpanID  SpanID
	TraceState    string
	Service       string
	Operation     string
	Kind          SpanKind
	StartUnixNano int64
	DurationNano  int64
	StatusCode    StatusCode
	StatusMessage string
	ScopeName     string
	ScopeVersion  string
	Resource      Attributes
	Attributes    Attributes
	Events        []SpanEvent
	Links         []SpanLink

	// Promoted for AI work; empty or zero when the span is not a model call.
	Model         string
	ModelVersion  string
	Deployment    string // deployment or canary label, e.g. "canary"
	Provider      string
	OperationType string // gen_ai.operation.name: chat, embeddings, ...
	InputTokens   int64
	OutputTokens  int64
	CachedTokens  int64
	Cost          decimal.Decimal // USD, at most MoneyScale decimal places
}

// Start returns the start time.
func (s *Span) Start() time.Time { return time.Unix(0, s.StartUnixNano).UTC() }

// Operation is a span name as seen on a service, with its kind.
type Operation struct {
	Name string
	Kind SpanKind
}

// TraceQuery selects traces: a trace matches when one of its spans matches
// every condition. Zero fields do not filter.
type TraceQuery struct {
	Tenant    string
	Service   string
	Operation string
	// Tags must all match the span's attributes or its resource attributes.
	// The tag "error" with value "true" matches spans with StatusError, as
	// Jaeger's UI searches for errors.
	Tags        map[string]string
	MinDuration time.Duration
	MaxDuration time.Duration
	Start, End  time.Time // span start in [Start, End)
	Limit       int       // at most this many traces; 0 means 20
}

// DefaultTraceLimit is the number of traces FindTraceIDs returns when the
// query sets no limit.
const DefaultTraceLimit = 20

// SpanWriter writes spans.
type SpanWriter interface {
	WriteSpans(ctx context.Context, spans []Span) error
}

// SpanReader reads spans back, with the queries the Jaeger query API needs.
type SpanReader interface {
	// Trace returns every span of the trace ordered by start time, then span
	// id; ErrNotFound when the tenant has no span of it.
	Trace(ctx context.Context, tenant string, id TraceID) ([]Span, error)
	// Traces returns the spans of each of ids the tenant has, in the order
	// of ids, each ordered as Trace orders it; an id with no span is left
	// out. It is what a search loads: one read for the page of traces
	// where a Trace each costs a round of look-ups per trace.
	Traces(ctx context.Context, tenant string, ids []TraceID) ([][]Span, error)
	// FindTraceIDs returns the ids of matching traces, the trace with the
	// latest matching span first (ties by id).
	FindTraceIDs(ctx context.Context, q TraceQuery) ([]TraceID, error)
	// Services lists service names, sorted.
	Services(ctx context.Context, tenant string) ([]string, error)
	// Operations lists a service's operations sorted by name, then kind.
	Operations(ctx context.Context, tenant, service string) ([]Operation, error)
}

// MarshalText writes the hex form, so ids read well in JSON.
func (t TraceID) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText parses the hex form.
func (t *TraceID) UnmarshalText(b []byte) (err error) {
	*t, err = ParseTraceID(string(b))
	return err
}

// MarshalText writes the hex form.
func (s SpanID) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses the hex form.
func (s *SpanID) UnmarshalText(b []byte) (err error) {
	*s, err = ParseSpanID(string(b))
	return err
}
