// Package kafkaconn is how Vigil reaches a Kafka cluster: the brokers and
// the optional SASL and TLS that the stream publisher (stream.Kafka) and
// the collector's OTLP consumer (collector/kafka) share, turned into
// franz-go client options. Secrets stay in files, read at every
// connection, and appear in no error or description.
package kafkaconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Mechanism is a SASL mechanism Vigil speaks.
type Mechanism string

const (
	Plain       Mechanism = "PLAIN"
	ScramSHA256 Mechanism = "SCRAM-SHA-256"
	ScramSHA512 Mechanism = "SCRAM-SHA-512"
)

// Mechanisms are the SASL mechanisms, for messages.
var Mechanisms = []Mechanism{Plain, ScramSHA256, ScramSHA512}

// ParseMechanism reads a mechanism's name, case-insensitively.
func ParseMechanism(s string) (Mechanism, error) {
	for _, m := range Mechanisms {
		if strings.EqualFold(s, string(m)) {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown SASL mechanism %q: one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512", s)
}

// Conn is how to reach one Kafka cluster.
type Conn struct {
	Brokers []string // host:port of some brokers; the client learns the rest
	SASL    *SASL    // nil: no authentication
	TLS     *TLS     // nil: plaintext
}

// SASL authenticates the client. The password is in a file, read at every
// connection: a rotated password needs no restart, and it is never in the
// config itself.
type SASL struct {
	Mechanism    Mechanism
	User         string
	PasswordFile string
}

// TLS encrypts the connections; every field is optional. With no CAFile
// the system's roots verify the brokers; CertFile and KeyFile, together,
// are a client certificate for brokers that ask for one.
type TLS struct {
	CAFile, CertFile, KeyFile string
	ServerName                string // overrides the broker's host name in verification
}

// Check reports what is missing or wrong, without touching the network
// or the files (they may not exist yet where the config is linted).
func (c Conn) Check() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("brokers: at least one host:port is required"))
	}
	for _, b := range c.Brokers {
		if i := strings.LastIndexByte(b, ':'); i <= 0 || i == len(b)-1 {
			errs = append(errs, fmt.Errorf("broker %q: want host:port", b))
		}
	}
	if s := c.SASL; s != nil {
		if _, err := ParseMechanism(string(s.Mechanism)); err != nil {
			errs = append(errs, err)
		}
		if s.User == "" {
			errs = append(errs, errors.New("sasl: user is required"))
		}
		if s.PasswordFile == "" {
			errs = append(errs, errors.New("sasl: password_file is required: the file that holds the password"))
		}
	}
	if t := c.TLS; t != nil && (t.CertFile == "") != (t.KeyFile == "") {
		errs = append(errs, errors.New("tls: cert_file and key_file go together"))
	}
	return errors.Join(errs...)
}

// Describe is where the connection goes, safe to show: the brokers, and
// whether SASL (with its user) and TLS are on.
func (c Conn) Describe() string {
	s := "kafka://" + strings.Join(c.Brokers, ",")
	if c.SASL != nil {
		s += fmt.Sprintf(" (SASL %s as %s)", c.SASL.Mechanism, c.SASL.User)
	}
	if c.TLS != nil {
		s += " (TLS)"
	}
	return s
}

// Options are the franz-go client options that connect as configured.
// The TLS files are read here (a client is made once per process or per
// reconnection); the SASL password at every connection.
func (c Conn) Options() ([]kgo.Opt, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers...)}
	if c.TLS != nil {
		cfg, err := c.TLS.config()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	if c.SASL != nil {
		opts = append(opts, kgo.SASL(c.SASL.mechanism()))
	}
	return opts, nil
}

func (s *SASL) mechanism() sasl.Mechanism {
	password := func() (string, error) {
		data, err := os.ReadFile(s.PasswordFile)
		if err != nil {
			// The path may be shown; the file's content never is.
			return "", fmt.Errorf("cannot read the Kafka SASL password: %w", err)
		}
		return strings.TrimRight(string(data), "\r\n"), nil
	}
	switch m, _ := ParseMechanism(string(s.Mechanism)); m {
	case Plain:
		return plain.Plain(func(context.Context) (plain.Auth, error) {
			p, err := password()
			return plain.Auth{User: s.User, Pass: p}, err
		})
	case ScramSHA256:
		return scram.Sha256(func(context.Context) (scram.Auth, error) {
			p, err := password()
			return scram.Auth{User: s.User, Pass: p}, err
		})
	default:
		return scram.Sha512(func(context.Context) (scram.Auth, error) {
			p, err := password()
			return scram.Auth{User: s.User, Pass: p}, err
		})
	}
}

func (t *TLS) config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("cannot read the Kafka CA file: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", t.CAFile)
		}
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("cannot load the Kafka client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
