package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// TLSFiles name a listener's certificate and key (PEM), and for mutual
// TLS the CA its clients' certificates must chain to. The files are read
// again when they change, as cert-manager or a Kubernetes Secret renews
// them in place: at a handshake, at most once a second, their sizes and
// times are compared with those last read. A change that does not load
// leaves the last good files in use, and is logged.
type TLSFiles struct {
	Cert, Key string
	// ClientCA, when set, makes clients present a certificate it signed;
	// the auth: section's certificates: maps its subject to roles.
	ClientCA string
}

// Enabled reports whether TLS is asked for.
func (f TLSFiles) Enabled() bool { return f.Cert != "" || f.Key != "" || f.ClientCA != "" }

// reloadEvery is how often a handshake may look at the files again.
const reloadEvery = time.Second

// Config loads the files and returns a server config that follows them.
// nextProtos are the protocols offered by ALPN: h2 and http/1.1 for an
// HTTP port; gRPC's credentials add h2 themselves.
func (f TLSFiles) Config(logger *slog.Logger, nextProtos ...string) (*tls.Config, error) {
	return f.config(logger, time.Now, nextProtos)
}

func (f TLSFiles) config(logger *slog.Logger, now func() time.Time, nextProtos []string) (*tls.Config, error) {
	if f.Cert == "" || f.Key == "" {
		return nil, errors.New("TLS needs both a certificate file and a key file")
	}
	l := &tlsLoader{files: f, log: logger, now: now}
	if err := l.load(); err != nil {
		return nil, err
	}
	base := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: nextProtos,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { c, _ := l.current(); return c, nil }}
	if f.ClientCA == "" {
		return base, nil
	}
	// The client CA may change too: each handshake gets a config with the
	// pool in force.
	base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		_, pool := l.current()
		c := base.Clone()
		c.GetConfigForClient, c.ClientAuth, c.ClientCAs = nil, tls.RequireAndVerifyClientCert, pool
		return c, nil
	}
	return base, nil
}

// tlsLoader keeps the files' contents current.
type tlsLoader struct {
	files TLSFiles
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	checked time.Time        // guarded by mu
	stamp   string           // the files' sizes and times when loaded; guarded by mu
	cert    *tls.Certificate // guarded by mu
	pool    *x509.CertPool   // guarded by mu
}

func (l *tlsLoader) paths() []string {
	return []string{l.files.Cert, l.files.Key, l.files.ClientCA}
}

// stampOf is what tells a file changed: its size and modification time.
func stampOf(paths []string) string {
	var b strings.Builder
	for _, p := range paths {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(p); err == nil {
			fmt.Fprintf(&b, "%s:%d:%d;", p, fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return b.String()
}

// load reads the files; the caller holds mu, or is the only user.
func (l *tlsLoader) load() error {
	stamp := stampOf(l.paths())
	cert, err := tls.LoadX509KeyPair(l.files.Cert, l.files.Key)
	if err != nil {
		return fmt.Errorf("cannot load the TLS certificate %s and key %s: %w", l.files.Cert, l.files.Key, err)
	}
	var pool *x509.CertPool
	if l.files.ClientCA != "" {
		pem, err := os.ReadFile(l.files.ClientCA)
		if err != nil {
			return fmt.Errorf("cannot read the client CA: %w", err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("the client CA %s holds no PEM certificate", l.files.ClientCA)
		}
	}
	l.cert, l.pool, l.stamp, l.checked = &cert, pool, stamp, l.now()
	return nil
}

// current returns the certificate and client CA in force, reading the
// files again when they changed.
func (l *tlsLoader) current() (*tls.Certificate, *x509.CertPool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.checked) < reloadEvery {
		return l.cert, l.pool
	}
	l.checked = now
	if stampOf(l.paths()) == l.stamp {
		return l.cert, l.pool
	}
	if err := l.load(); err != nil {
		l.log.Error("cannot reload the TLS files; the last good ones stay in use", "err", err)
		l.stamp = stampOf(l.paths()) // say so once per change, not at every handshake
		return l.cert, l.pool
	}
	l.log.Info("TLS files reloaded", "cert", l.files.Cert)
	return l.cert, l.pool
}

// certificates authenticates a verified client certificate by its
// subject, which the auth: section's certificates: maps to roles: KEDA's
// operator, which cannot send gRPC metadata, is known so over mutual TLS.
type certificates struct{ policy func() *Policy }

// Authenticate implements Authenticator.
func (a certificates) Authenticate(_ context.Context, c Credentials) (*Identity, error) {
	if c.Certificate == nil {
		return nil, ErrNoCredential
	}
	subject := c.Certificate.Subject.String()
	var g Grants
	if p := a.policy(); p != nil {
		g = p.Certificates[subject]
	}
	if len(g) == 0 {
		return nil, &Error{Code: CodeForbidden, Msg: fmt.Sprintf("the client certificate %q holds no role in Vigil: map its subject to roles in the auth: section's certificates:", subject)}
	}
	return &Identity{Kind: KindCert, Name: subject, Grants: g}, nil
}

// verifiedLeaf is the client's certificate of a connection, when it was
// verified against the client CA; nil otherwise.
func verifiedLeaf(cs *tls.ConnectionState) *x509.Certificate {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return nil
	}
	return cs.VerifiedChains[0][0]
}
