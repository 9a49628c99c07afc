package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/backend"
)

func newCostCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "cost", Short: "Cost maintenance"}
	var (
		from, to, tenant, output string
		priceFiles               []string
		dryRun                   bool
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
ingest (restart them with the new prices first, so new spans get them);
the embedded store is open in one process only, so stop vigil serve first.`,
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
			prices, err := loadPrices(priceFiles)
			if err != nil {
				return err
			}
			if output != "text" && output != "json" {
				return fmt.Errorf("--output: want text or json, got %q", output)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			st, err := backend.Open(ctx, g.storeURL, g.dataDir)
			cancel()
			if err != nil {
				if errors.Is(err, store.ErrLocked) {
					return fmt.Errorf("%w (is vigil serve running on %s? stop it first)", err, g.dataDir)
				}
				return err
			}
			defer st.Close()
			rep, err := runReprice(cmd.Context(), st, prices, store.RepriceQuery{Tenant: tenant, Start: start, End: end}, dryRun)
			if err != nil {
				return err
			}
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			rep.writeText(cmd.OutOrStdout())
			return nil
		},
	}
	f := reprice.Flags()
	f.StringVar(&from, "from", "", "start of the range: RFC 3339 or YYYY-MM-DD (UTC); required")
	f.StringVar(&to, "to", "", "end of the range, exclusive: RFC 3339 or YYYY-MM-DD (UTC); required")
	f.StringSliceVar(&priceFiles, "price-file", nil, "LLM price files (Vigil YAML, or LiteLLM, Langfuse or OpenLIT JSON) loaded over the built-in table, later files winning; repeat or separate with commas")
	f.StringVar(&tenant, "tenant", "", "reprice one tenant's spans; empty for every tenant")
	f.BoolVar(&dryRun, "dry-run", false, "report what would change and write nothing")
	f.StringVar(&output, "output", "text", "text or json")
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

// repriceReport is what a repricing did (or, dry, would do), per tenant
// and model, with exact decimal totals.
type repriceReport struct {
	From     time.Time           `json:"from"`
	To       time.Time           `json:"to"`
	Tenant   string              `json:"tenant,omitempty"`
	DryRun   bool                `json:"dry_run"`
	Models   []repriceModel      `json:"models"`
	Unpriced []cost.UnknownModel `json:"unpriced_models"`
	// Totals over every model.
	Repriced     uint64 `json:"spans_repriced"`
	CallerPriced uint64 `json:"spans_caller_priced"`
	UnpricedN    uint64 `json:"spans_unpriced"`
}

type repriceModel struct {
	Tenant       string `json:"tenant"`
	Model        string `json:"model"`
	Spans        uint64 `json:"spans"`
	Repriced     uint64 `json:"spans_repriced"`
	CallerPriced uint64 `json:"spans_caller_priced"` // left alone
	Unpriced     uint64 `json:"spans_unpriced"`      // left alone: no price row
	NoTokens     uint64 `json:"spans_without_tokens"`
	// Cost of every span of the model in the range, before and after.
	Before string `json:"cost_before"`
	After  string `json:"cost_after"`
}

// runReprice turns the price table into rules, one per tenant, model and
// stretch of time with one price row, and has the store apply them.
func runReprice(ctx context.Context, st store.Store, prices *cost.PriceTable, q store.RepriceQuery, dryRun bool) (*repriceReport, error) {
	sums, err := st.SpanCosts(ctx, q)
	if err != nil {
		return nil, err
	}
	var rules []store.RepriceRule
	owner := []int{} // rules[i] belongs to sums[owner[i]]
	for i, m := range sums {
		if m.Spans == m.CallerPriced+m.NoTokens {
			continue // nothing priced from tokens
		}
		for _, seg := range prices.Segments(m.Tenant, m.Model, q.Start, q.End) {
			rules = append(rules, store.RepriceRule{Tenant: m.Tenant, Model: m.Model, Start: seg.Start, End: seg.End, Tiers: rateTiers(seg.Row)})
			owner = append(owner, i)
		}
	}
	tallies, err := st.Reprice(ctx, rules, dryRun)
	if err != nil {
		return nil, err
	}
	rep := &repriceReport{From: q.Start, To: q.End, Tenant: q.Tenant, DryRun: dryRun, Unpriced: []cost.UnknownModel{}}
	after := make([]decimal.Decimal, len(sums))
	models := make([]repriceModel, len(sums))
	for i, m := range sums {
		after[i] = m.Cost
		models[i] = repriceModel{Tenant: m.Tenant, Model: m.Model, Spans: m.Spans, CallerPriced: m.CallerPriced, NoTokens: m.NoTokens}
	}
	unpriced := map[string]uint64{}
	for i, t := range tallies {
		m := &models[owner[i]]
		if rules[i].Tiers == nil {
			m.Unpriced += t.Spans
			if t.Spans > 0 {
				unpriced[m.Model] += t.Spans
			}
			continue
		}
		m.Repriced += t.Spans
		after[owner[i]] = after[owner[i]].Sub(t.Before).Add(t.After)
	}
	for i := range models {
		models[i].Before, models[i].After = sums[i].Cost.String(), after[i].String()
		rep.Repriced += models[i].Repriced
		rep.CallerPriced += models[i].CallerPriced
		rep.UnpricedN += models[i].Unpriced
	}
	rep.Models = models
	for m, n := range unpriced {
		rep.Unpriced = append(rep.Unpriced, cost.UnknownModel{Model: m, Calls: n})
	}
	sort.Slice(rep.Unpriced, func(i, j int) bool {
		if rep.Unpriced[i].Calls != rep.Unpriced[j].Calls {
			return rep.Unpriced[i].Calls > rep.Unpriced[j].Calls
		}
		return rep.Unpriced[i].Model < rep.Unpriced[j].Model
	})
	return rep, nil
}

// rateTiers is a price row as the store applies it to a span's columns:
// spans carry input, cached and output counts (no cache writes or
// reasoning), so a cache read without its own price is charged at the
// input price, as the collector charges it at ingest. nil for no row.
func rateTiers(row *cost.ModelPrice) []store.RateTier {
	if row == nil {
		return nil
	}
	out := make([]store.RateTier, len(row.Tiers))
	for i, t := range row.Tiers {
		cached := t.Prices.Input
		if t.Prices.CachedInput != nil {
			cached = *t.Prices.CachedInput
		}
		out[i].Rate = store.TokenRate{Input: t.Prices.Input, CachedInput: cached, Output: t.Prices.Output}
		for _, c := range t.Conditions {
			out[i].When = append(out[i].When, store.TokenCondition{Tokens: c.Usage, Op: c.Op, Value: c.Value})
		}
	}
	return out
}

func (r *repriceReport) writeText(w io.Writer) {
	scope := "every tenant"
	if r.Tenant != "" {
		scope = "tenant " + r.Tenant
	}
	verb := "repriced"
	if r.DryRun {
		verb = "would reprice (dry run, nothing written)"
	}
	fmt.Fprintf(w, "spans starting %s to %s, %s: %s %d spans; %d caller-priced left alone; %d of unpriced models left alone\n",
		r.From.Format(time.RFC3339), r.To.Format(time.RFC3339), scope, verb, r.Repriced, r.CallerPriced, r.UnpricedN)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tMODEL\tSPANS\tREPRICED\tCALLER-PRICED\tUNPRICED\tNO TOKENS\tCOST BEFORE\tCOST AFTER")
	for _, m := range r.Models {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", m.Tenant, m.Model, m.Spans, m.Repriced, m.CallerPriced, m.Unpriced, m.NoTokens, m.Before, m.After)
	}
	tw.Flush()
	if len(r.Unpriced) > 0 {
		parts := make([]string, len(r.Unpriced))
		for i, u := range r.Unpriced {
			parts[i] = fmt.Sprintf("%s (%d spans)", u.Model, u.Calls)
		}
		fmt.Fprintf(w, "unpriced models, costs left as they were (add them to a --price-file): %s\n", strings.Join(parts, ", "))
	}
}
