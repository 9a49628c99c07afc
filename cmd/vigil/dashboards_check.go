package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/dashboards"
	"github.com/vigil-dev/vigil/web/client"
)

func newDashboardsCheckCmd(g *globalOptions) *cobra.Command {
	var inv inventoryFlags
	var server, token, tenant string
	var over, scrape time.Duration
	cmd := &cobra.Command{
		Use:   "check [paths...]",
		Short: "Run every query of the generated dashboards against a running Vigil and report the panels that would be empty",
		Long: `Generates the dashboards as generate does, then asks a running Vigil
(--server, as the token's tenant) every query Grafana would over the last
--range: each variable's values, then every PromQL target with Grafana's
variables and macros ($__rate_interval, $__interval, $__range) substituted
as Grafana substitutes them, and every Jaeger search. A query with no result,
or whose series lack a label its legend shows, is reported.

Exit codes: 0 every panel has data; 1 some would be empty; 2 a usage error
or the server could not be asked.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			i, err := inv.inventory(cmd, g, args)
			if err != nil {
				return err
			}
			set, err := dashboards.Generate(i)
			if err != nil {
				return err
			}
			c, err := client.New(server, client.Options{Token: token, Tenant: tenant})
			if err != nil {
				return usage("--server: %w", err)
			}
			api := vigilQueries{c: c}
			now := time.Now()
			w := dashboards.Window{From: now.Add(-over), To: now, MaxDataPoints: 1000, ScrapeInterval: scrape}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DASHBOARD\tQUERY\tFOUND\tPROBLEM")
			bad := 0
			for _, d := range set.Dashboards {
				probes, err := dashboards.ProbeDashboard(cmd.Context(), d.JSON, api, w)
				if err != nil {
					return err
				}
				for _, p := range probes {
					problem := "-"
					if p.Problem != "" {
						problem, bad = p.Problem+" ["+p.Query+"]", bad+1
					}
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", p.Dashboard, p.Where, p.Series, problem)
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if bad > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d queries would show no data or lack labels", bad)}
			}
			return nil
		},
	}
	inv.register(cmd)
	f := cmd.Flags()
	f.StringVar(&server, "server", "http://127.0.0.1:8080", "URL of a running vigil web role")
	f.StringVar(&token, "token", "", "API token (a viewer's) to send; prefer its environment twin, which stays out of the process list")
	f.StringVar(&tenant, "tenant", "", "tenant to read; empty for the token's own")
	f.DurationVar(&over, "range", time.Hour, "the time range to query, ending now")
	f.DurationVar(&scrape, "scrape-interval", 15*time.Second, "the Prometheus data source's scrape interval (timeInterval), from which $__rate_interval follows")
	return cmd
}

// vigilQueries asks Vigil's Prometheus and Jaeger APIs what Grafana's
// data sources would.
type vigilQueries struct{ c *client.Client }

func unixSeconds(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

func (v vigilQueries) LabelValues(ctx context.Context, label, selector string, w dashboards.Window) ([]string, error) {
	var r struct{ Data []string }
	q := url.Values{"match[]": {selector}, "start": {unixSeconds(w.From)}, "end": {unixSeconds(w.To)}}
	err := v.c.Get(ctx, "/prometheus/api/v1/label/"+url.PathEscape(label)+"/values", q, &r)
	return r.Data, err
}

type promSeries struct {
	Data struct {
		Result []struct{ Metric map[string]string }
	}
}

func (s promSeries) labels() []map[string]string {
	out := make([]map[string]string, len(s.Data.Result))
	for i, r := range s.Data.Result {
		out[i] = r.Metric
	}
	return out
}

func (v vigilQueries) Query(ctx context.Context, expr string, w dashboards.Window) ([]map[string]string, error) {
	var r promSeries
	err := v.c.Get(ctx, "/prometheus/api/v1/query", url.Values{"query": {expr}, "time": {unixSeconds(w.To)}}, &r)
	return r.labels(), err
}

// QueryRange aligns the range to the step, as Grafana does.
func (v vigilQueries) QueryRange(ctx context.Context, expr string, w dashboards.Window) ([]map[string]string, error) {
	step := w.Step()
	start, end := w.From.Truncate(step), w.To.Truncate(step).Add(step)
	var r promSeries
	err := v.c.Get(ctx, "/prometheus/api/v1/query_range", url.Values{"query": {expr}, "start": {unixSeconds(start)}, "end": {unixSeconds(end)},
		"step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}}, &r)
	return r.labels(), err
}

// FindTraces sends a search as Grafana's Jaeger data source does: the
// logfmt tags as a JSON object, the range in microseconds.
func (v vigilQueries) FindTraces(ctx context.Context, q dashboards.JaegerQuery, w dashboards.Window) (int, error) {
	p := url.Values{"service": {q.Service}, "start": {strconv.FormatInt(w.From.UnixMicro(), 10)}, "end": {strconv.FormatInt(w.To.UnixMicro(), 10)}}
	for k, val := range map[string]string{"operation": q.Operation, "minDuration": q.MinDuration, "maxDuration": q.MaxDuration} {
		if val != "" {
			p.Set(k, val)
		}
	}
	if q.Limit > 0 {
		p.Set("limit", strconv.FormatInt(q.Limit, 10))
	}
	if q.Tags != "" {
		tags, err := dashboards.ParseLogfmt(q.Tags)
		if err != nil {
			return 0, err
		}
		js, _ := json.Marshal(tags)
		p.Set("tags", string(js))
	}
	var r struct{ Data []json.RawMessage }
	err := v.c.Get(ctx, "/api/traces", p, &r)
	return len(r.Data), err
}
