package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/demo"
)

// demoTargetOptions are the flags of `vigil demo`: the fleet alone,
// against a Vigil running elsewhere (on ClickHouse, in a cluster, or a
// `vigil serve` on this machine), as its own process.
type demoTargetOptions struct {
	target      string
	ingest      string
	otlpGRPC    string
	jaegerAgent string
	tenant      string
	token       string
	ingestTok   string
	editorTok   string
	operatorTok string
	speed       float64
	mode        string
	control     string
	gateway     string
	gpu         string
	writeConfig string
}

func newDemoCmd(g *globalOptions) *cobra.Command {
	o := &demoTargetOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the demo fleet alone against a running Vigil (vigil serve --demo runs both in one process)",
		Long: `Runs the demo's simulated AI fleet and plays its story against a Vigil
that runs on its own (--target, its web port), as a separate process:
the fleet's services send their traces to Vigil's ingest ports, its
bills and history go through Vigil's API, and Vigil scrapes its metrics
and posts the rollback to its control endpoint.

That Vigil needs the demo's config directory, a scrape configuration
naming the fleet's metrics ports, and the control endpoint's secret. Write
the first two once with --write-config DIR, then start Vigil with them and
the same VIGIL_DEMO_CONTROL_SECRET in both environments:

  vigil demo --write-config demo-run
  export VIGIL_DEMO_CONTROL_SECRET=$(openssl rand -hex 32)
  vigil serve --config-dir demo-run/config --collector.scrape-config demo-run/scrape.yaml &
  vigil demo --target http://127.0.0.1:8080 --token "$ADMIN_TOKEN"

One token with the admin role does for every call; or give each role its
own (--ingest-token to send, --editor-token to import the bill,
--operator-token for --mode auto to approve). A Vigil already running
rolled up its SLOs' windows before the history arrived and recomputes
only the last ten minutes since: restart it once the fleet logs that the
week of history is in for its SLO budgets to count the week (vigil serve
--demo holds its analyzer back until then instead).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd, g) },
	}
	f := cmd.Flags()
	f.StringVar(&o.target, "target", "", "URL of the running Vigil's web port, e.g. http://127.0.0.1:8080")
	f.StringVar(&o.ingest, "ingest", "", "base URL of its ingest HTTP port (OTLP/HTTP, remote write, Jaeger Thrift); empty for the target's host on port 4318")
	f.StringVar(&o.otlpGRPC, "otlp-grpc", "", "host:port of its OTLP/gRPC port; empty for the target's host on port 4317")
	f.StringVar(&o.jaegerAgent, "jaeger-agent", "", "host:port of its Jaeger agent UDP port for the ranker (a legacy jaeger-client-go service); UDP carries no credential, so that Vigil must take anonymous ingest for --tenant; empty sends the ranker's spans as Thrift over HTTP with the ingest token")
	f.StringVar(&o.tenant, "tenant", "default", "tenant the fleet sends to and acts in")
	f.StringVar(&o.token, "token", "", "API token for every call (an admin's holds every role); prefer its environment twin, which stays out of the process list")
	f.StringVar(&o.ingestTok, "ingest-token", "", "token the fleet sends telemetry with (ingest role); empty for --token")
	f.StringVar(&o.editorTok, "editor-token", "", "token the bill is imported with (editor role); empty for --token")
	f.StringVar(&o.operatorTok, "operator-token", "", "token --mode auto approves the rollback with (operator role); empty for --token")
	f.Float64Var(&o.speed, "speed", 1, "how much faster the story's timeline runs")
	f.StringVar(&o.mode, "mode", string(demo.ByPerson), "who approves the rollback: approve (a person, in the UI or with vigil actions) or auto (the demo itself, after a while)")
	f.StringVar(&o.control, "control-address", "127.0.0.1:8091", "where the fleet's control endpoint listens (Vigil's webhook executor posts the rollback there)")
	f.StringVar(&o.gateway, "gateway-metrics-address", "127.0.0.1:9464", "where the gateway's /metrics listens for Vigil to scrape")
	f.StringVar(&o.gpu, "gpu-metrics-address", "127.0.0.1:9465", "where the GPU model server's /metrics listens for Vigil to scrape")
	f.StringVar(&o.writeConfig, "write-config", "", "write the demo's config directory (DIR/config) and the scrape configuration for these addresses (DIR/scrape.yaml) for the Vigil to load, then exit")
	withEnvHelp(cmd)
	return cmd
}

func (o *demoTargetOptions) run(cmd *cobra.Command, g *globalOptions) error {
	if o.writeConfig != "" {
		return o.writeFiles(cmd)
	}
	mode, err := demo.ParseMode(o.mode)
	if err != nil {
		return usage("--mode %s: want approve or auto", o.mode)
	}
	if o.speed <= 0 || o.speed > 100 {
		return usage("--speed %v: want a factor above 0, at most 100", o.speed)
	}
	web, host, err := targetURL(o.target)
	if err != nil {
		return usage("%v", err)
	}
	if o.ingest == "" {
		o.ingest = "http://" + net.JoinHostPort(host, "4318")
	} else if _, _, err := targetURL(o.ingest); err != nil {
		return usage("--ingest: %v", err)
	}
	if o.otlpGRPC == "" {
		o.otlpGRPC = net.JoinHostPort(host, "4317")
	}
	secret := os.Getenv(demo.SecretEnv)
	if secret == "" {
		return usage("%s is not set: the fleet's control endpoint checks Vigil's signed rollback with it; give both processes the same value", demo.SecretEnv)
	}
	orToken := func(s string) string {
		if s == "" {
			return o.token
		}
		return s
	}
	logger, err := g.logger()
	if err != nil {
		return err
	}
	logger = logger.With("component", "demo")
	v := &demo.Vigil{Ingest: strings.TrimSuffix(o.ingest, "/"), Web: web, Tenant: o.tenant,
		IngestToken: orToken(o.ingestTok), EditorToken: orToken(o.editorTok), OperatorToken: orToken(o.operatorTok)}
	if mode == demo.Auto && v.OperatorToken == "" {
		logger.Warn("--mode auto without an operator's token: approving works only if that Vigil runs with --auth.disabled")
	}
	ls, err := demo.ListenOn(o.control, o.gateway, o.gpu)
	if err != nil {
		return err
	}
	defer ls.Close()
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(os.Stdout, "Vigil demo fleet: sending to %s (web %s), tenant %s, at speed %g; open %s/actions to approve the rollback when it is proposed.\n",
		o.ingest, web, o.tenant, o.speed, web)
	err = demo.Run(ctx, demo.Options{
		Endpoints: demo.Endpoints{OTLPGRPC: o.otlpGRPC, IngestHTTP: v.Ingest, JaegerAgent: o.jaegerAgent, Tenant: o.tenant, Token: v.IngestToken},
		Vigil:     v, Listeners: ls, Secret: secret, Speed: o.speed, Mode: mode, UI: web + "/actions", Logger: logger,
	})
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil
	}
	return err
}

// writeFiles writes what the Vigil the fleet runs against loads: the
// config directory, its policies posting to this fleet's control
// endpoint, and the scrape configuration of its metrics ports.
func (o *demoTargetOptions) writeFiles(cmd *cobra.Command) error {
	for _, name := range []string{"target", "ingest", "otlp-grpc", "jaeger-agent", "token", "ingest-token", "editor-token", "operator-token", "speed", "mode"} {
		if cmd.Flags().Changed(name) {
			return usage("--write-config writes files and exits: --%s goes with running the fleet", name)
		}
	}
	configDir := filepath.Join(o.writeConfig, "config")
	if err := demo.WriteConfig(configDir, "http://"+dialAddr(o.control)); err != nil {
		return err
	}
	scrape := filepath.Join(o.writeConfig, "scrape.yaml")
	if err := os.WriteFile(scrape, []byte(demo.ScrapeConfig(dialAddr(o.gateway), dialAddr(o.gpu), o.tenant)), 0o644); err != nil {
		return fmt.Errorf("cannot write the scrape configuration: %w", err)
	}
	fmt.Fprintf(os.Stdout, "Wrote %s and %s. Start Vigil with them, and %s set to the same value for it and the fleet:\n  vigil serve --config-dir %s --collector.scrape-config %s\n",
		configDir, scrape, demo.SecretEnv, configDir, scrape)
	return nil
}

// targetURL checks a Vigil URL and returns it without a trailing slash,
// and its host.
func targetURL(raw string) (string, string, error) {
	if raw == "" {
		return "", "", errors.New("--target is missing: the URL of the running Vigil's web port, e.g. http://127.0.0.1:8080")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", fmt.Errorf("%q is not an http(s) URL of a Vigil, e.g. http://127.0.0.1:8080", raw)
	}
	if u.User != nil {
		return "", "", fmt.Errorf("%q carries credentials: give a token with --token instead", u.Redacted())
	}
	return strings.TrimSuffix(u.String(), "/"), u.Hostname(), nil
}
