package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/collector/billing"
	"github.com/vigil-dev/vigil/web/client"
)

func newImportCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "import", Short: "Import data into the store"}
	var format, tenantID, output string
	remote := &serverOptions{}
	bill := &cobra.Command{
		Use:   "billing FILE...",
		Short: "Import billing exports (FOCUS, AWS CUR, GCP, Azure; CSV or Parquet) as cost lines",
		Long: `Streams each file into the store named by --store (or the embedded store in
--data-dir) and prints what was accepted and rejected, with the line (for
Parquet, the row), column and reason of each bad row. A file is Parquet if
its bytes say so (PAR1 at both ends), whatever its name; it is read one row
group at a time. Importing a file again replaces its
lines instead of adding them.

With --server (or VIGIL_SERVER) the files go to that Vigil's
POST /api/v1/billing/import instead, with an editor's token (VIGIL_TOKEN or
--token-file), and the output and exit codes are the same. The embedded
store is open in one process only: while vigil serve runs on --data-dir,
this command asks it when a token is given, and otherwise names its URL.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, api, err := remote.open(cmd, g, tenantID)
			if err != nil {
				return err
			}
			if st != nil {
				defer st.Close()
			}
			var sums []billing.Summary
			failed := false
			for _, name := range args {
				var sum billing.Summary
				if api != nil {
					sum, err = uploadBill(cmd.Context(), api, name, format)
				} else {
					sum, err = billing.ImportFile(cmd.Context(), st, name, billing.Options{Tenant: tenantID, Format: format})
				}
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
	// An upload of a large bill takes as long as its import.
	remote.register(bill.Flags(), "editor", time.Hour)
	withEnvHelp(bill)
	cmd.AddCommand(bill)
	return cmd
}

// uploadBill sends one file to a server's billing import.
func uploadBill(ctx context.Context, api *client.Client, name, format string) (billing.Summary, error) {
	f, err := os.Open(name)
	if err != nil {
		return billing.Summary{}, err
	}
	defer f.Close()
	return api.ImportBilling(ctx, name, format, f)
}
