package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/bench"
	"github.com/vigil-dev/vigil/store/backend"
)

func newBenchCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Measure a running Vigil under load"}
	o := bench.IngestOptions{}
	var storeURL, floorURL string
	var floorSpans int
	ingest := &cobra.Command{
		Use:   "ingest",
		Short: "Send OTLP/gRPC spans to a collector and report spans/s, its CPU per million spans, its peak RSS and bytes per span on disk",
		Long: `Sends GenAI-shaped spans (fresh ids, varied models, tokens and tiers) over
OTLP/gRPC to --target for --duration, counting only acknowledged spans. The
collector's CPU and peak memory come from its own /metrics (--metrics-url:
process_cpu_seconds_total and process_resident_memory_bytes). With
--clickhouse naming the store URL the collector writes to, it then merges the
spans tables and reports bytes per span on disk from system.parts; use a
fresh database, since every span in it is counted. With --floor-clickhouse
naming another fresh database, it first inserts --floor-spans of the same
spans straight through clickhouse-go (no Vigil code between) and reports the
driver's CPU per span, the floor the collector's CPU per span is compared
with.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			o.Progress = func(sent uint64, elapsed time.Duration) {
				fmt.Fprintf(cmd.ErrOrStderr(), "\r%8.0f spans/s  %d spans", float64(sent)/elapsed.Seconds(), sent)
			}
			var floor bench.FloorResult
			if floorURL != "" {
				var err error
				if floor, err = bench.RawInsertFloor(cmd.Context(), floorURL, floorSpans, 10000); err != nil {
					return fmt.Errorf("raw insert floor: %w", err)
				}
			}
			res, err := bench.Ingest(cmd.Context(), o)
			fmt.Fprintln(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "spans acknowledged      %d in %s (%d refused)\n", res.Spans, res.Elapsed.Round(time.Millisecond), res.Refused)
			fmt.Fprintf(out, "throughput              %.0f spans/s\n", res.SpansPerSecond())
			if o.MetricsURL != "" {
				fmt.Fprintf(out, "collector CPU           %.2f s (%.2f cores), %.2f CPU-s per million spans, %.0f spans/s per core\n",
					res.CPUSeconds, res.CollectorCores, res.CPUSecondsPerMillion(), float64(res.Spans)/res.CPUSeconds)
				fmt.Fprintf(out, "collector peak RSS      %.1f MiB\n", res.PeakRSSBytes/(1<<20))
			}
			if floorURL != "" {
				perRow := floor.CPUPerRow()
				fmt.Fprintf(out, "raw insert floor        %d spans in batches of 10000, %.2f µs driver CPU per span (%.0f spans per CPU-second)\n",
					floor.Rows, perRow.Seconds()*1e6, 1/perRow.Seconds())
				if o.MetricsURL != "" {
					fmt.Fprintf(out, "collector / floor       %.2f× the floor's CPU per span\n", res.CPUSeconds/float64(res.Spans)/perRow.Seconds())
				}
			}
			if storeURL != "" {
				// Let the last batches reach the store before measuring it.
				time.Sleep(3 * time.Second)
				u, err := bench.SpanDiskUsage(cmd.Context(), storeURL)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "on disk (ClickHouse)    %d spans, %.1f B/span in spans, %.1f B/span with the index tables (trace_index, trace_locations, span_names)\n",
					u.Spans, float64(u.SpanBytes)/float64(u.Spans), float64(u.SpanBytes+u.IndexBytes)/float64(u.Spans))
			}
			return nil
		},
	}
	f := ingest.Flags()
	f.StringVar(&o.Target, "target", "127.0.0.1:4317", "OTLP/gRPC address of the collector")
	f.StringVar(&o.MetricsURL, "metrics-url", "http://127.0.0.1:8080/metrics", "the collector's /metrics; empty skips CPU and memory")
	f.StringVar(&o.Tenant, "tenant", "", "X-Scope-OrgID to send; empty for the default tenant")
	f.DurationVar(&o.Duration, "duration", 30*time.Second, "how long to send")
	f.IntVar(&o.Concurrency, "concurrency", 8, "requests in flight")
	f.IntVar(&o.SpansPerRequest, "spans-per-request", 500, "spans in each export request")
	f.StringVar(&storeURL, "clickhouse", "", "store URL the collector writes to, to report bytes per span on disk")
	f.StringVar(&floorURL, "floor-clickhouse", "", "a fresh ClickHouse store URL to insert the same spans into straight through the driver first, for the floor of CPU per span; empty skips it")
	f.IntVar(&floorSpans, "floor-spans", 200000, "spans to insert for the floor")
	withEnvHelp(ingest)
	cmd.AddCommand(ingest, newBenchBillingCmd(g), newBenchReadsCmd())
	return cmd
}

func newBenchBillingCmd(g *globalOptions) *cobra.Command {
	var rows int
	var format string
	c := &cobra.Command{
		Use:   "billing",
		Short: "Import a generated FOCUS file (CSV or Parquet) into the store and report rows/s and peak memory",
		Long: `Generates --rows distinct FOCUS 1.0 lines (hourly GPU usage shaped like the
public sample) and streams them through the same importer as
vigil import billing into the store named by --store (or the embedded store in
--data-dir), then reports rows per second and this process's peak resident
memory (VmHWM), which stays flat however many rows: the file is streamed.
With --format parquet the same lines are first written to a Parquet file in
--data-dir (amounts DECIMAL(38,12), dates timestamps, Tags a map, 100,000
rows a row group), which is then imported and removed; only the import is
timed, and the peak RSS is the import's alone where Linux allows resetting
it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			st, err := backend.Open(ctx, g.storeURL, g.dataDir)
			cancel()
			if err != nil {
				return err
			}
			defer st.Close()
			var res bench.BillingResult
			switch format {
			case "csv":
				res, err = bench.ImportBilling(cmd.Context(), st, rows)
			case "parquet":
				res, err = bench.ImportBillingParquet(cmd.Context(), st, rows, g.dataDir)
			default:
				return fmt.Errorf("unknown --format %q: want csv or parquet", format)
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if format == "parquet" {
				fmt.Fprintf(out, "parquet file    %.1f MiB\n", float64(res.FileBytes)/(1<<20))
			}
			fmt.Fprintf(out, "rows imported   %d of %d in %s (%d rejected)\n", res.Summary.Accepted, res.Summary.Rows, res.Elapsed.Round(time.Millisecond), res.Summary.Rejected)
			fmt.Fprintf(out, "throughput      %.0f rows/s\n", float64(res.Summary.Accepted)/res.Elapsed.Seconds())
			scope := ""
			if format == "parquet" && !res.PeakIsImportOnly {
				scope = " (including writing the file)"
			}
			fmt.Fprintf(out, "peak RSS        %.1f MiB%s\n", float64(res.PeakRSSKB)/1024, scope)
			return nil
		},
	}
	c.Flags().IntVar(&rows, "rows", 1000000, "lines to generate and import")
	c.Flags().StringVar(&format, "format", "csv", "file format to generate and import: csv or parquet")
	withEnvHelp(c)
	return c
}
