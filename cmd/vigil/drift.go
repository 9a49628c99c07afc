package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/analyzer/drift"
)

// Exit codes of vigil drift compare, as diff(1) uses them so CI can gate on
// drift: 0 no dataset drift, 1 dataset drift, 2 trouble (usage, unreadable
// or malformed files), 3 no column had enough data to judge.
const (
	driftExitDrift     = 1
	driftExitError     = 2
	driftExitNotEnough = 3
)

func newDriftCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "drift", Short: "Detect data and model drift"}
	cmd.AddCommand(newDriftCompareCmd())
	return cmd
}

// driftCompareOptions are vigil drift compare's flags.
type driftCompareOptions struct {
	reference, current string
	columns            []string
	method             string
	threshold          float64
	bins               int
	minSamples         int
	driftShare         float64
	output             string
}

func newDriftCompareCmd() *cobra.Command {
	o := &driftCompareOptions{}
	cmd := &cobra.Command{
		Use:   "compare --reference a.csv --current b.csv",
		Short: "Compare two CSV samples column by column; exit 1 on dataset drift",
		Long: `Compares each column the two CSV files share (header row required) and
judges the dataset. A column is numeric when every non-empty value parses as
a number; empty, NA, N/A, NaN, null and None are missing, dropped and counted.

--method auto follows Evidently's defaults: with a reference of at most 1000
values, the two-sample Kolmogorov–Smirnov test for numeric columns with more
than 5 distinct values (drift when p ≤ 0.05), else chi-square (Z-test for two
values; drift when p < 0.05); with a larger reference, Wasserstein distance
divided by the reference's standard deviation, or Jensen–Shannon distance
(drift when ≥ 0.1). The others: ks, chisquare, ztest (p-values), psi,
jensenshannon, wasserstein, hellinger, linf (distances). --threshold replaces
the method's default; --bins sets the numeric bins of the binned measures
(default: one per value when the reference has at most 20, else Sturges).
A column with fewer than --min-samples values on either side is reported as
not enough data and does not count towards the verdict. The dataset drifts
when the share of drifted columns among those tested reaches --drift-share.

Exit status: 0 no dataset drift, 1 dataset drift, 2 error (bad flags,
unreadable or malformed CSV, a --columns name missing from a file), 3 no
column had enough data to judge.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &exitError{code: driftExitError, err: fmt.Errorf("unexpected argument %q: files are given with --reference and --current", args[0])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDriftCompare(cmd.OutOrStdout(), o)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: driftExitError, err: err}
	})
	f := cmd.Flags()
	f.StringVar(&o.reference, "reference", "", "reference CSV file (the baseline: training data or a past window)")
	f.StringVar(&o.current, "current", "", "current CSV file (the window to judge)")
	f.StringSliceVar(&o.columns, "columns", nil, "compare only these columns (comma-separated); default: every column in both files")
	f.StringVar(&o.method, "method", "auto", "auto, ks, chisquare, ztest, psi, jensenshannon, wasserstein, hellinger or linf")
	f.Float64Var(&o.threshold, "threshold", 0, "drift threshold: a p-value for ks/chisquare/ztest, a distance otherwise; 0 for the method's default")
	f.IntVar(&o.bins, "bins", 0, "numeric bins for psi, jensenshannon, hellinger, linf, chisquare and ztest; 0 for per-value or Sturges bins")
	f.IntVar(&o.minSamples, "min-samples", drift.DefaultMinSamples, "fewest non-missing values each side needs for a column verdict")
	f.Float64Var(&o.driftShare, "drift-share", drift.DefaultDriftShare, "share of tested columns that must drift for the dataset to drift")
	f.StringVar(&o.output, "output", "table", "table or json")
	withEnvHelp(cmd)
	return cmd
}

// driftCompareResult is the JSON output: the report and what was compared.
type driftCompareResult struct {
	ReferenceFile string `json:"reference_file"`
	CurrentFile   string `json:"current_file"`
	drift.Report
}

func runDriftCompare(out io.Writer, o *driftCompareOptions) error {
	usage := func(format string, a ...any) error {
		return &exitError{code: driftExitError, err: fmt.Errorf(format, a...)}
	}
	if o.reference == "" || o.current == "" {
		return usage("drift compare needs --reference and --current")
	}
	method, err := drift.ParseMethod(o.method)
	if err != nil {
		return usage("--method: %w", err)
	}
	if o.output != "table" && o.output != "json" {
		return usage("--output: want table or json, got %q", o.output)
	}
	switch {
	case o.threshold < 0 || math.IsNaN(o.threshold):
		return usage("--threshold: want a positive number, got %v", o.threshold)
	case o.bins < 0:
		return usage("--bins: want a positive count, got %d", o.bins)
	case o.minSamples < 1:
		return usage("--min-samples: want at least 1, got %d", o.minSamples)
	case !(o.driftShare > 0 && o.driftShare <= 1):
		return usage("--drift-share: want a share in (0, 1], got %v", o.driftShare)
	}
	// The columns are large pointer-free slices that cost the collector
	// almost nothing to mark, while parsing churns a string per line: with
	// the default GOGC=100 the heap would grow to twice the columns before
	// a collection. A low target keeps the peak near the data itself.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(20)
	}
	// The two files are independent: parse them at the same time.
	var ref, cur []*drift.Column
	var refErr, curErr error
	var wg sync.WaitGroup
	wg.Go(func() { ref, refErr = readDriftCSV(o.reference, o.columns) })
	cur, curErr = readDriftCSV(o.current, o.columns)
	wg.Wait()
	if err := errors.Join(refErr, curErr); err != nil {
		return &exitError{code: driftExitError, err: err}
	}
	rep := drift.Compare(ref, cur, drift.Options{Method: method, Threshold: o.threshold,
		Bins: o.bins, MinSamples: o.minSamples, DriftShare: o.driftShare})
	if o.output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(driftCompareResult{ReferenceFile: o.reference, CurrentFile: o.current, Report: rep}); err != nil {
			return &exitError{code: driftExitError, err: err}
		}
	} else if err := writeDriftTable(out, rep); err != nil {
		return &exitError{code: driftExitError, err: err}
	}
	switch {
	case rep.Status == drift.StatusNotEnoughData:
		return &exitError{code: driftExitNotEnough, err: errors.New("no column had enough data to judge drift")}
	case rep.DatasetDrift:
		return &exitError{code: driftExitDrift, err: fmt.Errorf("dataset drift: %d of %d tested columns drifted", rep.Drifted, rep.Tested)}
	}
	return nil
}

func readDriftCSV(name string, columns []string) ([]*drift.Column, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return drift.ReadCSV(name, f, columns)
}

func writeDriftTable(out io.Writer, rep drift.Report) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLUMN\tTYPE\tMETHOD\tSTATISTIC\tP-VALUE\tTHRESHOLD\tDRIFT\tREF VALUES (MISSING)\tCUR VALUES (MISSING)")
	for _, c := range rep.Columns {
		stat, p, threshold, verdict := "-", "-", "-", string(c.Status)
		if c.Status == drift.StatusTested {
			stat = formatStat(float64(c.Statistic))
			threshold = formatStat(c.Threshold)
			verdict = "no"
			if c.Drifted {
				verdict = "DRIFT"
			}
		}
		if c.PValue != nil {
			p = formatStat(float64(*c.PValue))
		}
		method := string(c.Method)
		if method == "" {
			method = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d (%d)\t%d (%d)\n", c.Column, c.Kind, method, stat, p,
			threshold, verdict, c.Reference.Values, c.Reference.Missing, c.Current.Values, c.Current.Missing)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range rep.Columns {
		if c.Reason != "" {
			fmt.Fprintf(out, "%s: %s\n", c.Column, c.Reason)
		}
	}
	if len(rep.OnlyInReference) > 0 {
		fmt.Fprintf(out, "only in the reference, not compared: %s\n", strings.Join(rep.OnlyInReference, ", "))
	}
	if len(rep.OnlyInCurrent) > 0 {
		fmt.Fprintf(out, "only in the current file, not compared: %s\n", strings.Join(rep.OnlyInCurrent, ", "))
	}
	switch rep.Status {
	case drift.StatusNotEnoughData:
		_, err := fmt.Fprintln(out, "dataset drift: unknown (no column had enough data)")
		return err
	}
	verdict := "no"
	if rep.DatasetDrift {
		verdict = "YES"
	}
	_, err := fmt.Fprintf(out, "dataset drift: %s (%d of %d tested columns drifted, share %.2f, threshold %.2f)\n",
		verdict, rep.Drifted, rep.Tested, rep.Share, rep.DriftShare)
	return err
}

// formatStat prints a statistic with six significant digits, +Inf as such.
func formatStat(v float64) string {
	return fmt.Sprintf("%.6g", v)
}
