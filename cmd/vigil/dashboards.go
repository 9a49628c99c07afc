package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/dashboards"
)

// inventoryFlags say what the dashboards are generated from: the SLOs of
// the config directory (or the paths given), and services, models and
// teams named on the command line.
type inventoryFlags struct {
	services, models, teams []string
}

func (o *inventoryFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringSliceVar(&o.services, "service", nil, "a service to give a dashboard (repeat or comma-separate); the SLOs' services always get one")
	f.StringSliceVar(&o.models, "model", nil, "a model to give a dashboard (repeat or comma-separate)")
	f.StringArrayVar(&o.teams, "team", nil, "a team's folder and the services it owns: team=service,service (repeat per team)")
}

// inventory reads the SLOs and budgets of the config directory and the
// flags into what Generate takes.
func (o *inventoryFlags) inventory(cmd *cobra.Command, g *globalOptions, args []string) (dashboards.Inventory, error) {
	paths := args
	if len(paths) == 0 {
		paths = []string{g.configDir}
	}
	sections, cfg, err := readConfig(cmd, paths)
	if err != nil {
		return dashboards.Inventory{}, err
	}
	inv := dashboards.Inventory{SLOs: sections.slos.Of(cfg), Services: o.services, Models: o.models, Teams: map[string][]string{}}
	if costs := sections.cost.Of(cfg); costs != nil {
		for _, b := range costs.Budgets {
			inv.Budgets = append(inv.Budgets, b.Name)
		}
	}
	if inv.Teams, err = parseTeams("--team", o.teams); err != nil {
		return inv, err
	}
	return inv, nil
}

// parseTeams reads team=service,service flags into teams and their
// services.
func parseTeams(flag string, values []string) (map[string][]string, error) {
	teams := map[string][]string{}
	for _, t := range values {
		team, services, ok := strings.Cut(t, "=")
		if !ok || team == "" || services == "" {
			return nil, usage("%s %q: want team=service,service", flag, t)
		}
		teams[team] = append(teams[team], strings.Split(services, ",")...)
	}
	return teams, nil
}

func newDashboardsCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dashboards",
		Short: "Generate Grafana dashboards from the SLOs, services, models and costs Vigil knows; push them to Grafana",
	}
	cmd.AddCommand(newDashboardsGenerateCmd(g), newDashboardsCheckCmd(g), newDashboardsPushCmd(g))
	withEnvHelp(cmd)
	return cmd
}

func newDashboardsGenerateCmd(g *globalOptions) *cobra.Command {
	var inv inventoryFlags
	var out, format, vigilURL, grafanaPath, tokenEnv, namespace, secret, secretKey string
	var instance []string
	cmd := &cobra.Command{
		Use:   "generate --out DIR [paths...]",
		Short: "Write the dashboards and Grafana's provisioning files (or grafana-operator resources) to a directory",
		Long: `Generates a dashboard per SLO (of the config directory, or the paths
given), per service and per model, the cost dashboard and Vigil's own, and
writes them with what Grafana needs to load them:

  --format files (default): DIR/dashboards/<folder>/<uid>.json, and
    DIR/provisioning/dashboards/vigil.yaml (one provider per folder, UI
    edits refused) and DIR/provisioning/datasources/vigil.yaml (the
    vigil-prometheus and vigil-jaeger data sources at --vigil-url, with the
    token Grafana reads from its environment variable --token-env). Copy
    DIR/dashboards to --grafana-path and DIR/provisioning into Grafana's
    provisioning directory, or mount them from a ConfigMap.
  --format operator: DIR/grafana-operator.yaml, GrafanaFolder,
    GrafanaDatasource and GrafanaDashboard resources for grafana-operator.

The same inputs give the same bytes. SLOs whose SLI PromQL cannot read
(span attributes, drift verdicts) are listed on stderr and skipped.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usage("--out: name the directory to write to")
			}
			i, err := inv.inventory(cmd, g, args)
			if err != nil {
				return err
			}
			set, err := dashboards.Generate(i)
			if err != nil {
				return err
			}
			var files map[string][]byte
			switch format {
			case "files":
				files, err = dashboards.ProvisioningFiles(set, dashboards.ProvisionOptions{VigilURL: vigilURL, Path: grafanaPath, TokenEnv: tokenEnv})
			case "operator":
				labels := map[string]string{}
				for _, kv := range instance {
					k, v, ok := strings.Cut(kv, "=")
					if !ok || k == "" {
						return usage("--operator.instance %q: want label=value", kv)
					}
					labels[k] = v
				}
				files, err = dashboards.OperatorFiles(set, dashboards.OperatorOptions{VigilURL: vigilURL, Namespace: namespace, Instance: labels, Secret: secret, SecretKey: secretKey})
			default:
				return usage("--format: want files or operator, got %q", format)
			}
			if err != nil {
				return usage("%v", err)
			}
			for _, s := range set.Skipped {
				fmt.Fprintln(cmd.ErrOrStderr(), "skipped SLO "+s)
			}
			names := make([]string, 0, len(files))
			for name := range files {
				names = append(names, name)
			}
			slices.Sort(names)
			for _, name := range names {
				path := filepath.Join(out, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					return &exitError{code: 2, err: err}
				}
				if err := os.WriteFile(path, files[name], 0o644); err != nil {
					return &exitError{code: 2, err: err}
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d dashboards in %d folders to %s\n", len(set.Dashboards), len(set.Folders), out)
			return nil
		},
	}
	inv.register(cmd)
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "directory to write to")
	f.StringVar(&format, "format", "files", "files (Grafana's file provisioning) or operator (grafana-operator resources)")
	f.StringVar(&vigilURL, "vigil-url", "http://vigil:8080", "Vigil's web address as Grafana reaches it")
	f.StringVar(&grafanaPath, "grafana-path", "/var/lib/grafana/dashboards/vigil", "where Grafana reads the dashboard folders from")
	f.StringVar(&tokenEnv, "token-env", "VIGIL_VIEWER_TOKEN", "Grafana's environment variable holding a Vigil viewer token, for the data sources")
	f.StringVar(&namespace, "operator.namespace", "", "namespace of the grafana-operator resources")
	f.StringArrayVar(&instance, "operator.instance", []string{"dashboards=grafana"}, "label=value the resources' instanceSelector matches")
	f.StringVar(&secret, "operator.secret", "vigil-grafana", "Secret holding the data sources' Authorization header value (Bearer <viewer token>)")
	f.StringVar(&secretKey, "operator.secret-key", "authorization", "key of that Secret")
	return cmd
}

func newDashboardsPushCmd(g *globalOptions) *cobra.Command {
	var inv inventoryFlags
	var grafanaURL, tokenFile, viewerTokenFile, vigilURL string
	var dryRun, force bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "push --grafana-url URL [paths...]",
		Short: "Create or update the dashboards, their folders and Vigil's two data sources in a Grafana, through its HTTP API",
		Long: `Generates the dashboards as generate does and makes a Grafana hold them,
with their folders and the vigil-prometheus and vigil-jaeger data sources at
--vigil-url. Each is read by uid first: created when missing, updated when
it differs, left alone (no new version) when it is the same.

The Grafana token is a service account's (Editor for folders and
dashboards, Admin for the data sources), read from --grafana-token-file or
else the environment variable GRAFANA_TOKEN; it is never printed. The data
sources send Vigil a viewer's token read from --viewer-token-file; Grafana
never shows a secret back, so it is written when a data source is created,
when Grafana holds none, or with --force.

A dashboard is saved with the version last read: if someone saved it in
Grafana in between, Grafana refuses (412) and push says so; re-run, or use
--force to overwrite. A dashboard Grafana provisions from files is reported
and left alone. --dry-run reads and prints what would change.

Exit codes: 0 Grafana holds everything; 1 Grafana refused some objects
(listed); 2 a usage error, a refused token, or Grafana could not be reached.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if grafanaURL == "" {
				return usage("--grafana-url: name the Grafana to push to")
			}
			// The file wins over the environment, as a flag wins over
			// its environment twin.
			token := strings.TrimSpace(os.Getenv("GRAFANA_TOKEN"))
			if tokenFile != "" {
				t, err := secretFrom("grafana-token", "", tokenFile)
				if err != nil {
					return usage("%w", err)
				}
				token = t
			}
			if token == "" {
				return usage("no Grafana token: give a service account's token with --grafana-token-file or GRAFANA_TOKEN")
			}
			api, err := dashboards.NewHTTPAPI(grafanaURL, token, &http.Client{Timeout: timeout})
			if err != nil {
				return usage("--grafana-url: %w", err)
			}
			o := dashboards.PushOptions{DryRun: dryRun, Force: force}
			if o.DataSources, err = dashboards.DataSources(vigilURL); err != nil {
				return usage("--vigil-url: %w", err)
			}
			if viewerTokenFile != "" {
				viewer, err := secretFrom("viewer-token", "", viewerTokenFile)
				if err != nil {
					return usage("%w", err)
				}
				o.Secure = map[string]string{"httpHeaderValue1": "Bearer " + viewer}
			} else {
				// Not an error: Grafana may already hold the token, and a
				// push of dashboards alone needs none.
				fmt.Fprintln(cmd.ErrOrStderr(), "no --viewer-token-file: the data sources keep the token Grafana holds; new ones get none and cannot read Vigil until one is set")
			}
			i, err := inv.inventory(cmd, g, args)
			if err != nil {
				return err
			}
			set, err := dashboards.Generate(i)
			if err != nil {
				return err
			}
			for _, s := range set.Skipped {
				fmt.Fprintln(cmd.ErrOrStderr(), "skipped SLO "+s)
			}
			changes, pushErr := dashboards.Push(cmd.Context(), api, set, o)
			if len(changes) > 0 || pushErr == nil {
				printChanges(cmd, changes, dryRun)
			}
			if pushErr == nil {
				return nil
			}
			// Refusals are listed above, one per object; anything else
			// (a refused token, an unreachable Grafana) ended the push.
			if errors.Is(pushErr, dashboards.ErrRefused) {
				return &exitError{code: 1, err: pushErr}
			}
			return &exitError{code: 2, err: pushErr}
		},
	}
	inv.register(cmd)
	f := cmd.Flags()
	f.StringVar(&grafanaURL, "grafana-url", "", "Grafana's address, e.g. https://grafana.example.com (a sub-path is kept)")
	f.StringVar(&tokenFile, "grafana-token-file", "", "file holding a Grafana service account's token; without it, the environment variable GRAFANA_TOKEN")
	f.StringVar(&viewerTokenFile, "viewer-token-file", "", "file holding a Vigil viewer's token for the data sources' Authorization header")
	f.StringVar(&vigilURL, "vigil-url", "http://vigil:8080", "Vigil's web address as Grafana reaches it")
	f.BoolVar(&dryRun, "dry-run", false, "read Grafana and print what would change, writing nothing")
	f.BoolVar(&force, "force", false, "overwrite what was changed in Grafana since it was read, and rewrite the data sources' token")
	f.DurationVar(&timeout, "timeout", 30*time.Second, "time limit of each request to Grafana")
	return cmd
}

// printChanges lists what the push did, or would do, one object a line.
func printChanges(cmd *cobra.Command, changes []dashboards.Change, dryRun bool) {
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tUID\tTITLE\tACTION")
	count := map[dashboards.Action]int{}
	for _, c := range changes {
		count[c.Action]++
		action := string(c.Action)
		if dryRun && (c.Action == dashboards.Create || c.Action == dashboards.Update) {
			action = "would " + action
		}
		if c.Err != nil {
			action += ": " + c.Err.Error()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Kind, c.UID, c.Title, action)
	}
	tw.Flush()
	verb := "pushed"
	if dryRun {
		verb = "dry run"
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %d created, %d updated, %d unchanged, %d refused\n", verb,
		count[dashboards.Create], count[dashboards.Update], count[dashboards.Unchanged], count[dashboards.Refused])
}
