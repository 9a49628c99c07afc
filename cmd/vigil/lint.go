package main

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/analyzer/canary"
	"github.com/vigil-dev/vigil/analyzer/drift"
	"github.com/vigil-dev/vigil/config"
	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/slo"
)

func newLintCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "lint [paths...]",
		Short: "Check configuration files; exit 1 when any has an error, 2 when they cannot be read",
		Long: `Checks the YAML files under the given paths (default: --config-dir) and
prints each problem as file:line: message. Exit status: 0 when there is no
error (warnings allowed), 1 when there is, 2 when a path cannot be read.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			paths := args
			if len(paths) == 0 {
				paths = []string{g.configDir}
			}
			problems, err := config.Lint(paths)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			// Each domain checks the documents it owns; syntax problems are
			// already reported above, so only its own are added.
			_, costProblems, err := cost.LoadCostConfig(paths, validCostDimension)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			_, sloProblems, err := slo.Load(paths, time.Minute)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			_, driftProblems, err := drift.LoadMonitors(paths)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			_, canaryProblems, err := canary.LoadMonitors(paths)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			for _, p := range slices.Concat(costProblems, sloProblems, driftProblems, canaryProblems) {
				if p.Field != "" {
					problems = append(problems, p)
				}
			}
			sort.SliceStable(problems, func(i, j int) bool {
				if problems[i].File != problems[j].File {
					return problems[i].File < problems[j].File
				}
				return problems[i].Line < problems[j].Line
			})
			for _, p := range problems {
				fmt.Fprintln(cmd.OutOrStdout(), p.String())
			}
			if config.HasErrors(problems) {
				return &exitError{code: 1, err: fmt.Errorf("lint found %d problem(s)", len(problems))}
			}
			return nil
		},
	}
}

func newSLOCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "slo", Short: "Work with SLO files"}
	cmd.AddCommand(&cobra.Command{
		Use:   "plan [paths...]",
		Short: "Print what each SLO compiles to: its SLI, error budget and alert rules",
		RunE: func(cmd *cobra.Command, args []string) error {
			paths := args
			if len(paths) == 0 {
				paths = []string{g.configDir}
			}
			slos, problems, err := slo.Load(paths, time.Minute)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			out := cmd.OutOrStdout()
			for _, p := range problems {
				fmt.Fprintln(cmd.ErrOrStderr(), p.String())
			}
			for _, s := range slos {
				fmt.Fprintln(out, s.Plan())
			}
			if config.HasErrors(problems) {
				return &exitError{code: 1, err: fmt.Errorf("some SLO files have errors")}
			}
			return nil
		},
	})
	var format, output string
	export := &cobra.Command{
		Use:   "export [paths...]",
		Short: "Write Prometheus recording and alerting rules equivalent to what Vigil evaluates",
		Long: `Export writes, for every SLO whose SLI reads metrics, Prometheus recording rules for
its error ratio over each alert window and alerting rules for its burn-rate
rules, labelled as Vigil labels its alerts (so Alertmanager deduplicates the
two). SLOs over spans are listed on stderr as skipped. Exit codes: 0 written,
1 the SLO files have errors, 2 the files cannot be read or written.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "prometheus" {
				return &exitError{code: 2, err: fmt.Errorf("--format %q: the only format is prometheus", format)}
			}
			paths := args
			if len(paths) == 0 {
				paths = []string{g.configDir}
			}
			slos, problems, err := slo.Load(paths, time.Minute)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			for _, p := range problems {
				fmt.Fprintln(cmd.ErrOrStderr(), p.String())
			}
			if config.HasErrors(problems) {
				return &exitError{code: 1, err: fmt.Errorf("some SLO files have errors")}
			}
			rules, skipped := slo.PrometheusRules(slos)
			for _, s := range skipped {
				fmt.Fprintln(cmd.ErrOrStderr(), "skipped: "+s)
			}
			data, err := rules.Marshal()
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if output == "" || output == "-" {
				_, err = cmd.OutOrStdout().Write(data)
			} else {
				err = os.WriteFile(output, data, 0o644)
			}
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			return nil
		},
	}
	export.Flags().StringVar(&format, "format", "prometheus", "rule format: prometheus")
	export.Flags().StringVarP(&output, "output", "o", "-", "file to write, - for stdout")
	cmd.AddCommand(export)
	return cmd
}
