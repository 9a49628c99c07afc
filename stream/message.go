package stream

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// ContentType is the content type of a message: a CloudEvent in its
// structured JSON form, attributes and data in one document.
const ContentType = "application/cloudevents+json"

// TypePrefix starts every CloudEvent type Vigil publishes: the event
// "slo.alert" goes out as "dev.vigil.slo.alert".
const TypePrefix = "dev.vigil."

// Message is one event as a CloudEvent 1.0 (structured JSON mode). Data
// is the producer's versioned payload exactly as stored ({"version": N,
// "data": {...}}), so a consumer reads it with the same schema as Vigil's
// API serves.
type Message struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject,omitempty"`
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
	// Extensions (CloudEvents allows lower-case alphanumeric names).
	Tenant   string `json:"vigiltenant"`
	Kind     string `json:"vigilkind"`
	Severity string `json:"vigilseverity,omitempty"`
	Summary  string `json:"vigilsummary,omitempty"`
}

// NewMessage is the CloudEvent of ev. The source names the tenant, so
// (source, id) is unique as the specification asks.
func NewMessage(ev store.Event) (Message, error) {
	if !json.Valid([]byte(ev.Payload)) {
		return Message{}, fmt.Errorf("event %s (%s): its payload is not JSON", ev.ID, ev.Type)
	}
	return Message{
		SpecVersion: "1.0", ID: ev.ID, Source: "/vigil/tenants/" + ev.Tenant, Type: TypePrefix + ev.Type,
		Subject: ev.Subject, Time: ev.Time.UTC(), DataContentType: "application/json", Data: json.RawMessage(ev.Payload),
		Tenant: ev.Tenant, Kind: string(ev.Kind), Severity: ev.Severity, Summary: ev.Summary,
	}, nil
}

// Encode is ev as every stream sends it, whatever the broker: the
// CloudEvent and its JSON body. An error means the event can never be
// sent (its payload is not JSON), so publishers give it up.
func Encode(ev store.Event) (Message, []byte, error) {
	m, err := NewMessage(ev)
	if err != nil {
		return Message{}, nil, err
	}
	body, err := json.Marshal(m)
	if err != nil {
		return Message{}, nil, fmt.Errorf("cannot encode event %s: %w", ev.ID, err)
	}
	return m, body, nil
}

// RoutingFields are what a routing key or record key template may use.
type RoutingFields struct {
	Tenant, Type, Kind, Subject, Severity string

	state func() (string, error) // nil: the type has no states
}

// State is the state the event moved its subject to: an alert's
// (pending, firing, resolved, inactive) or an action's (proposed,
// approved, executing, ...); "" for a type without states, which a
// template can replace: {{or .State "none"}}. A method, so that only a
// template that uses it decodes the payload.
func (f RoutingFields) State() (string, error) {
	if f.state == nil {
		return "", nil
	}
	return f.state()
}

// States reads the state out of the events of the types that have one,
// by event type. The caller builds it from the producers' codecs, so this
// package depends on none of them.
type States map[string]func(store.Event) (string, error)

func routingFields(ev store.Event, states States) RoutingFields {
	f := RoutingFields{Tenant: ev.Tenant, Type: ev.Type, Kind: string(ev.Kind), Subject: ev.Subject, Severity: ev.Severity}
	if read := states[ev.Type]; read != nil {
		f.state = func() (string, error) { return read(ev) }
	}
	return f
}
