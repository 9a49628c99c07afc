// Command vigil is Vigil's one binary: `vigil serve` runs every role in one
// process; `vigil collector`, `vigil analyzer` and `vigil web` run one role
// each for a fleet; `vigil lint` checks the configuration directory.
//
// This package parses flags into option structs and wires roles together;
// it holds no business logic.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCmd().ExecuteContext(context.Background()); err != nil {
		// One line, no stack trace: the error says what was being done.
		fmt.Fprintln(os.Stderr, "vigil: "+strings.TrimSpace(err.Error()))
		os.Exit(exitCode(err))
	}
}

// exitError carries a specific exit code (lint uses 1 for problems found,
// 2 for a usage or I/O error).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	if e, ok := err.(*exitError); ok {
		return e.code
	}
	return 1
}

func newRootCmd() *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:           "vigil",
		Short:         "Vigil: observability and cost control for AI services",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := applyEnv(cmd); err != nil {
				return err
			}
			var err error
			g.storeURL, err = withStorePassword(g.storeURL, g.storeFile)
			return err
		},
	}
	g.register(root)
	withEnvHelp(root)
	root.AddCommand(
		newRoleCmd(g, "serve", "Run every role (collector, analyzer, web) in one process", roleCollector|roleAnalyzer|roleWeb),
		newRoleCmd(g, "collector", "Run the collector role: accept telemetry and write it to the store", roleCollector),
		newRoleCmd(g, "analyzer", "Run the analyzer role: evaluators and retention on aligned ticks", roleAnalyzer),
		newRoleCmd(g, "web", "Run the web role: API, UI, health and metrics", roleWeb),
		newLintCmd(g),
		newSLOCmd(g),
		newImportCmd(g),
		newDriftCmd(),
		newCostCmd(g),
		newBenchCmd(g),
		newRecommendCmd(g),
		newTokenCmd(g),
		newAdminCmd(g),
		newActionsCmd(),
		newDashboardsCmd(g),
		newDemoCmd(g),
		newVersionCmd(),
	)
	return root
}
