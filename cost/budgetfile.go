package cost

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/config"
)

// Budgets and cost anomaly detectors live in the config directory, in any
// YAML file with a top-level budgets: or cost_anomalies: list:
//
//	budgets:
//	  - name: gpu-monthly
//	    period: month          # month, week or day
//	    amount: "5000"
//	    currency: USD
//	    filter: {provider: AWS, "tag:team": search}
//	    thresholds: [50, 80, 100]
//	    forecast: true
//	cost_anomalies:
//	  - name: daily-by-service
//	    group_by: [service]
//	    min_daily_spend: "10"

type budgetYAML struct {
	Name       string            `yaml:"name"`
	Tenant     string            `yaml:"tenant"`
	Period     string            `yaml:"period"`
	Amount     string            `yaml:"amount"`
	Currency   string            `yaml:"currency"`
	Cost       string            `yaml:"cost"`
	Filter     map[string]string `yaml:"filter"`
	Thresholds []int             `yaml:"thresholds"`
	Forecast   bool              `yaml:"forecast"`
}

type anomalyYAML struct {
	Name          string            `yaml:"name"`
	Tenant        string            `yaml:"tenant"`
	GroupBy       []string          `yaml:"group_by"`
	Filter        map[string]string `yaml:"filter"`
	WindowDays    int               `yaml:"window_days"`
	Threshold     float64           `yaml:"threshold"`
	MinDailySpend string            `yaml:"min_daily_spend"`
	Cost          string            `yaml:"cost"`
}

// CostConfig is what the config directory says about cost.
type CostConfig struct {
	Budgets   []*Budget
	Anomalies []*Anomaly
	// Attribution is the attribution: mapping, nil when none is defined.
	Attribution *Attribution
}

// ValidDimension checks a cost dimension name; the store owns the list, and
// the caller passes its check in so cost stays free of storage.
type ValidDimension func(name string) error

// Section is cost's part of the config directory: the budgets:,
// cost_anomalies: and attribution: keys, read into one CostConfig. valid
// checks the cost dimensions that filters and groupings name.
func Section(valid ValidDimension) *config.Section[*CostConfig] {
	return &config.Section[*CostConfig]{Name: "cost", Keys: []string{"budgets", "cost_anomalies", "attribution"},
		New: func() config.Decoder[*CostConfig] { return &costReader{cfg: &CostConfig{}, valid: valid} }}
}

// LoadCostConfig reads the cost section alone from the YAML files under
// paths (see Section and config.LoadSection).
func LoadCostConfig(paths []string, valid ValidDimension) (*CostConfig, []config.Problem, error) {
	return config.LoadSection(paths, Section(valid))
}

// costReader is one reading of the cost section.
type costReader struct {
	cfg   *CostConfig
	valid ValidDimension
}

// Decode reads one budgets: or cost_anomalies: list, or the attribution:
// mapping.
func (r *costReader) Decode(it config.Item) []config.Problem {
	if it.Key == "attribution" {
		return r.cfg.addAttribution(it.File, it.Node)
	}
	list := it.Node
	if list.Kind != yaml.SequenceNode {
		return []config.Problem{{File: it.File, Line: list.Line, Field: it.Key, Severity: config.Error, Message: "want a list"}}
	}
	var problems []config.Problem
	for j, item := range list.Content {
		field := fmt.Sprintf("%s[%d]", it.Key, j)
		if it.Key == "budgets" {
			b, p := readBudget(it.File, item, field, r.valid)
			problems = append(problems, p...)
			if b != nil {
				r.cfg.Budgets = append(r.cfg.Budgets, b)
			}
		} else {
			a, p := readAnomaly(it.File, item, field, r.valid)
			problems = append(problems, p...)
			if a != nil {
				r.cfg.Anomalies = append(r.cfg.Anomalies, a)
			}
		}
	}
	return problems
}

// Done reports budgets defined twice, across files.
func (r *costReader) Done() (*CostConfig, []config.Problem) {
	var problems []config.Problem
	names := map[string]string{}
	for _, b := range r.cfg.Budgets {
		if prev, ok := names["budget/"+b.Name]; ok {
			file, line := splitFileLine(b.File)
			problems = append(problems, config.Problem{File: file, Line: line, Field: "name", Severity: config.Error, Message: fmt.Sprintf("budget %q is also defined at %s", b.Name, prev)})
		}
		names["budget/"+b.Name] = b.File
	}
	return r.cfg, problems
}

func splitFileLine(s string) (string, int) {
	i := strings.LastIndexByte(s, ':')
	var line int
	fmt.Sscan(s[i+1:], &line)
	return s[:i], line
}

func readBudget(file string, n *yaml.Node, field string, valid ValidDimension) (*Budget, []config.Problem) {
	var y budgetYAML
	if p := config.DecodeStrict(file, n, field, &y); p != nil {
		return nil, []config.Problem{*p}
	}
	problem := func(sub, format string, args ...any) []config.Problem {
		return []config.Problem{{File: file, Line: config.Line(n, sub), Field: field + "." + sub, Severity: config.Error, Message: fmt.Sprintf(format, args...)}}
	}
	if y.Name == "" {
		return nil, problem("name", "is required")
	}
	b := &Budget{Name: y.Name, Tenant: y.Tenant, Period: Period(y.Period), Currency: y.Currency, Cost: Basis(y.Cost), Filter: y.Filter,
		Thresholds: y.Thresholds, Forecast: y.Forecast, File: fmt.Sprintf("%s:%d", file, n.Line)}
	if b.Period == "" {
		b.Period = Month
	}
	if b.Cost == "" {
		b.Cost = Effective
	}
	if b.Currency == "" {
		b.Currency = "USD"
	}
	if len(b.Thresholds) == 0 {
		b.Thresholds = []int{50, 80, 100}
	}
	amount, err := decimal.NewFromString(strings.TrimSpace(y.Amount))
	if err != nil {
		return nil, problem("amount", "%q is not a number", y.Amount)
	}
	b.Amount = amount
	if err := b.validate(); err != nil {
		sub, msg, _ := strings.Cut(err.Error(), ": ")
		return nil, problem(sub, "%s", msg)
	}
	for dim := range b.Filter {
		if err := valid(dim); err != nil {
			return nil, problem("filter", "%v", err)
		}
	}
	return b, nil
}

func readAnomaly(file string, n *yaml.Node, field string, valid ValidDimension) (*Anomaly, []config.Problem) {
	var y anomalyYAML
	if p := config.DecodeStrict(file, n, field, &y); p != nil {
		return nil, []config.Problem{*p}
	}
	problem := func(sub, format string, args ...any) []config.Problem {
		return []config.Problem{{File: file, Line: config.Line(n, sub), Field: field + "." + sub, Severity: config.Error, Message: fmt.Sprintf(format, args...)}}
	}
	if y.Name == "" {
		return nil, problem("name", "is required")
	}
	a := &Anomaly{Name: y.Name, Tenant: y.Tenant, GroupBy: y.GroupBy, Filter: y.Filter, WindowDays: y.WindowDays, Threshold: y.Threshold, Cost: Basis(y.Cost), File: fmt.Sprintf("%s:%d", file, n.Line)}
	if a.Cost == "" {
		a.Cost = Effective
	}
	if !a.Cost.valid() {
		return nil, problem("cost", "%q is not effective or billed", a.Cost)
	}
	if y.MinDailySpend != "" {
		d, err := decimal.NewFromString(y.MinDailySpend)
		if err != nil {
			return nil, problem("min_daily_spend", "%q is not a number", y.MinDailySpend)
		}
		a.MinDailySpend = d
	}
	if a.WindowDays < 0 || a.WindowDays == 1 || a.WindowDays > 366 {
		return nil, problem("window_days", "%d is not between 2 and 366", a.WindowDays)
	}
	for _, dim := range a.GroupBy {
		if err := valid(dim); err != nil {
			return nil, problem("group_by", "%v", err)
		}
	}
	for dim := range a.Filter {
		if err := valid(dim); err != nil {
			return nil, problem("filter", "%v", err)
		}
	}
	return a, nil
}
