package kafkaconn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// No Kafka broker can run where these tests run: kfake, franz-go's Kafka
// protocol implementation, is the broker, with its TLS listener and SASL.

func ping(t *testing.T, c Conn) error {
	t.Helper()
	opts, err := c.Options()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(opts, kgo.DialTimeout(3*time.Second), kgo.RetryTimeout(3*time.Second))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}

func file(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSASL: each mechanism logs in with the password from its file, and
// a wrong password does not.
func TestSASL(t *testing.T) {
	dir := t.TempDir()
	for _, m := range Mechanisms {
		t.Run(string(m), func(t *testing.T) {
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser(string(m), "vigil", "right-password"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			conn := Conn{Brokers: c.ListenAddrs(), SASL: &SASL{Mechanism: m, User: "vigil", PasswordFile: file(t, dir, "right", "right-password\n")}}
			if err := ping(t, conn); err != nil {
				t.Fatalf("the right password: %v", err)
			}
			conn.SASL.PasswordFile = file(t, dir, "wrong", "wrong-password")
			if err := ping(t, conn); err == nil {
				t.Fatal("a wrong password logged in")
			} else if strings.Contains(err.Error(), "wrong-password") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

// TestTLS: the brokers' certificate is verified against ca_file; without
// it (the system's roots) a self-signed broker is refused.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kafka"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	kb, _ := x509.MarshalECPrivateKey(key)
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}))
	if err != nil {
		t.Fatal(err)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := ping(t, Conn{Brokers: c.ListenAddrs(), TLS: &TLS{CAFile: file(t, dir, "ca.pem", string(certPEM))}}); err != nil {
		t.Fatalf("with the CA: %v", err)
	}
	if err := ping(t, Conn{Brokers: c.ListenAddrs(), TLS: &TLS{}}); err == nil {
		t.Fatal("a self-signed broker passed the system's roots")
	}
	if _, err := (Conn{Brokers: c.ListenAddrs(), TLS: &TLS{CAFile: file(t, dir, "empty.pem", "")}}).Options(); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Errorf("an empty CA file: %v", err)
	}
}

func TestCheck(t *testing.T) {
	err := Conn{Brokers: []string{"k:9092", "nohost"}, SASL: &SASL{Mechanism: "GSSAPI"}, TLS: &TLS{KeyFile: "k.pem"}}.Check()
	for _, want := range []string{`broker "nohost": want host:port`, `unknown SASL mechanism "GSSAPI"`, "sasl: user is required", "sasl: password_file is required", "cert_file and key_file go together"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	if err := (Conn{}).Check(); err == nil || !strings.Contains(err.Error(), "at least one") {
		t.Errorf("no brokers: %v", err)
	}
}
