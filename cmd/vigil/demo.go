package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/oklog/run"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/demo"
	"github.com/vigil-dev/vigil/store"
)

// demoOptions are the flags of `vigil serve --demo`.
type demoOptions struct {
	mode        string // "" when the demo is off
	speed       float64
	controlAddr string

	// Set by prepare.
	listeners   *demo.Listeners
	tempDir     string        // the throwaway data directory, removed at exit
	historyDone chan struct{} // closed once the week of history is stored
}

func (d *demoOptions) register(f *pflag.FlagSet) {
	f.StringVar(&d.mode, "demo", "", "run the demo fleet beside Vigil and play its story: a canary regression caught and rolled back once a person approves (--demo), or by itself after a while (--demo=auto); Vigil then runs on a fresh data directory and the demo's config directory unless --data-dir and --config-dir are given")
	f.Lookup("demo").NoOptDefVal = string(demo.ByPerson)
	f.Float64Var(&d.speed, "speed", 1, "with --demo: how much faster the story's timeline runs (10 plays the canary's regression 12 seconds after the history is in instead of 2 minutes)")
	f.StringVar(&d.controlAddr, "demo.control-address", "127.0.0.1:8091", "with --demo: where the fleet's control endpoint listens (the webhook executor posts the rollback there)")
}

func (d *demoOptions) on() bool { return d.mode != "" }

// prepare readies a --demo run before the roles start: a fresh data
// directory, the demo's config directory, the fleet's ports and the
// scrape configuration that names them, the control endpoint's secret,
// and an analyzer interval that keeps up with the speed. Flags given on
// the command line win.
func (d *demoOptions) prepare(cmd *cobra.Command, g *globalOptions, o *roleOptions) error {
	if !d.on() {
		if cmd.Flags().Changed("speed") || cmd.Flags().Changed("demo.control-address") {
			return errors.New("--speed and --demo.control-address go with --demo")
		}
		return nil
	}
	if _, err := demo.ParseMode(d.mode); err != nil {
		return err
	}
	if d.speed <= 0 || d.speed > 100 {
		return fmt.Errorf("--speed %v: want a factor above 0, at most 100", d.speed)
	}
	if !cmd.Flags().Changed("data-dir") {
		dir, err := os.MkdirTemp("", "vigil-demo-")
		if err != nil {
			return err
		}
		d.tempDir, g.dataDir = dir, dir
	}
	var err error
	if d.listeners, err = demo.Listen(d.controlAddr); err != nil {
		return err
	}
	if !cmd.Flags().Changed("config-dir") {
		g.configDir = filepath.Join(g.dataDir, "demo-config")
		if err := demo.WriteConfig(g.configDir, "http://"+d.listeners.Control.Addr().String()); err != nil {
			return err
		}
	}
	if o.collector.scrapeConfig == "" {
		o.collector.scrapeConfig = filepath.Join(g.dataDir, "demo-scrape.yaml")
		if err := os.WriteFile(o.collector.scrapeConfig, []byte(demo.ScrapeConfig(d.listeners.Gateway.Addr().String(), d.listeners.GPU.Addr().String(), store.DefaultTenant)), 0o644); err != nil {
			return err
		}
	}
	// The webhook executor reads the secret from the environment, as the
	// policy's secret_env says; the fleet checks the signatures with it.
	if os.Getenv(demo.SecretEnv) == "" {
		b := make([]byte, 32)
		rand.Read(b)
		os.Setenv(demo.SecretEnv, hex.EncodeToString(b))
	}
	if !cmd.Flags().Changed("analyzer.interval") {
		o.analyzerInterval = max(5*time.Second, (time.Duration(float64(10*time.Second) / d.speed)).Round(time.Second))
	}
	d.historyDone = make(chan struct{})
	o.analyzerGate = d.historyDone
	return nil
}

// cleanup removes what prepare made for this run only.
func (d *demoOptions) cleanup() {
	if d.listeners != nil {
		d.listeners.Close()
	}
	if d.tempDir != "" {
		os.RemoveAll(d.tempDir)
	}
}

// dialAddr is the address to reach a listen address on this host.
func dialAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// add adds the demo to the group once the store and guard exist (before
// the sign-in is announced): the local admin and the fleet's tokens, the
// banner saying where to sign in, and the fleet with its story.
func (d *demoOptions) add(ctx context.Context, group *run.Group, st store.Store, guard *auth.Guard, o *roleOptions, web net.Addr, logger *slog.Logger) error {
	tenant := store.DefaultTenant
	v := &demo.Vigil{Ingest: "http://" + dialAddr(o.collector.otlpHTTP), Web: "http://" + dialAddr(web.String()), Tenant: tenant}
	ui := "http://" + loginHost(web) + "/"
	login := "auth is off (--auth.disabled): no sign-in"
	if guard.Enabled() {
		now := time.Now()
		// Least privilege: the fleet only sends, the bill's importer
		// edits, the autopilot decides on actions.
		for _, t := range []struct {
			name string
			role auth.Role
			into *string
		}{{"demo-fleet", auth.Ingest, &v.IngestToken}, {"demo-billing", auth.Editor, &v.EditorToken}, {"demo-autopilot", auth.Operator, &v.OperatorToken}} {
			tok, _, err := auth.CreateToken(ctx, st, auth.TokenSpec{Name: t.name, Tenant: tenant, Role: t.role, Expires: now.AddDate(0, 0, 30)}, "demo", now)
			if err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			*t.into = tok
		}
		login = "sign in with your identity provider"
		if guard.LocalLogin() {
			password, err := auth.EnsureAdmin(ctx, st, now)
			if err != nil {
				return err
			}
			login = "sign in as admin with the password printed when this data directory was first used"
			if password != "" {
				// Shown once, as the local admin's password always is.
				login = "sign in as admin, password " + password
			}
		}
	}
	ends := demo.Endpoints{OTLPGRPC: dialAddr(o.collector.otlpGRPC), IngestHTTP: v.Ingest, Tenant: tenant, Token: v.IngestToken}
	// The ranker is a legacy jaeger-client-go service: over the agent's
	// UDP port when Vigil listens there (--auth.anonymous-ingest-tenant
	// naming the demo's tenant, or auth off); otherwise as Thrift over
	// HTTP with its token, since UDP carries no credential and the demo
	// does not open anonymous ingest on its own.
	if udpTenant, why := jaegerAgentTenant(guard, o.auth.anonymousIngest); why == "" && udpTenant == tenant && o.collector.jaegerAgent != "" {
		ends.JaegerAgent = dialAddr(o.collector.jaegerAgent)
	}
	mode, _ := demo.ParseMode(d.mode)
	fmt.Fprintf(os.Stdout, "\nVigil demo: open %s and %s.\nThe story (at speed %g): history loads in about a minute; at minute 2 a canary of the chat model regresses; by minute 4 Vigil proposes a rollback for you to approve on the Actions page (or `vigil actions approve ID` with an operator's token)%s.\n\n",
		ui, login, d.speed, map[demo.Mode]string{demo.Auto: ", or approves it itself after " + demo.AutoApproveAfter.String() + " of silence (--demo=auto)"}[mode])
	opts := demo.Options{Endpoints: ends, Vigil: v, Listeners: d.listeners, Secret: os.Getenv(demo.SecretEnv), Speed: d.speed, Mode: mode, UI: ui,
		Logger: logger, HistoryDone: sync1(d.historyDone)}
	dctx, cancel := context.WithCancel(context.Background())
	group.Add(func() error { return demo.Run(dctx, opts) }, func(error) { cancel() })
	return nil
}

// sync1 closes ch, once.
func sync1(ch chan struct{}) func() {
	var done bool
	return func() {
		if !done {
			done = true
			close(ch)
		}
	}
}
