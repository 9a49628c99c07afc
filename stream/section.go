package stream

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/config"
	"github.com/vigil-dev/vigil/dispatch"
	"github.com/vigil-dev/vigil/stream/kafkaconn"
)

// The streams live in the config directory, in any YAML file with a
// top-level streams: list, each stream going to RabbitMQ or to Kafka:
//
//	streams:
//	  - name: ops-bus
//	    amqp:
//	      url_file: secrets/rabbitmq-url     # amqp://user:password@host:5672/vhost
//	      exchange: vigil.events             # a topic exchange, declared durable when missing
//	      routing_key: "{{.Tenant}}.{{.Type}}"   # the default
//	    events: [slo.alert, actions.transition, canary.analysis]
//	  - name: data-bus
//	    kafka:
//	      brokers: [kafka-1:9092, kafka-2:9092]
//	      topic: vigil.events
//	      key: "{{.Tenant}}/{{.Subject}}"     # the default
//	      sasl: {mechanism: SCRAM-SHA-512, user: vigil, password_file: secrets/kafka-password}
//	      tls: {ca_file: secrets/kafka-ca.pem}   # tls: {} verifies with the system's roots
//	    events: [slo.alert, actions.transition]
//	    backlog: 10000                       # events that may wait; the oldest are dropped past it
//
// url_file and the other files are relative to the file that names them;
// they are read at every connection, never logged. The routing key and
// the record key are Go templates over RoutingFields (.Tenant, .Type,
// .Kind, .Subject, .Severity, .State). A reload that changes a stream
// replaces its publisher; its waiting events go to the new one.

// DefaultRoutingKey is the routing key template of a stream that names none.
const DefaultRoutingKey = "{{.Tenant}}.{{.Type}}"

// Stream is one configured stream: exactly one of AMQP and Kafka is set.
type Stream struct {
	Name    string
	Events  []string
	Backlog int // 0: the dispatcher's default
	AMQP    *AMQPConfig
	Kafka   *KafkaConfig

	spec string // what the stream was read from, to tell a changed stream
}

// Same reports whether two readings of a stream configure it alike, so
// that a reload need not replace its publisher (and its connection).
func (s Stream) Same(o Stream) bool { return s.spec != "" && s.spec == o.spec }

// AMQPConfig is where a RabbitMQ stream goes.
type AMQPConfig struct {
	URLFile    string // absolute
	Exchange   string
	RoutingKey *template.Template
}

// KafkaConfig is where a Kafka stream goes.
type KafkaConfig struct {
	Conn  kafkaconn.Conn // its files absolute
	Topic string
	Key   *template.Template
}

// Publisher is a stream's publisher: a dispatcher subscriber with a
// connection to close once the dispatcher has stopped.
type Publisher interface {
	dispatch.Subscriber
	Close() error
}

// Subscriber is the stream's publisher, for the dispatcher; states give
// its keys their .State.
func (s Stream) Subscriber(states States) Publisher {
	if s.Kafka != nil {
		return &Kafka{StreamName: s.Name, Conn: s.Kafka.Conn, Topic: s.Kafka.Topic, Key: s.Kafka.Key, EventTypes: s.Events, States: states, Backlog: s.Backlog}
	}
	return &AMQP{StreamName: s.Name, URLFile: s.AMQP.URLFile, Exchange: s.AMQP.Exchange, RoutingKey: s.AMQP.RoutingKey, EventTypes: s.Events,
		States: states, Backlog: s.Backlog}
}

type streamYAML struct {
	Name    string     `yaml:"name"`
	AMQP    *amqpYAML  `yaml:"amqp"`
	Kafka   *kafkaYAML `yaml:"kafka"`
	Events  []string   `yaml:"events"`
	Backlog int        `yaml:"backlog"`
}

type kafkaYAML struct {
	Brokers []string `yaml:"brokers"`
	Topic   string   `yaml:"topic"`
	Key     string   `yaml:"key"`
	SASL    *struct {
		Mechanism    string `yaml:"mechanism"`
		User         string `yaml:"user"`
		PasswordFile string `yaml:"password_file"`
	} `yaml:"sasl"`
	TLS *struct {
		CAFile     string `yaml:"ca_file"`
		CertFile   string `yaml:"cert_file"`
		KeyFile    string `yaml:"key_file"`
		ServerName string `yaml:"server_name"`
	} `yaml:"tls"`
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
	s := &Stream{Name: y.Name, Events: y.Events, Backlog: y.Backlog}
	// Relative paths depend on the file's directory; the rest is y.
	if spec, err := json.Marshal(y); err == nil {
		s.spec = filepath.Dir(file) + "\x00" + string(spec)
	}
	if y.Backlog < 0 {
		bad("backlog", "must be positive (0 or absent keeps the default, 10000)")
	}
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
	relative := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(filepath.Dir(file), p)
	}
	switch {
	case y.AMQP == nil && y.Kafka == nil:
		bad("amqp", "is required, or kafka: where the stream goes")
	case y.AMQP != nil && y.Kafka != nil:
		bad("kafka", "and amqp are both set: a stream goes to one broker (define two streams)")
	case y.Kafka != nil:
		s.Kafka = &KafkaConfig{Topic: y.Kafka.Topic, Conn: kafkaconn.Conn{Brokers: y.Kafka.Brokers}}
		if y.Kafka.Topic == "" {
			bad("kafka", "needs topic: the topic to publish to")
		}
		if y.Kafka.SASL != nil {
			s.Kafka.Conn.SASL = &kafkaconn.SASL{Mechanism: kafkaconn.Mechanism(y.Kafka.SASL.Mechanism), User: y.Kafka.SASL.User,
				PasswordFile: relative(y.Kafka.SASL.PasswordFile)}
			if m, err := kafkaconn.ParseMechanism(y.Kafka.SASL.Mechanism); err == nil {
				s.Kafka.Conn.SASL.Mechanism = m
			}
		}
		if t := y.Kafka.TLS; t != nil {
			s.Kafka.Conn.TLS = &kafkaconn.TLS{CAFile: relative(t.CAFile), CertFile: relative(t.CertFile), KeyFile: relative(t.KeyFile), ServerName: t.ServerName}
		}
		if err := s.Kafka.Conn.Check(); err != nil {
			for _, e := range unjoin(err) {
				bad("kafka", "%v", e)
			}
		}
		s.Kafka.Key = keyTemplate(y.Name, y.Kafka.Key, DefaultKafkaKey, func(err error) { bad("kafka.key", "%v", err) })
	default:
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
		s.AMQP.RoutingKey = keyTemplate(y.Name, y.AMQP.RoutingKey, DefaultRoutingKey, func(err error) { bad("amqp.routing_key", "%v", err) })
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return s, nil
}

// keyTemplate parses a routing or record key template, or the default
// when key is empty.
func keyTemplate(name, key, def string, bad func(error)) *template.Template {
	if key == "" {
		key = def
	}
	t, err := template.New(name).Option("missingkey=error").Parse(key)
	if err == nil {
		// A template that names a field RoutingFields lacks fails here,
		// not at the first event.
		err = t.Execute(new(strings.Builder), RoutingFields{})
	}
	if err != nil {
		bad(err)
	}
	return t
}

// unjoin is the errors errors.Join joined, one problem each.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// lineOfItem is the line of the i-th item of the list under key, or of
// the key when there is no such item.
func lineOfItem(n *yaml.Node, key string, i int) int {
	if v := config.Value(n, key); v != nil && v.Kind == yaml.SequenceNode && i < len(v.Content) {
		return v.Content[i].Line
	}
	return config.Line(n, key)
}
