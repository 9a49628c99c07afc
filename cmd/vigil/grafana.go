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
}

func (o *grafanaOptions) register(f *pflag.FlagSet) {
	f.StringVar(&o.url, "grafana.url", "", "Grafana to keep in step: when a reload of the config directory changes an SLO, its dashboard is pushed there (as `vigil dashboards push` would, through the dispatcher: retried, in the delivery log); empty pushes none")
	f.StringVar(&o.tokenFile, "grafana.token-file", "", "file holding a Grafana service account's token (Editor) for --grafana.url")
	f.StringArrayVar(&o.teams, "grafana.team", nil, "a team and the services it owns, team=service,service (repeat per team), so SLO dashboards go to the folders `vigil dashboards push --team` puts them in")
	f.DurationVar(&o.timeout, "grafana.timeout", 30*time.Second, "time limit of each request to Grafana")
}

// pusher is the dispatcher's Grafana subscriber, nil when no Grafana is
// configured; the token is read here, once, and never logged.
func (o *grafanaOptions) pusher(current func() []*slo.SLO) (*dashboards.Pusher, error) {
	if o.url == "" {
		if o.tokenFile != "" {
			return nil, usage("--grafana.token-file: give --grafana.url as well")
		}
		return nil, nil
	}
	if o.tokenFile == "" {
		return nil, usage("--grafana.url: give a service account's token with --grafana.token-file")
	}
	token, err := secretFrom("grafana.token", "", o.tokenFile)
	if err != nil {
		return nil, usage("%w", err)
	}
	teams, err := parseTeams("--grafana.team", o.teams)
	if err != nil {
		return nil, err
	}
	api, err := dashboards.NewHTTPAPI(o.url, token, &http.Client{Timeout: o.timeout})
	if err != nil {
		return nil, usage("--grafana.url: %w", err)
	}
	return &dashboards.Pusher{Grafana: api, Target: redactedURL(o.url), Current: current, Teams: teams}, nil
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
