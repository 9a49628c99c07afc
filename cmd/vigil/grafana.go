package main

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/pflag"

	"github.com/vigil-dev/vigil/dashboards"
	"github.com/vigil-dev/vigil/slo"
)

// grafanaOptions are the analyzer's flags for keeping a Grafana's SLO
// dashboards in step with the config directory.
type grafanaOptions struct {
	url       string
	tokenFile string
	teams     []string
	timeout   time.Duration

	// Set by check.
	api     *dashboards.HTTPAPI
	teamMap map[string][]string
}

func (o *grafanaOptions) register(f *pflag.FlagSet) {
	f.StringVar(&o.url, "grafana.url", "", "Grafana to keep in step: when a reload of the config directory changes an SLO, its dashboard is pushed there (as `vigil dashboards push` would, through the dispatcher: retried, in the delivery log); empty pushes none")
	f.StringVar(&o.tokenFile, "grafana.token-file", "", "file holding a Grafana service account's token (Editor) for --grafana.url")
	f.StringArrayVar(&o.teams, "grafana.team", nil, "a team and the services it owns, team=service,service (repeat per team), so SLO dashboards go to the folders `vigil dashboards push --team` puts them in")
	f.DurationVar(&o.timeout, "grafana.timeout", 30*time.Second, "time limit of each request to Grafana")
}

// check reads the token and the teams, before anything starts, so a
// mistake stops start-up at once; the token is never logged.
func (o *grafanaOptions) check() error {
	if o.url == "" {
		if o.tokenFile != "" || len(o.teams) > 0 {
			return usage("--grafana.token-file and --grafana.team need --grafana.url")
		}
		return nil
	}
	if o.tokenFile == "" {
		return usage("--grafana.url: give a service account's token with --grafana.token-file")
	}
	token, err := secretFrom("grafana.token", "", o.tokenFile)
	if err != nil {
		return usage("%w", err)
	}
	teams, err := parseTeams("--grafana.team", o.teams)
	if err != nil {
		return err
	}
	// A service in two teams would fail every generation: refuse it now.
	if _, err := dashboards.Generate(dashboards.Inventory{Teams: teams}); err != nil {
		return usage("--grafana.team: %w", err)
	}
	o.api, err = dashboards.NewHTTPAPI(o.url, token, &http.Client{Timeout: o.timeout})
	if err != nil {
		return usage("--grafana.url: %w", err)
	}
	o.teamMap = teams
	return nil
}

// pusher is the dispatcher's Grafana subscriber, nil when no Grafana is
// configured (check has run).
func (o *grafanaOptions) pusher(current func() []*slo.SLO) *dashboards.Pusher {
	if o.api == nil {
		return nil
	}
	return &dashboards.Pusher{Grafana: o.api, Target: redactedURL(o.url), Current: current, Teams: o.teamMap}
}

// redactedURL is a URL without user info, query or fragment, for the
// delivery log.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "grafana"
	}
	return fmt.Sprintf("%s://%s%s", u.Scheme, u.Host, u.Path)
}
