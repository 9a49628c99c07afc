package canary

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/config"
	"github.com/vigil-dev/vigil/store"
)

// Canary monitors live in the config directory, in any YAML file with a
// top-level canaries: list:
//
//	canaries:
//	  - name: chat-rollout
//	    service: chat-gateway
//	    operation: POST /chat     # optional, as is model
//	    by: deployment            # or model_version
//	    canary: canary
//	    baseline: stable
//	    window: 15m               # judged over the window ending at each tick
//	    every: 5m                 # default: the window
//	    min_samples: 50           # and alpha, latency_tolerance, error_rate_tolerance
//
// Each judgement is a finding (see Finding) that the actions read.

type monitorYAML struct {
	Name               string  `yaml:"name"`
	Tenant             string  `yaml:"tenant"`
	Service            string  `yaml:"service"`
	Operation          string  `yaml:"operation"`
	Model              string  `yaml:"model"`
	By                 string  `yaml:"by"`
	Canary             string  `yaml:"canary"`
	Baseline           string  `yaml:"baseline"`
	Window             string  `yaml:"window"`
	Every              string  `yaml:"every"`
	MinSamples         int     `yaml:"min_samples"`
	Alpha              float64 `yaml:"alpha"`
	LatencyTolerance   float64 `yaml:"latency_tolerance"`
	ErrorRateTolerance float64 `yaml:"error_rate_tolerance"`
}

// Section is canary's part of the config directory: the canaries: lists
// of monitors.
var Section = &config.Section[[]Monitor]{Name: "canaries", Keys: []string{"canaries"},
	New: func() config.Decoder[[]Monitor] { return &monitorsReader{seen: map[string]string{}} }}

// LoadMonitors reads the canary monitors alone from the YAML files under
// paths (see Section and config.LoadSection). It fails only when a path
// cannot be read.
func LoadMonitors(paths []string) ([]Monitor, []config.Problem, error) {
	return config.LoadSection(paths, Section)
}

// monitorsReader is one reading of the canary section.
type monitorsReader struct {
	monitors []Monitor
	seen     map[string]string // tenant/name → file:line
}

func (r *monitorsReader) Decode(it config.Item) []config.Problem {
	list := it.Node
	if list.Kind != yaml.SequenceNode {
		return []config.Problem{{File: it.File, Line: list.Line, Field: "canaries", Severity: config.Error, Message: "want a list of monitors"}}
	}
	var problems []config.Problem
	for i, item := range list.Content {
		field := fmt.Sprintf("canaries[%d]", i)
		m, ps := readMonitor(it.File, item, field)
		problems = append(problems, ps...)
		if m == nil {
			continue
		}
		key := m.Spec.Tenant + "/" + m.Name
		if prev, ok := r.seen[key]; ok {
			problems = append(problems, config.Problem{File: it.File, Line: item.Line, Field: field + ".name", Severity: config.Error,
				Message: fmt.Sprintf("canary monitor %q is also defined at %s", m.Name, prev)})
			continue
		}
		r.seen[key] = fmt.Sprintf("%s:%d", it.File, item.Line)
		r.monitors = append(r.monitors, *m)
	}
	return problems
}

func (r *monitorsReader) Done() ([]Monitor, []config.Problem) { return r.monitors, nil }

func readMonitor(file string, n *yaml.Node, field string) (*Monitor, []config.Problem) {
	var y monitorYAML
	if p := config.DecodeStrict(file, n, field, &y); p != nil {
		return nil, []config.Problem{*p}
	}
	var problems []config.Problem
	bad := func(key, format string, args ...any) {
		line := n.Line
		if v := config.Value(n, key); v != nil {
			line = v.Line
		}
		problems = append(problems, config.Problem{File: file, Line: line, Field: field + "." + key, Severity: config.Error, Message: fmt.Sprintf(format, args...)})
	}
	if y.Name == "" {
		bad("name", "is required")
	}
	window, err := time.ParseDuration(y.Window)
	if err != nil || window <= 0 {
		bad("window", "%q is not a positive duration such as 15m", y.Window)
	}
	every := window
	if y.Every != "" {
		if every, err = time.ParseDuration(y.Every); err != nil || every <= 0 {
			bad("every", "%q is not a positive duration such as 5m", y.Every)
		}
	}
	if y.Alpha < 0 || y.Alpha >= 1 {
		bad("alpha", "%v is not a significance level in (0,1)", y.Alpha)
	}
	for _, t := range []struct {
		key string
		v   float64
	}{{"latency_tolerance", y.LatencyTolerance}, {"error_rate_tolerance", y.ErrorRateTolerance}} {
		if t.v < 0 {
			bad(t.key, "%v is negative", t.v)
		}
	}
	if y.MinSamples < 0 {
		bad("min_samples", "%d is negative", y.MinSamples)
	}
	if y.Tenant == "" {
		y.Tenant = store.DefaultTenant
	}
	m := &Monitor{Name: y.Name, Window: window, Every: every, Spec: Spec{Tenant: y.Tenant, Service: y.Service, Operation: y.Operation, Model: y.Model,
		By: y.By, Canary: y.Canary, Baseline: y.Baseline,
		Config: Config{MinSamples: y.MinSamples, Alpha: y.Alpha, LatencyTolerance: y.LatencyTolerance, ErrorRateTolerance: y.ErrorRateTolerance}}}
	// The spec's own rules, judged over a window ending now.
	check := m.Spec
	check.Start, check.End = time.Unix(0, 0), time.Unix(0, 0).Add(max(window, time.Second))
	if err := check.Validate(); err != nil {
		key := "service"
		switch {
		case strings.Contains(err.Error(), "by"):
			key = "by"
		case strings.Contains(err.Error(), "canary") && y.Service != "":
			key = "canary"
		}
		bad(key, "%s", strings.TrimPrefix(err.Error(), "canary spec: "))
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return m, nil
}
