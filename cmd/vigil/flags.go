package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// globalOptions are the flags every subcommand has.
type globalOptions struct {
	dataDir   string
	storeURL  string
	storeFile string // --store-password-file
	configDir string
	logLevel  string
	logFormat string
}

func (g *globalOptions) register(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&g.dataDir, "data-dir", "data", "directory for the embedded store and the collector's spool")
	f.StringVar(&g.storeURL, "store", "", "store URL: clickhouse://user:pass@host:9000/db[?cluster=name]; empty for the embedded DuckDB store in --data-dir")
	f.StringVar(&g.storeFile, "store-password-file", "", "file holding the password of the store URL's user (ClickHouse), instead of writing it in --store")
	f.StringVar(&g.configDir, "config-dir", "config", "directory of SLO, drift monitor and policy YAML files")
	f.StringVar(&g.logLevel, "log.level", "info", "log level: debug, info, warn or error")
	f.StringVar(&g.logFormat, "log.format", "text", "log format: text or json")
}

func (g *globalOptions) logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, fmt.Errorf("--log.level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log.format: want text or json, got %q", g.logFormat)
}

// envName is a flag's environment twin: --web.listen-address is
// VIGIL_WEB_LISTEN_ADDRESS.
func envName(flag string) string {
	return "VIGIL_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(flag))
}

// applyEnv sets every flag not given on the command line from its
// environment twin, so the command line wins over the environment.
func applyEnv(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if e := cmd.Flags().Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, e)
			}
		}
	})
	return err
}

// withEnvHelp appends each flag's environment twin to its usage.
func withEnvHelp(cmd *cobra.Command) {
	for _, fs := range []*pflag.FlagSet{cmd.Flags(), cmd.PersistentFlags()} {
		fs.VisitAll(func(f *pflag.Flag) {
			if !strings.Contains(f.Usage, "[$VIGIL_") {
				f.Usage += " [$" + envName(f.Name) + "]"
			}
		})
	}
}
