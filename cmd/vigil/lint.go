package main

import (
	"fmt"
	"sort"
	"time"

	"github.com/spf13/cobra"

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
			for _, p := range append(costProblems, sloProblems...) {
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
	return cmd
}
