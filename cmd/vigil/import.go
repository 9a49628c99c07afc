package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/collector/billing"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/backend"
)

func newImportCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "import", Short: "Import data into the store"}
	var format, tenantID, output string
	bill := &cobra.Command{
		Use:   "billing FILE...",
		Short: "Import billing exports (FOCUS, AWS CUR, GCP, Azure; CSV or Parquet) as cost lines",
		Long: `Streams each file into the store named by --store (or the embedded store in
--data-dir) and prints what was accepted and rejected, with the line (for
Parquet, the row), column and reason of each bad row. A file is Parquet if
its bytes say so (PAR1 at both ends), whatever its name; it is read one row
group at a time. Importing a file again replaces its
lines instead of adding them. The embedded store can be open in one process
only: while vigil serve runs on it, send files to its
POST /api/v1/billing/import instead.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			st, err := backend.Open(ctx, g.storeURL, g.dataDir)
			cancel()
			if err != nil {
				if errors.Is(err, store.ErrLocked) {
					return fmt.Errorf("%w (is vigil serve running on %s? use its POST /api/v1/billing/import)", err, g.dataDir)
				}
				return err
			}
			defer st.Close()
			var sums []billing.Summary
			failed := false
			for _, name := range args {
				sum, err := billing.ImportFile(cmd.Context(), st, name, billing.Options{Tenant: tenantID, Format: format})
				if err != nil {
					return err
				}
				sums = append(sums, sum)
				failed = failed || sum.Rejected > 0
			}
			out := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(sums); err != nil {
					return err
				}
			} else {
				for _, s := range sums {
					fmt.Fprintf(out, "%s: %s, %d rows, %d accepted, %d rejected\n", s.File, s.Format, s.Rows, s.Accepted, s.Rejected)
					for _, e := range s.Errors {
						if e.Row > 0 { // Parquet has rows, not lines
							fmt.Fprintf(out, "  %s: %s\n", s.File, e)
						} else {
							fmt.Fprintf(out, "  %s:%s\n", s.File, strings.TrimPrefix(e.String(), "line "))
						}
					}
					if s.Rejected > len(s.Errors) {
						fmt.Fprintf(out, "  ... and %d more\n", s.Rejected-len(s.Errors))
					}
				}
			}
			if failed {
				return &exitError{code: 1, err: fmt.Errorf("some rows were rejected")}
			}
			return nil
		},
	}
	bill.Flags().StringVar(&format, "format", billing.FormatAuto, "file format: auto (by header), focus, aws-cur, aws-cur-legacy, gcp, azure or azure-amortized (amortised exports cannot be told from actual ones by header)")
	bill.Flags().StringVar(&tenantID, "tenant", "", "tenant to import into; empty for the default tenant")
	bill.Flags().StringVar(&output, "output", "text", "text or json")
	withEnvHelp(bill)
	cmd.AddCommand(bill)
	return cmd
}
