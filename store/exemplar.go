package store

import (
	"context"
	"time"
)

// SpanExemplarQuery selects the exemplars of the latency series counted
// from spans (vigil_span_duration_seconds): for each label set (service,
// operation, model, deployment, status) and each Step of [Start, End),
// its slowest span. Empty label fields match every value.
type SpanExemplarQuery struct {
	Tenant     string
	Start, End time.Time // span start
	Step       time.Duration
	Service    string
	Operation  string
	Model      string
	Deployment string
}

// SpanExemplar is the slowest span of a label set in one step.
type SpanExemplar struct {
	Service, Operation, Model, Deployment string
	Status                                StatusCode
	TraceID                               TraceID
	SpanID                                SpanID
	StartUnixNano, DurationNano           int64
}

// SpanExemplarReader finds span exemplars.
type SpanExemplarReader interface {
	// SpanExemplars returns one exemplar per label set and step that has
	// spans, ordered by label set, then start. Of spans equally slow, any
	// one may be returned.
	SpanExemplars(ctx context.Context, q SpanExemplarQuery) ([]SpanExemplar, error)
}
