package stream

import (
	"fmt"
	"path/filepath"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/config"
)

// The streams live in the config directory, in any YAML file with a
// top-level streams: list:
//
//	streams:
//	  - name: ops-bus
//	    amqp:
//	      url_file: secrets/rabbitmq-url     # amqp://user:password@host:5672/vhost
//	      exchange: vigil.events             # a topic exchange, declared durable when missing
//	      routing_key: "{{.Tenant}}.{{.Type}}"   # the default
//	    events: [slo.alert, actions.transition, canary.analysis]
//
// url_file is relative to the file that names it; it is read at every
// connection, never logged. The routing key is a Go template over
// RoutingFields (.Tenant, .Type, .Kind, .Subject, .Severity). Streams are
// read when Vigil starts: a reload that changes them is taken up at the
// next start.

// DefaultRoutingKey is the routing key template of a stream that names none.
const DefaultRoutingKey = "{{.Tenant}}.{{.Type}}"

// Stream is one configured stream.
type Stream struct {
	Name   string
	Events []string
	AMQP   *AMQPConfig
}

// AMQPConfig is where a RabbitMQ stream goes.
type AMQPConfig struct {
	URLFile    string // absolute
	Exchange   string
	RoutingKey *template.Template
}

// Subscriber is the stream's publisher, for the dispatcher.
func (s Stream) Subscriber() *AMQP {
	return &AMQP{StreamName: s.Name, URLFile: s.AMQP.URLFile, Exchange: s.AMQP.Exchange, RoutingKey: s.AMQP.RoutingKey, EventTypes: s.Events}
}

type streamYAML struct {
	Name   string    `yaml:"name"`
	AMQP   *amqpYAML `yaml:"amqp"`
	Events []string  `yaml:"events"`
}

type amqpYAML struct {
	URLFile    string `yaml:"url_file"`
	Exchange   string `yaml:"exchange"`
	RoutingKey string `yaml:"routing_key"`
}

// Section is the streams' part of the config directory; known are the
// event types a stream may carry (the producers' codecs' types, which
// the caller gathers so this package depends on none of them).
func Section(known []string) *config.Section[[]Stream] {
	return &config.Section[[]Stream]{Name: "streams", Keys: []string{"streams"},
		New: func() config.Decoder[[]Stream] { return &streamsReader{known: known, seen: map[string]string{}} }}
}

type streamsReader struct {
	known   []string
	streams []Stream
	seen    map[string]string // name → file:line
}

func (r *streamsReader) Decode(it config.Item) []config.Problem {
	if it.Node.Kind != yaml.SequenceNode {
		return []config.Problem{{File: it.File, Line: it.Node.Line, Field: "streams", Severity: config.Error, Message: "want a list of streams"}}
	}
	var problems []config.Problem
	for i, item := range it.Node.Content {
		field := fmt.Sprintf("streams[%d]", i)
		s, ps := r.read(it.File, item, field)
		problems = append(problems, ps...)
		if s == nil {
			continue
		}
		if prev, ok := r.seen[s.Name]; ok {
			problems = append(problems, config.Problem{File: it.File, Line: config.Line(item, "name"), Field: field + ".name", Severity: config.Error,
				Message: fmt.Sprintf("stream %q is also defined at %s", s.Name, prev)})
			continue
		}
		r.seen[s.Name] = fmt.Sprintf("%s:%d", it.File, item.Line)
		r.streams = append(r.streams, *s)
	}
	return problems
}

func (r *streamsReader) Done() ([]Stream, []config.Problem) { return r.streams, nil }

func (r *streamsReader) read(file string, n *yaml.Node, field string) (*Stream, []config.Problem) {
	var y streamYAML
	if p := config.DecodeStrict(file, n, field, &y); p != nil {
		return nil, []config.Problem{*p}
	}
	var problems []config.Problem
	bad := func(path, format string, args ...any) {
		problems = append(problems, config.Problem{File: file, Line: config.Line(n, strings.Split(path, ".")...), Field: field + "." + path,
			Severity: config.Error, Message: fmt.Sprintf(format, args...)})
	}
	s := &Stream{Name: y.Name, Events: y.Events}
	if y.Name == "" {
		bad("name", "is required")
	}
	if len(y.Events) == 0 {
		bad("events", "is required: the event types to publish, some of %s", strings.Join(r.known, ", "))
	}
	for i, t := range y.Events {
		if !validType(r.known, t) {
			problems = append(problems, config.Problem{File: file, Line: lineOfItem(n, "events", i), Field: fmt.Sprintf("%s.events[%d]", field, i),
				Severity: config.Error, Message: fmt.Sprintf("%q is not an event type a stream carries: one of %s", t, strings.Join(r.known, ", "))})
		}
	}
	if y.AMQP == nil {
		bad("amqp", "is required: where the stream goes")
	} else {
		s.AMQP = &AMQPConfig{Exchange: y.AMQP.Exchange}
		if y.AMQP.URLFile == "" {
			bad("amqp", "needs url_file: the file that holds the broker's URL")
		} else {
			s.AMQP.URLFile = y.AMQP.URLFile
			if !filepath.IsAbs(s.AMQP.URLFile) {
				s.AMQP.URLFile = filepath.Join(filepath.Dir(file), s.AMQP.URLFile)
			}
		}
		if y.AMQP.Exchange == "" {
			// The default exchange takes no topic routing.
			bad("amqp", "needs exchange: the topic exchange to publish to")
		}
		key := y.AMQP.RoutingKey
		if key == "" {
			key = DefaultRoutingKey
		}
		t, err := template.New(y.Name).Option("missingkey=error").Parse(key)
		if err == nil {
			// A template that names a field RoutingFields lacks fails
			// here, not at the first event.
			err = t.Execute(new(strings.Builder), RoutingFields{})
		}
		if err != nil {
			bad("amqp.routing_key", "%v", err)
		}
		s.AMQP.RoutingKey = t
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return s, nil
}

// lineOfItem is the line of the i-th item of the list under key, or of
// the key when there is no such item.
func lineOfItem(n *yaml.Node, key string, i int) int {
	if v := config.Value(n, key); v != nil && v.Kind == yaml.SequenceNode && i < len(v.Content) {
		return v.Content[i].Line
	}
	return config.Line(n, key)
}
