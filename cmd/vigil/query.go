package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/vigil-dev/vigil/querier"
)

// registerQueryFlags adds the PromQL engine's limits, named and defaulted
// as Prometheus's own flags.
func registerQueryFlags(f *pflag.FlagSet, o *querier.Options) {
	f.DurationVar(&o.LookbackDelta, "query.lookback-delta", o.LookbackDelta, "how far back PromQL looks for a series' latest sample")
	f.DurationVar(&o.Timeout, "query.timeout", o.Timeout, "longest a PromQL query may take, its wait for a slot included")
	f.IntVar(&o.MaxSamples, "query.max-samples", o.MaxSamples, "most samples one PromQL query may hold in memory at once; a query that needs more fails")
	f.IntVar(&o.MaxConcurrency, "query.max-concurrency", o.MaxConcurrency, "most PromQL queries evaluated at once; the others wait")
}

// checkQueryOptions refuses limits the engine cannot work with.
func checkQueryOptions(o querier.Options) error {
	switch {
	case o.LookbackDelta <= 0:
		return fmt.Errorf("--query.lookback-delta must be positive, got %s", o.LookbackDelta)
	case o.Timeout <= 0:
		return fmt.Errorf("--query.timeout must be positive, got %s", o.Timeout)
	case o.MaxSamples <= 0:
		return fmt.Errorf("--query.max-samples must be positive, got %d", o.MaxSamples)
	case o.MaxConcurrency <= 0:
		return fmt.Errorf("--query.max-concurrency must be positive, got %d", o.MaxConcurrency)
	}
	return nil
}
