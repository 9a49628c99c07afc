package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/config"
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
			sections, err := newConfigSections(time.Minute)
			if err != nil {
				return err
			}
			_, problems, err := sections.registry.Load(paths)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			config.SortProblems(problems)
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

// readSLOs reads the SLOs of the files under paths with every section, as
// lint does, printing every problem to stderr; errors are exit code 1, a
// path that cannot be read 2.
func readSLOs(cmd *cobra.Command, paths []string) ([]*slo.SLO, error) {
	sections, cfg, err := readConfig(cmd, paths)
	if cfg == nil {
		return nil, err
	}
	return sections.slos.Of(cfg), err
}

// readConfig reads the files under paths with every section, as readSLOs
// does; the reading is nil only when a path cannot be read.
func readConfig(cmd *cobra.Command, paths []string) (*configSections, *config.Config, error) {
	sections, err := newConfigSections(time.Minute)
	if err != nil {
		return nil, nil, err
	}
	cfg, problems, err := sections.registry.Load(paths)
	if err != nil {
		return nil, nil, &exitError{code: 2, err: err}
	}
	config.SortProblems(problems)
	for _, p := range problems {
		fmt.Fprintln(cmd.ErrOrStderr(), p.String())
	}
	if config.HasErrors(problems) {
		return sections, cfg, &exitError{code: 1, err: fmt.Errorf("the config files have errors")}
	}
	return sections, cfg, nil
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
			slos, err := readSLOs(cmd, paths)
			for _, s := range slos {
				fmt.Fprintln(cmd.OutOrStdout(), s.Plan())
			}
			return err
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
			slos, err := readSLOs(cmd, paths)
			if err != nil {
				return err
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
	cmd.AddCommand(export, newSLOConvertCmd(g))
	return cmd
}

func newSLOConvertCmd(g *globalOptions) *cobra.Command {
	var to, output string
	convert := &cobra.Command{
		Use:   "convert [paths...]",
		Short: "Write the SLOs (Sloth's, Pyrra's or Vigil's own) as OpenSLO",
		Long: `Convert reads the SLO files under the paths (default: --config-dir) in any
format Vigil reads and writes each SLO over metrics as an openslo/v1 SLO
document that Vigil reads back into the same SLO. What OpenSLO cannot say
(alert labels and names, a short window that is not a twelfth of its long
one, an SLO without alerts) is printed on stderr as a note; SLOs over
Vigil's spans or drift verdicts are listed as skipped. Exit codes: 0
written, 1 the SLO files have errors, 2 the files cannot be read or
written.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if to != "openslo" {
				return &exitError{code: 2, err: fmt.Errorf("--to %q: the only format is openslo", to)}
			}
			paths := args
			if len(paths) == 0 {
				paths = []string{g.configDir}
			}
			slos, err := readSLOs(cmd, paths)
			if err != nil {
				return err
			}
			conv, err := slo.ConvertToOpenSLO(slos)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			for _, n := range conv.Notes {
				fmt.Fprintln(cmd.ErrOrStderr(), "note: "+n)
			}
			for _, s := range conv.Skipped {
				fmt.Fprintln(cmd.ErrOrStderr(), "skipped: "+s)
			}
			if output == "" || output == "-" {
				_, err = cmd.OutOrStdout().Write(conv.Documents)
			} else {
				err = os.WriteFile(output, conv.Documents, 0o644)
			}
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			return nil
		},
	}
	convert.Flags().StringVar(&to, "to", "openslo", "format to write: openslo")
	convert.Flags().StringVarP(&output, "output", "o", "-", "file to write, - for stdout")
	return convert
}
