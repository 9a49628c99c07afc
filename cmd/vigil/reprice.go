package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/web/client"
)

func newCostCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "cost", Short: "Cost maintenance"}
	var (
		from, to, tenant, output string
		priceFiles               []string
		dryRun                   bool
		remote                   = &serverOptions{}
	)
	reprice := &cobra.Command{
		Use:   "reprice --from TIME --to TIME",
		Short: "Recompute the cost of model spans in a time range from the price table",
		Long: `Prices every model span that started in [--from, --to) again, with the price
row valid at the span's start: the built-in table, then each --price-file,
later files winning, as vigil serve's --cost.price-file loads them. Spans
whose caller supplied gen_ai.usage.cost keep that cost; models without a
price are listed and keep the cost they have (never priced at zero).

Running it again changes nothing. On ClickHouse it can run while collectors
ingest (restart them with the new prices first, so new spans get them).

With --server (or VIGIL_SERVER) a running Vigil reprices, with the price
files sent to it: an editor's token (VIGIL_TOKEN or --token-file) for one
--tenant, an admin's of every tenant for all of them. The output and exit
codes are the same. The embedded store is open in one process only: while
vigil serve runs on --data-dir, this command asks it when a token is given,
and otherwise names its URL.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			start, err := repriceTime(from, "--from")
			if err != nil {
				return err
			}
			end, err := repriceTime(to, "--to")
			if err != nil {
				return err
			}
			if !end.After(start) {
				return fmt.Errorf("--to %s is not after --from %s", end.Format(time.RFC3339), start.Format(time.RFC3339))
			}
			files, err := readPriceFiles(priceFiles)
			if err != nil {
				return err
			}
			// Built here either way, so a bad file is refused before asking.
			prices, err := cost.DefaultPriceTable(files...)
			if err != nil {
				return err
			}
			if output != "text" && output != "json" {
				return fmt.Errorf("--output: want text or json, got %q", output)
			}
			st, api, err := remote.open(cmd, g, tenant)
			if err != nil {
				return err
			}
			var rep *cost.RepriceReport
			if api != nil {
				rep, err = api.Reprice(cmd.Context(), client.RepriceRequest{From: start, To: end, DryRun: dryRun, PriceFiles: files}, tenant == "")
			} else {
				defer st.Close()
				rep, err = cost.Reprice(cmd.Context(), st, prices, store.RepriceQuery{Tenant: tenant, Start: start, End: end}, dryRun)
			}
			if err != nil {
				return err
			}
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			return rep.WriteText(cmd.OutOrStdout())
		},
	}
	f := reprice.Flags()
	f.StringVar(&from, "from", "", "start of the range: RFC 3339 or YYYY-MM-DD (UTC); required")
	f.StringVar(&to, "to", "", "end of the range, exclusive: RFC 3339 or YYYY-MM-DD (UTC); required")
	f.StringSliceVar(&priceFiles, "price-file", nil, "LLM price files (Vigil YAML, or LiteLLM, Langfuse or OpenLIT JSON) loaded over the built-in table, later files winning; repeat or separate with commas")
	f.StringVar(&tenant, "tenant", "", "reprice one tenant's spans; empty for every tenant")
	f.BoolVar(&dryRun, "dry-run", false, "report what would change and write nothing")
	f.StringVar(&output, "output", "text", "text or json")
	remote.register(f, "editor", 10*time.Minute)
	reprice.MarkFlagRequired("from")
	reprice.MarkFlagRequired("to")
	withEnvHelp(reprice)
	cmd.AddCommand(reprice)
	return cmd
}

func repriceTime(s, flag string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q: want RFC 3339 (2026-11-01T00:00:00Z) or a date (2026-11-01)", flag, s)
}
