package main

import (
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/bench"
)

func newBenchReadsCmd() *cobra.Command {
	o := bench.ReadsOptions{}
	c := &cobra.Command{
		Use:   "reads",
		Short: "Fill a ClickHouse store with a day of spans and 30 days of bills, then time the Jaeger, API and UI reads",
		Long: `Generates --spans spans (traces of five over 10,000 services, a day of
timestamps, GenAI model calls with tokens and cost) inside ClickHouse with
INSERT ... SELECT FROM numbers(), which feeds the tables' materialized views
as Vigil's own inserts do, and writes --cost-lines bill lines through the
store's write path. Then it runs each read --reps times through the store's
functions (trace by id, Jaeger search over 1 h and 24 h, services and
operations, the UI's services page, cost by model over 30 days) and prints
the median and 99th percentile. Name a new database in --clickhouse; with
--reuse it measures a database an earlier run filled. The database is kept:
drop it when done.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.StoreURL == "" {
				return fmt.Errorf("--clickhouse is required: the URL of a new database, clickhouse://host:9000/db")
			}
			o.Progress = func(what string, done, total int) {
				fmt.Fprintf(cmd.ErrOrStderr(), "\r%s: %d of %d", what, done, total)
				if done == total {
					fmt.Fprintln(cmd.ErrOrStderr())
				}
			}
			st, f, err := bench.FillReads(cmd.Context(), o)
			if err != nil {
				return err
			}
			defer st.Close()
			out := cmd.OutOrStdout()
			if f.Reused {
				fmt.Fprintf(out, "reused the filled database; spans end at %s\n", f.End.Format(time.RFC3339))
			} else {
				fmt.Fprintf(out, "filled %d spans (%d traces) in %s, %d cost lines in %s; spans end at %s\n",
					o.Spans, f.Traces, f.SpanTime.Round(time.Second), o.CostLines, f.CostTime.Round(time.Second), f.End.Format(time.RFC3339))
			}
			for _, t := range f.Tables {
				fmt.Fprintf(out, "  %-16s %12d rows %10.1f MiB\n", t.Table, t.Rows, float64(t.Bytes)/(1<<20))
			}
			fmt.Fprintf(out, "  on disk in all   %.2f GiB (system.parts, active parts)\n", float64(f.TotalBytes)/(1<<30))
			fmt.Fprintf(out, "load before reads: %s\n", uptime())
			timings := bench.MeasureReads(cmd.Context(), st, f, o)
			fmt.Fprintf(out, "\n| read | reps | median | p99 | rows | goal |\n|---|---:|---:|---:|---:|---|\n")
			var failed []string
			for _, t := range timings {
				if t.Err != nil {
					failed = append(failed, t.Name+": "+t.Err.Error())
				}
				fmt.Fprintf(out, "| %s | %d | %s | %s | %d | %s |\n", t.Name, len(t.Times), ms(t.Median()), ms(t.P99()), t.Rows, t.Goal)
			}
			fmt.Fprintf(out, "load after reads: %s\n", uptime())
			if len(failed) > 0 {
				return fmt.Errorf("reads failed:\n%s", strings.Join(failed, "\n"))
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&o.StoreURL, "clickhouse", "", "ClickHouse store URL of the database to fill (or --reuse)")
	f.IntVar(&o.Spans, "spans", 100000000, "spans to generate, a multiple of 5")
	f.IntVar(&o.CostLines, "cost-lines", 1000000, "bill lines to write")
	f.IntVar(&o.Reps, "reps", 50, "times each read runs")
	f.BoolVar(&o.Reuse, "reuse", false, "measure a database an earlier run filled with the same --spans")
	withEnvHelp(c)
	return c
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// uptime is the machine's load average, which every number printed
// depends on: the server runs on the same cores.
func uptime() string {
	b, err := exec.Command("uptime").Output()
	if err != nil {
		return "(uptime: " + err.Error() + ")"
	}
	return strings.TrimSpace(string(b))
}
