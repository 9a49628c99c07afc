package cost

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/config"
)

// Attribution says which tags of a bill line carry the team, the service
// (the workload, not the cloud's ServiceName) and the model a cost belongs
// to. Clouds and companies spell them differently (owner, cost-center,
// app.kubernetes.io/name, ...), so the keys are configured in the config
// directory, in any YAML file with a top-level attribution: mapping:
//
//	attribution:
//	  team: business_unit   # tag key of the team; default "team"
//	  service: application  # tag key of the service; default "service"
//	  model: model          # tag key of the model; default "model"
type Attribution struct {
	Team, Service, Model string
	// File is where it was defined ("" for the defaults), file:line.
	File string
}

// DefaultAttribution uses the tag keys team, service and model.
func DefaultAttribution() Attribution {
	return Attribution{Team: "team", Service: "service", Model: "model"}
}

// Attribution dimensions of bill lines, each resolved through its
// configured tag key. The service tag is "app" because "service" already
// names FOCUS's ServiceName (what budgets filter on), and a dimension must
// mean one thing everywhere.
const (
	AttrTeam    = "team"
	AttrService = "app"
	AttrModel   = "model"
)

// AttributionDimensions lists the attribution dimensions.
var AttributionDimensions = []string{AttrTeam, AttrService, AttrModel}

// TagKey returns the tag key an attribution dimension resolves to; ok is
// false for any other name.
func (a Attribution) TagKey(dim string) (key string, ok bool) {
	switch dim {
	case AttrTeam:
		return a.Team, true
	case AttrService:
		return a.Service, true
	case AttrModel:
		return a.Model, true
	}
	return "", false
}

type attributionYAML struct {
	Team    *string `yaml:"team"`
	Service *string `yaml:"service"`
	Model   *string `yaml:"model"`
}

// addAttribution reads an attribution: mapping; keys it leaves out keep
// their defaults.
func (c *CostConfig) addAttribution(file string, n *yaml.Node) []config.Problem {
	var y attributionYAML
	if p := config.DecodeStrict(file, n, "attribution", &y); p != nil {
		return []config.Problem{*p}
	}
	a := DefaultAttribution()
	a.File = fmt.Sprintf("%s:%d", file, n.Line)
	var problems []config.Problem
	keys := map[string]string{}
	for _, f := range []struct {
		name string
		v    *string
		dst  *string
	}{{"team", y.Team, &a.Team}, {"service", y.Service, &a.Service}, {"model", y.Model, &a.Model}} {
		if f.v == nil {
			continue
		}
		v := strings.TrimSpace(*f.v)
		if v == "" {
			problems = append(problems, config.Problem{File: file, Line: config.Line(n, f.name), Field: "attribution." + f.name, Severity: config.Error,
				Message: "is empty: name the tag key that carries the " + f.name})
			continue
		}
		*f.dst = v
	}
	for _, f := range []struct{ name, key string }{{"team", a.Team}, {"service", a.Service}, {"model", a.Model}} {
		if prev, ok := keys[f.key]; ok {
			problems = append(problems, config.Problem{File: file, Line: config.Line(n, f.name), Field: "attribution." + f.name, Severity: config.Error,
				Message: fmt.Sprintf("tag key %q is also the %s key", f.key, prev)})
		}
		keys[f.key] = f.name
	}
	if len(problems) > 0 {
		return problems
	}
	if c.Attribution != nil {
		return []config.Problem{{File: file, Line: n.Line, Field: "attribution", Severity: config.Error,
			Message: fmt.Sprintf("is also defined at %s; keep one", c.Attribution.File)}}
	}
	c.Attribution = &a
	return nil
}

// AttributionOrDefault returns the configured attribution, or the default
// tag keys.
func (c *CostConfig) AttributionOrDefault() Attribution {
	if c == nil || c.Attribution == nil {
		return DefaultAttribution()
	}
	return *c.Attribution
}
