package main

import (
	"crypto/tls"
	"log/slog"

	"github.com/spf13/pflag"

	"github.com/vigil-dev/vigil/auth"
)

// registerTLS adds the TLS flags of a port: PREFIX.tls-cert-file and
// PREFIX.tls-key-file, and with clientCA PREFIX.tls-client-ca-file.
func registerTLS(f *pflag.FlagSet, files *auth.TLSFiles, prefix, port string, clientCA bool) {
	f.StringVar(&files.Cert, prefix+".tls-cert-file", "", "serve "+port+" over TLS with this certificate (PEM, with its chain), read again when it changes; empty: plain text")
	f.StringVar(&files.Key, prefix+".tls-key-file", "", "the private key (PEM) of --"+prefix+".tls-cert-file, read again when it changes")
	if clientCA {
		f.StringVar(&files.ClientCA, prefix+".tls-client-ca-file", "", "mutual TLS on "+port+": clients must present a certificate this CA (PEM) signed, and the auth: section's certificates: maps its subject to roles; empty: no client certificate is asked for")
	}
}

// serverTLS is the TLS config of a port, nil when it serves plain text.
// nextProtos are its ALPN protocols: h2 for gRPC, h2 and http/1.1 for
// HTTP.
func serverTLS(files auth.TLSFiles, logger *slog.Logger, nextProtos ...string) (*tls.Config, error) {
	if !files.Enabled() {
		return nil, nil
	}
	return files.Config(logger, nextProtos...)
}
