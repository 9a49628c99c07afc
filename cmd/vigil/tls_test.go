package main

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
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/vigil-dev/vigil/web/keda"
)

// pki is a CA for a test's listeners and clients, its files in a directory.
type pki struct {
	t    *testing.T
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newPKI(t *testing.T) *pki {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vigil test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	p := &pki{t: t, dir: t.TempDir(), cert: cert, key: key, pool: x509.NewCertPool()}
	p.pool.AddCert(cert)
	os.WriteFile(p.path("ca.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	return p
}

func (p *pki) path(name string) string { return filepath.Join(p.dir, name) }

// issue writes NAME.crt and NAME.key, a certificate for 127.0.0.1 with
// the subject, and returns it loaded.
func (p *pki) issue(name string, subject pkix.Name) tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: subject, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		p.t.Fatal(err)
	}
	k, _ := x509.MarshalECPrivateKey(key)
	certPEM, keyPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: k})
	os.WriteFile(p.path(name+".crt"), certPEM, 0o600)
	os.WriteFile(p.path(name+".key"), keyPEM, 0o600)
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

// client is a TLS client config trusting the CA, presenting certs.
func (p *pki) client(certs ...tls.Certificate) *tls.Config {
	return &tls.Config{RootCAs: p.pool, Certificates: certs}
}

// TestTLSEveryPort: the web port, both OTLP ports and the KEDA port over
// TLS; the collector and KEDA with mutual TLS, where KEDA's operator,
// which sends no gRPC metadata, is known by its certificate alone.
func TestTLSEveryPort(t *testing.T) {
	ca := newPKI(t)
	ca.issue("server", pkix.Name{CommonName: "vigil"})
	sdkCert := ca.issue("sdk", pkix.Name{CommonName: "chat-gateway"})
	kedaCert := ca.issue("keda", pkix.Name{CommonName: "keda-operator", Organization: []string{"kedacore"}})
	dir := t.TempDir()
	configDir := filepath.Join(dir, "config")
	os.Mkdir(configDir, 0o755)
	os.WriteFile(filepath.Join(configDir, "auth.yaml"), []byte("auth:\n  certificates:\n    \"CN=keda-operator,O=kedacore\": {acme: viewer}\n"), 0o644)
	ingest := createToken(t, dir, "", "acme", "ingest")
	admin := createToken(t, dir, "", "*", "admin")
	web, grpcAddr, httpAddr, kedaAddr := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	server := []string{ca.path("server.crt"), ca.path("server.key")}
	p := start(t, nil, "serve", "--data-dir", dir, "--config-dir", configDir, "--collector.max-batch-age", "100ms",
		"--web.listen-address", web, "--web.tls-cert-file", server[0], "--web.tls-key-file", server[1],
		"--collector.otlp-grpc-address", grpcAddr, "--collector.http-address", httpAddr, "--collector.jaeger-agent-address", "",
		"--collector.tls-cert-file", server[0], "--collector.tls-key-file", server[1], "--collector.tls-client-ca-file", ca.path("ca.crt"),
		"--keda.listen-address", kedaAddr, "--keda.tls-cert-file", server[0], "--keda.tls-key-file", server[1], "--keda.tls-client-ca-file", ca.path("ca.crt"))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: ca.client()}}
	var resp *http.Response
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var err error
		if resp, err = client.Get("https://" + web + "/readyz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the web port does not answer over TLS: %v\n%s", err, p.stderr)
		}
	}
	if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") == "" || !strings.Contains(p.stderr.String(), "url=https://") {
		t.Errorf("web over TLS: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	if r, err := plainClient.Get("http://" + web + "/healthz"); err == nil && r.StatusCode == 200 {
		t.Errorf("the TLS web port answers plain HTTP")
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	auth := map[string]string{"authorization": "Bearer " + ingest}
	// OTLP over mutual TLS, with the SDK's own options; without a client
	// certificate the connection is refused whatever the token.
	grpcExp, _ := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(grpcAddr), otlptracegrpc.WithTLSCredentials(credentials.NewTLS(ca.client(sdkCert))), otlptracegrpc.WithHeaders(auth))
	traceID := sendTraces(t, grpcExp, "chat-gateway")
	httpExp, _ := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(httpAddr), otlptracehttp.WithTLSClientConfig(ca.client(sdkCert)), otlptracehttp.WithHeaders(auth))
	sendTraces(t, httpExp, "chat-gateway")
	noCert, _ := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(grpcAddr), otlptracegrpc.WithTLSCredentials(credentials.NewTLS(ca.client())),
		otlptracegrpc.WithHeaders(auth), otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}))
	if err := export(noCert); err == nil {
		t.Errorf("OTLP without a client certificate is accepted")
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		req, _ := http.NewRequest("GET", "https://"+web+"/api/traces/"+traceID.String(), nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("X-Scope-OrgID", "acme")
		r, err := client.Do(req)
		if err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the trace sent over mutual TLS is not in acme: %v", err)
		}
	}

	// KEDA's operator: its certificate is its identity, viewer of acme.
	ref := keda.ScaledObjectRef{Name: "chat-gateway", Namespace: "inference", ScalerMetadata: map[string]string{"service": "chat-gateway", "tenant": "acme", "latencySLO": "0.8", "replicas": "2"}}
	call := func(cfg *tls.Config, ref keda.ScaledObjectRef) (bool, error) {
		conn, err := grpc.NewClient(kedaAddr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return (&keda.Client{Conn: conn}).IsActive(ctx, ref)
	}
	if active, err := call(ca.client(kedaCert), ref); err != nil || !active {
		t.Errorf("KEDA by its certificate: %v, %v", active, err)
	}
	ref.ScalerMetadata = map[string]string{"service": "chat-gateway", "tenant": "globex", "latencySLO": "0.8"}
	if _, err := call(ca.client(kedaCert), ref); status.Code(err) != codes.PermissionDenied {
		t.Errorf("KEDA's certificate naming another tenant: %v", err)
	}
	if _, err := call(ca.client(sdkCert), ref); status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "holds no role") {
		t.Errorf("a certificate the auth: section does not map: %v", err)
	}
	if _, err := call(ca.client(), ref); status.Code(err) != codes.Unavailable {
		t.Errorf("KEDA without a client certificate: %v", err)
	}
}
