package main

import (
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/analyzer"
	"github.com/vigil-dev/vigil/analyzer/canary"
	"github.com/vigil-dev/vigil/analyzer/drift"
	"github.com/vigil-dev/vigil/analyzer/rightsize"
	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/config"
	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/stream"
	"github.com/vigil-dev/vigil/web/api"
)

// configSections are the sections of the config directory, one per
// domain, and the registry that reads them all: what lint checks is what
// serve runs. Each field is the handle its consumers read their values
// from a reading with (sections.slos.Of(cfg)).
type configSections struct {
	slos     *config.Section[[]*slo.SLO]
	cost     *config.Section[*cost.CostConfig]
	drift    *config.Section[[]*drift.Monitor]
	canaries *config.Section[[]canary.Monitor]
	actions  *config.Section[[]*actions.Policy]
	auth     *config.Section[*auth.Policy]
	advise   *config.Section[[]rightsize.Workload]
	streams  *config.Section[[]stream.Stream]
	registry *config.Registry
}

// newConfigSections registers every section; evalStep is the analyzer's
// interval, which SLO warnings are judged against.
func newConfigSections(evalStep time.Duration) (*configSections, error) {
	if evalStep <= 0 {
		evalStep = time.Minute
	}
	c := &configSections{slos: slo.Section(evalStep), cost: cost.Section(validCostDimension), drift: drift.Section, canaries: canary.Section, auth: auth.Section, advise: rightsize.Section,
		streams: stream.Section(streamedTypes)}
	c.actions = actions.Section(c.catalog)
	var err error
	c.registry, err = config.NewRegistry(c.slos, c.cost, c.drift, c.canaries, c.actions, c.auth, c.advise, c.streams)
	return c, err
}

// streamedTypes are the event types a stream may carry: the findings,
// alert transitions and action transitions, by their producers' codecs.
var streamedTypes = []string{slo.AlertTransitions.Type, actions.Transitions.Type, canary.Analyses.Type, drift.Verdicts.Type,
	analyzer.BudgetFindings.Type, analyzer.SpendAnomalies.Type, rightsize.Advices.Type}

// streamStates read the state of the streamed types that have one, for
// the streams' routing and record keys ({{.State}}).
var streamStates = stream.States{
	slo.AlertTransitions.Type: func(ev store.Event) (string, error) {
		t, err := slo.AlertTransitions.Decode(ev)
		return string(t.State), err
	},
	actions.Transitions.Type: func(ev store.Event) (string, error) {
		t, err := actions.Transitions.Decode(ev)
		return string(t.State), err
	},
}

// catalog is what the action policies of a reading may name: its SLOs
// (with their rules' severities), monitors and budgets, by tenant/name.
func (c *configSections) catalog(cfg *config.Config) actions.Catalog {
	out := actions.Catalog{SLOs: map[string][]string{}, Canaries: map[string]bool{}, Drift: map[string]bool{}, Budgets: map[string]bool{}}
	for _, s := range c.slos.Of(cfg) {
		key := tenantOr(s.Tenant) + "/" + s.Name
		out.SLOs[key] = []string{}
		for _, w := range s.Alerts {
			if !slices.Contains(out.SLOs[key], w.Severity) {
				out.SLOs[key] = append(out.SLOs[key], w.Severity)
			}
		}
	}
	for _, m := range c.canaries.Of(cfg) {
		out.Canaries[tenantOr(m.Spec.Tenant)+"/"+m.Name] = true
	}
	for _, m := range c.drift.Of(cfg) {
		out.Drift[tenantOr(m.Tenant)+"/"+m.Name] = true
	}
	if costs := c.cost.Of(cfg); costs != nil {
		for _, b := range costs.Budgets {
			out.Budgets[tenantOr(b.Tenant)+"/"+b.Name] = true
		}
	}
	return out
}

func tenantOr(t string) string {
	if t == "" {
		return store.DefaultTenant
	}
	return t
}

// configMetrics say how the last reading of the config directory went,
// named as Prometheus names its own.
func configMetrics(r *config.Reloader) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigil_config_last_reload_successful",
			Help: "Whether the last reading of the config directory is in force (1), or had errors and the one before stays (0)."},
			func() float64 {
				if r.Status().Successful {
					return 1
				}
				return 0
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigil_config_last_reload_success_timestamp_seconds",
			Help: "When the config in force was read from the config directory, in seconds since the epoch."},
			func() float64 { return float64(r.Status().LastSuccess.UnixNano()) / 1e9 }),
	}
}

// liveConfig gives each consumer its own values from the reading in
// force, which current returns; the consumers call these at every tick
// or request, so a reload reaches them all at once.
type liveConfig struct {
	sections *configSections
	current  func() *config.Config
}

func (l liveConfig) slos() []*slo.SLO           { return l.sections.slos.Of(l.current()) }
func (l liveConfig) drift() []*drift.Monitor    { return l.sections.drift.Of(l.current()) }
func (l liveConfig) canaries() []canary.Monitor { return l.sections.canaries.Of(l.current()) }
func (l liveConfig) actions() []*actions.Policy { return l.sections.actions.Of(l.current()) }
func (l liveConfig) auth() *auth.Policy         { return l.sections.auth.Of(l.current()) }

// streams are the event streams of the reading in force (streamSet
// follows them).
func (l liveConfig) streams() []stream.Stream { return l.sections.streams.Of(l.current()) }

// advise are the workloads right-sizing advises on.
func (l liveConfig) advise() []rightsize.Workload { return l.sections.advise.Of(l.current()) }

func (l liveConfig) cost() *cost.CostConfig {
	if c := l.sections.cost.Of(l.current()); c != nil {
		return c
	}
	return &cost.CostConfig{}
}

// api is what the web API reads, all from one reading.
func (l liveConfig) api() api.Config {
	cfg := l.current()
	c := l.sections.cost.Of(cfg)
	if c == nil {
		c = &cost.CostConfig{}
	}
	return api.Config{SLOs: l.sections.slos.Of(cfg), Budgets: c.Budgets, Attribution: c.AttributionOrDefault()}
}

func validCostDimension(name string) error {
	_, _, err := store.CostDimension(name).Column()
	return err
}
