package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/backend"
	"github.com/vigil-dev/vigil/web/client"
)

// serverOptions are the flags of a command that works on the store or,
// with --server, through a running Vigil's API: the same output and exit
// codes either way.
type serverOptions struct {
	server, token, tokenFile string
	timeout                  time.Duration
	role                     string // "an editor", the role the command needs, for messages
}

// register adds --server, --token, --token-file and --server-timeout.
func (o *serverOptions) register(f *pflag.FlagSet, role string, timeout time.Duration) {
	o.role = "a " + role
	if strings.ContainsAny(role[:1], "aeiou") {
		o.role = "an " + role
	}
	f.StringVar(&o.server, "server", "", "URL of a running Vigil (http://host:8080) to ask instead of opening the store")
	f.StringVar(&o.token, "token", "", "API token for the server ("+o.role+"'s: vigil token create --role "+role+"); prefer its environment twin, which stays out of the process list")
	f.StringVar(&o.tokenFile, "token-file", "", "file holding the API token for the server (a Kubernetes Secret, say)")
	f.DurationVar(&o.timeout, "server-timeout", timeout, "how long to wait for the server's answer")
}

// credential is the token to send: --token-file's content, else --token
// (or VIGIL_TOKEN). Errors never quote it.
func (o *serverOptions) credential() (string, error) {
	if o.tokenFile == "" {
		return o.token, nil
	}
	b, err := os.ReadFile(o.tokenFile)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("--token-file %s is empty", o.tokenFile)
	}
	return tok, nil
}

// client returns a client of url, as tenant.
func (o *serverOptions) client(url, tenant string) (*client.Client, error) {
	tok, err := o.credential()
	if err != nil {
		return nil, err
	}
	c, err := client.New(url, client.Options{Tenant: tenant, Timeout: o.timeout, Token: tok})
	if err != nil {
		return nil, fmt.Errorf("--server: %w", err)
	}
	return c, nil
}

// open returns the store the global flags name or, with --server, a client
// of that server. When the embedded store is locked by a running vigil
// serve on the data directory, it asks that server if a token is at hand,
// and otherwise says which server holds the store and how to ask it.
func (o *serverOptions) open(cmd *cobra.Command, g *globalOptions, tenant string) (store.Store, *client.Client, error) {
	if o.server != "" {
		c, err := o.client(o.server, tenant)
		return nil, c, err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
	defer cancel()
	st, err := backend.Open(ctx, g.storeURL, g.dataDir)
	if !errors.Is(err, store.ErrLocked) {
		return st, nil, err
	}
	sf, found, ferr := readServerFile(g.dataDir)
	if ferr != nil || !found {
		return nil, nil, fmt.Errorf("%w (is vigil serve running on %s? pass --server with its URL and %s's token in VIGIL_TOKEN or --token-file)", err, g.dataDir, o.role)
	}
	if o.token == "" && o.tokenFile == "" {
		return nil, nil, fmt.Errorf("%w: vigil serve (pid %d) holds it and answers at %s; give %s's token in VIGIL_TOKEN or --token-file and this command asks it, or pass --server %s",
			err, sf.PID, sf.URL, o.role, sf.URL)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "vigil: the store in %s is held by vigil serve (pid %d): asking it at %s\n", g.dataDir, sf.PID, sf.URL)
	c, err := o.client(sf.URL, tenant)
	return nil, c, err
}
