package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCA signs certificates for TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue makes a leaf for 127.0.0.1 with a subject and serial, as PEM.
func (ca *testCA) issue(t *testing.T, subject pkix.Name, serial int64) (certPEM, keyPEM []byte) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: subject, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: k})
}

func (ca *testCA) clientCert(t *testing.T, subject pkix.Name) tls.Certificate {
	c, k := ca.issue(t, subject, 99)
	cert, err := tls.X509KeyPair(c, k)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// serveTLS serves h over TLS with cfg and returns the address.
func serveTLS(t *testing.T, cfg *tls.Config, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(tls.NewListener(ln, cfg))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func TestTLSFilesReload(t *testing.T) {
	ca, dir := newTestCA(t), t.TempDir()
	files := TLSFiles{Cert: filepath.Join(dir, "tls.crt"), Key: filepath.Join(dir, "tls.key")}
	c1, k1 := ca.issue(t, pkix.Name{CommonName: "vigil"}, 1)
	writeFile(t, files.Cert, c1)
	writeFile(t, files.Key, k1)
	clk, logs := newClock(), &bytes.Buffer{}
	cfg, err := files.config(slog.New(slog.NewTextHandler(logs, nil)), clk.Now, []string{"http/1.1"})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, cfg, http.NotFoundHandler())
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	serial := func() int64 {
		t.Helper()
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
	}
	if got := serial(); got != 1 {
		t.Fatalf("serial %d", got)
	}
	// Renewed in place: the next handshake after a second has the new one.
	c2, k2 := ca.issue(t, pkix.Name{CommonName: "vigil"}, 2)
	writeFile(t, files.Cert, c2)
	writeFile(t, files.Key, k2)
	if got := serial(); got != 1 {
		t.Errorf("within the second: serial %d, want the old 1", got)
	}
	clk.Add(reloadEvery)
	if got := serial(); got != 2 {
		t.Errorf("after a renewal: serial %d, want 2", got)
	}
	// A broken renewal keeps the last good files in use, and says so.
	writeFile(t, files.Key, []byte("not a key"))
	clk.Add(reloadEvery)
	if got := serial(); got != 2 || !strings.Contains(logs.String(), "cannot reload the TLS files") {
		t.Errorf("after a broken renewal: serial %d, log %s", got, logs)
	}
	if _, err := (TLSFiles{Cert: files.Cert, Key: files.Key}).Config(slog.Default()); err == nil {
		t.Errorf("a start on a broken key succeeds")
	}
}

// TestClientCertificates: with mutual TLS, a client without a
// certificate of the client CA cannot connect, and one with a certificate
// is known by its subject, as the auth: section maps it.
func TestClientCertificates(t *testing.T) {
	ca, dir := newTestCA(t), t.TempDir()
	files := TLSFiles{Cert: filepath.Join(dir, "tls.crt"), Key: filepath.Join(dir, "tls.key"), ClientCA: filepath.Join(dir, "ca.crt")}
	c, k := ca.issue(t, pkix.Name{CommonName: "vigil"}, 1)
	writeFile(t, files.Cert, c)
	writeFile(t, files.Key, k)
	writeFile(t, files.ClientCA, ca.pem)
	policy := &Policy{Certificates: map[string]Grants{"CN=keda-operator,O=kedacore": {"acme": Viewer}}}
	f := newFixture(t, Options{Policy: func() *Policy { return policy }})
	cfg, err := files.Config(slog.Default(), "http/1.1")
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, cfg, f.mux)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	get := func(certs ...tls.Certificate) (int, string, error) {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: certs}}}
		resp, err := client.Get("https://" + addr + "/read")
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String(), nil
	}
	if _, _, err := get(); err == nil {
		t.Errorf("a client without a certificate connects")
	}
	other := newTestCA(t)
	if _, _, err := get(other.clientCert(t, pkix.Name{CommonName: "keda-operator", Organization: []string{"kedacore"}})); err == nil {
		t.Errorf("a certificate of another CA connects")
	}
	if code, body, err := get(ca.clientCert(t, pkix.Name{CommonName: "keda-operator", Organization: []string{"kedacore"}})); err != nil || code != 200 || !strings.HasPrefix(body, "acme cert:CN=keda-operator,O=kedacore") {
		t.Errorf("KEDA's certificate: %d %s %v", code, body, err)
	}
	if code, body, _ := get(ca.clientCert(t, pkix.Name{CommonName: "someone"})); code != 403 || !strings.Contains(body, "holds no role") {
		t.Errorf("an unmapped certificate: %d %s", code, body)
	}
}
