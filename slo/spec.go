package slo

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/config"
	"github.com/vigil-dev/vigil/store"
)

// SLO is an objective compiled from either dialect.
type SLO struct {
	Name        string
	Tenant      string // "" is the default tenant
	Service     string
	Description string
	Objective   float64 // in [0, 1)
	Window      TimeWindow
	Method      BudgetingMethod
	SliceTarget float64
	SliceWindow time.Duration
	SLI         SLI
	Alerts      []AlertWindow
	MinEvents   uint64       // a window with fewer events never fires
	Policy      *AlertPolicy // nil: notify breaching and resolved, not no data
	File        string       // file:line of the definition
	// Labels are added to the SLO's alerts and exported rules (Sloth's and
	// Pyrra's labels); Vigil's own alert labels win where both name one.
	Labels map[string]string
	// AlertName names the burn-rate alert in exported Prometheus rules
	// (Sloth's alerting.name, Pyrra's alerting.name); "" is AlertName.
	AlertName string
	// Source says where Vigil found the SLI's queries when it wrote them
	// itself (a service mesh's metrics), for plan; "" otherwise.
	Source string
}

func (s *SLO) policy() AlertPolicy {
	if s.Policy == nil {
		return AlertPolicy{Breaching: true, Resolved: true}
	}
	return *s.Policy
}

// AlertPolicy says which states of an SLO's rules notify, as OpenSLO's
// AlertPolicy does. Vigil's own dialect notifies on breaching and resolved.
type AlertPolicy struct {
	Breaching bool     // a rule fires
	Resolved  bool     // a fired rule stops
	NoData    bool     // a rule's windows have no events
	Targets   []string // notification targets named by the policy
}

var nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

type alertYAML struct {
	Severity string  `yaml:"severity"`
	Long     string  `yaml:"long"`
	Short    string  `yaml:"short"`
	Factor   float64 `yaml:"factor"`
}

type nativeYAML struct {
	Name         string            `yaml:"name"`
	Tenant       string            `yaml:"tenant"`
	Description  string            `yaml:"description"`
	Service      string            `yaml:"service"`
	Operation    string            `yaml:"operation"`
	Model        string            `yaml:"model"`
	Attributes   map[string]string `yaml:"attributes"`
	Latency      string            `yaml:"latency"`
	Availability bool              `yaml:"availability"`
	Drift        string            `yaml:"drift"`
	Mesh         *meshYAML         `yaml:"mesh"`
	Logs         *logsYAML         `yaml:"logs"`
	Threshold    *struct {
		Attribute string   `yaml:"attribute"`
		Op        string   `yaml:"op"`
		Value     *float64 `yaml:"value"`
	} `yaml:"threshold"`
	Metric *struct {
		Good      string   `yaml:"good"`
		Bad       string   `yaml:"bad"`
		Total     string   `yaml:"total"`
		Histogram string   `yaml:"histogram"`
		LE        string   `yaml:"le"`
		Gauge     string   `yaml:"gauge"`
		Op        string   `yaml:"op"`
		Value     *float64 `yaml:"value"`
	} `yaml:"metric"`
	Objective string `yaml:"objective"`
	Window    string `yaml:"window"`
	Alerts    *struct {
		Page      *bool       `yaml:"page"`
		Ticket    *bool       `yaml:"ticket"`
		MinEvents uint64      `yaml:"min_events"`
		Windows   []alertYAML `yaml:"windows"`
	} `yaml:"alerts"`
}

// Section is the SLOs' part of the config directory: the slos: list of
// Vigil's dialect, OpenSLO documents (openslo/v1, openslo/v1alpha,
// openslo.com/v2alpha), whose references may cross files, Sloth's files
// (version: prometheus/v1 specs and sloth.slok.dev/v1 CRDs) and Pyrra's
// (pyrra.dev/v1alpha1 ServiceLevelObjectives). Problems carry
// file and line: errors for what is wrong, warnings for traps such as an
// alert rule that can never fire. evalStep is the analyzer's interval.
func Section(evalStep time.Duration) *config.Section[[]*SLO] {
	var docs []config.Kinds
	for _, v := range openSLOVersions {
		docs = append(docs, config.Kinds{APIVersion: v, Kinds: openSLOKindsOf[v]})
	}
	docs = append(docs, config.Kinds{APIVersion: slothAPIVersion, Kinds: []string{slothKind}},
		config.Kinds{APIVersion: pyrraAPIVersion, Kinds: []string{pyrraKind}})
	return &config.Section[[]*SLO]{Name: "slos", Keys: []string{"slos"}, Documents: docs,
		Formats: []config.Format{{Key: "version", Value: slothSpecVersion}},
		New: func() config.Decoder[[]*SLO] {
			return &sloReader{evalStep: evalStep, seen: map[string]string{}, openslo: newOpenSLO()}
		}}
}

// Load reads the SLOs alone from the YAML files under paths (see Section
// and config.LoadSection).
func Load(paths []string, evalStep time.Duration) ([]*SLO, []config.Problem, error) {
	return config.LoadSection(paths, Section(evalStep))
}

// sloReader is one reading of the SLO section.
type sloReader struct {
	evalStep time.Duration
	slos     []*SLO
	seen     map[string]string // name → file:line of its definition
	openslo  *openSLO
}

func (r *sloReader) Decode(it config.Item) []config.Problem {
	if it.Key == "" {
		switch av := config.Value(it.Node, "apiVersion"); {
		case av == nil, av.Value == slothAPIVersion:
			slos, problems := readSloth(it.File, it.Node, r.evalStep)
			return append(problems, r.add(it.File, slos...)...)
		case av.Value == pyrraAPIVersion:
			s, problems := readPyrra(it.File, it.Node, r.evalStep)
			if s == nil {
				return problems
			}
			return append(problems, r.add(it.File, s)...)
		}
		return r.openslo.add(it.File, it.Node)
	}
	list := it.Node
	if list.Kind != yaml.SequenceNode {
		return []config.Problem{{File: it.File, Line: list.Line, Field: "slos", Severity: config.Error, Message: "want a list"}}
	}
	var problems []config.Problem
	for i, item := range list.Content {
		s, ps := readNative(it.File, item, fmt.Sprintf("slos[%d]", i), r.evalStep)
		problems = append(problems, ps...)
		if s == nil {
			continue
		}
		if prev, ok := r.seen[s.Name]; ok {
			problems = append(problems, config.Problem{File: it.File, Line: item.Line, Field: fmt.Sprintf("slos[%d].name", i), Severity: config.Error, Message: fmt.Sprintf("%q is also defined at %s", s.Name, prev)})
			continue
		}
		r.seen[s.Name] = s.File
		r.slos = append(r.slos, s)
	}
	return problems
}

// add keeps SLOs read from a file of Sloth's or Pyrra's, each name once.
func (r *sloReader) add(file string, slos ...*SLO) []config.Problem {
	var problems []config.Problem
	for _, s := range slos {
		if prev, ok := r.seen[s.Name]; ok {
			_, line := splitWhere(s.File)
			problems = append(problems, config.Problem{File: file, Line: line, Field: "name", Severity: config.Error, Message: fmt.Sprintf("SLO %q is also defined at %s", s.Name, prev)})
			continue
		}
		r.seen[s.Name] = s.File
		r.slos = append(r.slos, s)
	}
	return problems
}

// Done compiles the OpenSLO objects, now that every file is read.
func (r *sloReader) Done() ([]*SLO, []config.Problem) {
	compiled := r.openslo.compile(r.evalStep)
	problems := uniqueProblems(r.openslo.problems)
	for _, s := range compiled {
		if prev, ok := r.seen[s.Name]; ok {
			file, line := splitWhere(s.File)
			problems = append(problems, config.Problem{File: file, Line: line, Field: "metadata.name", Severity: config.Error, Message: fmt.Sprintf("SLO %q is also defined at %s", s.Name, prev)})
			continue
		}
		r.seen[s.Name] = s.File
		r.slos = append(r.slos, s)
	}
	return r.slos, problems
}

// uniqueProblems drops repeats: an SLI or AlertPolicy is checked on its own
// and again by every SLO that refers to it.
func uniqueProblems(ps []config.Problem) []config.Problem {
	seen := map[config.Problem]bool{}
	out := ps[:0:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// splitWhere splits "file:line".
func splitWhere(where string) (string, int) {
	i := strings.LastIndexByte(where, ':')
	line, _ := strconv.Atoi(where[i+1:])
	return where[:i], line
}

// ParseObjective reads a ratio in [0, 1) such as 0.995, or a percentage in
// [0%, 100%) such as 99.5%.
func ParseObjective(s string) (float64, error) {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number or a percentage", s)
	}
	if pct {
		if v < 0 || v >= 100 {
			return 0, fmt.Errorf("%s is out of range [0%%,100%%)", s)
		}
		// Divided in decimal, so 99.9% is the float nearest 0.999, not
		// 99.9/100 = 0.9990000000000001.
		d, _ := decimal.NewFromString(strings.TrimSuffix(s, "%"))
		v, _ = d.Shift(-2).Float64()
		return v, nil
	}
	if v < 0 || v >= 1 {
		return 0, fmt.Errorf("%s is out of range [0,1) (write %s%% for a percentage)", s, s)
	}
	return v, nil
}

// readNative reads one item of a slos: list: what the SLO is, what a good
// event is, and when it alerts. Problems are reported at the item's lines;
// an SLO with an error is not returned.
func readNative(file string, n *yaml.Node, field string, evalStep time.Duration) (*SLO, []config.Problem) {
	var y nativeYAML
	if p := config.DecodeStrict(file, n, field, &y); p != nil {
		return nil, []config.Problem{*p}
	}
	r := &nativeReader{file: file, n: n, field: field}
	s := &SLO{Name: y.Name, Tenant: y.Tenant, Service: y.Service, Description: y.Description, Method: Occurrences, MinEvents: 0,
		File: fmt.Sprintf("%s:%d", file, n.Line)}
	r.objective(s, &y)
	r.goodEvents(s, &y)
	if len(r.problems) > 0 {
		return nil, r.problems
	}
	r.alerts(s, &y)
	if len(r.problems) > 0 {
		return nil, r.problems
	}
	return s, traps(s, file, config.Line(n, "objective"), field, config.Line(n, "window"), config.Line(n, "alerts"), evalStep)
}

// nativeReader gathers the problems of one native SLO at its lines.
type nativeReader struct {
	file     string
	n        *yaml.Node // the item of the slos: list
	field    string     // slos[i]
	problems []config.Problem
}

// errorAt reports an error at sub, a dotted path below the item.
func (r *nativeReader) errorAt(sub string, format string, args ...any) {
	r.problems = append(r.problems, config.Problem{File: r.file, Line: config.Line(r.n, strings.Split(sub, ".")...), Field: r.field + "." + sub,
		Severity: config.Error, Message: fmt.Sprintf(format, args...)})
}

// objective checks the name and service and reads the objective and its
// window (30 days unless given).
func (r *nativeReader) objective(s *SLO, y *nativeYAML) {
	if !nameRE.MatchString(y.Name) || len(y.Name) > 63 {
		r.errorAt("name", "%q must be a lower-case RFC 1123 label (a-z, 0-9, '-', at most 63)", y.Name)
	}
	if y.Service == "" {
		r.errorAt("service", "is required")
	}
	var err error
	if s.Objective, err = ParseObjective(y.Objective); err != nil {
		r.errorAt("objective", "%v", err)
	}
	if y.Window == "" {
		y.Window = "30d"
	}
	if d, err := ParseDuration(y.Window); err != nil {
		r.errorAt("window", "%v", err)
	} else {
		s.Window = TimeWindow{Duration: d, Rolling: true}
	}
}

// goodEvents reads the SLI: exactly one of latency, availability,
// threshold, metric, drift or logs says what a good event is; mesh says
// latency and availability are read from a mesh's metrics, not spans.
func (r *nativeReader) goodEvents(s *SLO, y *nativeYAML) {
	kinds := 0
	for _, set := range []bool{y.Latency != "", y.Availability, y.Threshold != nil, y.Metric != nil, y.Drift != "", y.Logs != nil} {
		if set {
			kinds++
		}
	}
	spans := SpanFilter{Operation: y.Operation, Model: y.Model, Attributes: y.Attributes}
	switch {
	case kinds > 1:
		r.errorAt("latency", "say what a good event is in one way: latency, availability, threshold, metric, drift or logs")
	case y.Mesh != nil:
		r.mesh(s, y)
	case y.Logs != nil:
		r.logs(s, y)
	case y.Latency != "":
		d, err := time.ParseDuration(y.Latency)
		if err != nil || d <= 0 {
			r.errorAt("latency", "%q is not a positive duration such as 800ms", y.Latency)
		}
		s.SLI = SpanLatency{SpanFilter: spans, Latency: d}
	case y.Availability:
		s.SLI = SpanAvailability{SpanFilter: spans}
	case y.Drift != "":
		s.SLI = DriftVerdicts{Monitor: y.Drift}
	case y.Threshold != nil:
		s.SLI = r.spanThreshold(spans, y.Threshold.Attribute, y.Threshold.Op, y.Threshold.Value)
	case y.Metric != nil:
		m := y.Metric
		var problems []config.Problem
		s.SLI, problems = readMetricSLI(m.Good, m.Bad, m.Total, m.Histogram, m.LE, m.Gauge, m.Op, m.Value, func(sub, msg string) config.Problem {
			return config.Problem{File: r.file, Line: config.Line(r.n, "metric", sub), Field: r.field + ".metric." + sub, Severity: config.Error, Message: msg}
		})
		r.problems = append(r.problems, problems...)
	default:
		r.errorAt("latency", "say what a good event is: latency: <threshold>, availability: true, threshold: {attribute, op, value}, metric: {good|bad, total}, drift: <monitor> or logs: {service, severity}")
	}
}

// spanThreshold reads a threshold: block, a SpanAttribute SLI.
func (r *nativeReader) spanThreshold(spans SpanFilter, attribute, op string, value *float64) SLI {
	parsed, ok := parseOp(op)
	if attribute == "" {
		r.errorAt("threshold", "attribute: name the numeric span attribute, e.g. gen_ai.server.time_to_first_token")
	}
	if !ok {
		r.errorAt("threshold.op", "%q is not one of lt, lte, gt, gte", op)
	}
	if value == nil {
		r.errorAt("threshold", "value: is required")
		return nil
	}
	return SpanAttribute{SpanFilter: spans, Attribute: attribute, Op: parsed, Threshold: *value}
}

// alerts reads the burn-rate rules: the windows given, or the workbook's
// for the SLO's window, less the page or ticket rules switched off.
func (r *nativeReader) alerts(s *SLO, y *nativeYAML) {
	page, ticket := true, true
	if a := y.Alerts; a != nil {
		if a.Page != nil {
			page = *a.Page
		}
		if a.Ticket != nil {
			ticket = *a.Ticket
		}
		s.MinEvents = a.MinEvents
	}
	if y.Alerts == nil || len(y.Alerts.Windows) == 0 {
		for _, w := range DefaultAlertWindows(s.Window.Duration) {
			if w.Severity == "page" && page || w.Severity == "ticket" && ticket {
				s.Alerts = append(s.Alerts, w)
			}
		}
		return
	}
	for i, w := range y.Alerts.Windows {
		sub := fmt.Sprintf("alerts.windows[%d]", i)
		long, err1 := ParseDuration(w.Long)
		short, err2 := ParseDuration(w.Short)
		switch {
		case err1 != nil:
			r.errorAt("alerts", "%s.long: %v", sub, err1)
		case err2 != nil:
			r.errorAt("alerts", "%s.short: %v", sub, err2)
		case short >= long:
			r.errorAt("alerts", "%s: the short window %s must be shorter than the long window %s", sub, w.Short, w.Long)
		case w.Factor <= 0:
			r.errorAt("alerts", "%s.factor: must be positive", sub)
		case w.Severity != "page" && w.Severity != "ticket":
			r.errorAt("alerts", "%s.severity: %q is not page or ticket", sub, w.Severity)
		default:
			s.Alerts = append(s.Alerts, AlertWindow{Severity: w.Severity, Long: long, Short: short, Factor: w.Factor,
				BudgetPercent: int(w.Factor * float64(long) / float64(s.Window.Duration) * 100)})
		}
	}
}

// traps warns of rules that can never fire and windows the evaluator
// cannot see; the lines are those of the objective, window and alerts.
func traps(s *SLO, file string, objectiveLine int, field string, windowLine, alertsLine int, evalStep time.Duration) []config.Problem {
	var problems []config.Problem
	for _, w := range s.Alerts {
		if !w.CanFire(s.Objective) {
			problems = append(problems, config.Problem{File: file, Line: objectiveLine, Field: field + ".objective", Severity: config.Warning,
				Message: fmt.Sprintf("the %s rule (burn rate %s over %s) can never fire: at %s a total outage burns at %s; lower the factor or raise the objective",
					w.Severity, formatFactor(w.Factor), formatDuration(w.Long), formatPercent(s.Objective), formatFactor(MaxBurnRate(s.Objective)))})
		}
		if w.Short < evalStep {
			problems = append(problems, config.Problem{File: file, Line: alertsLine, Field: field + ".alerts", Severity: config.Warning,
				Message: fmt.Sprintf("the %s rule's short window %s is shorter than the evaluation step %s", w.Severity, formatDuration(w.Short), evalStep)})
		}
	}
	if s.Window.Duration < evalStep {
		problems = append(problems, config.Problem{File: file, Line: windowLine, Field: field + ".window", Severity: config.Warning,
			Message: fmt.Sprintf("the window %s is shorter than the evaluation step %s", formatDuration(s.Window.Duration), evalStep)})
	}
	if s.SliceWindow > 0 && s.SliceWindow < evalStep {
		problems = append(problems, config.Problem{File: file, Line: objectiveLine, Field: field + ".timeSliceWindow", Severity: config.Warning,
			Message: fmt.Sprintf("the slice window %s is shorter than the evaluation step %s", formatDuration(s.SliceWindow), evalStep)})
	}
	return problems
}

// readMetricSLI reads a metric SLI in one of three shapes: counters (good
// or bad, and total), a histogram and its le bucket, or a gauge with a
// threshold. problem builds an error at a field of the metric block.
func readMetricSLI(good, bad, total, histogram, le, gauge, op string, value *float64, problem func(sub, msg string) config.Problem) (SLI, []config.Problem) {
	var problems []config.Problem
	check := func(sub, q string) {
		if _, err := compileQuery(q, false); err != nil {
			problems = append(problems, problem(sub, err.Error()))
		}
	}
	switch {
	case histogram != "":
		if good != "" || bad != "" || total != "" || gauge != "" {
			return nil, []config.Problem{problem("histogram", "a histogram SLI takes only histogram and le")}
		}
		return histogramRatio(histogram, le, problem)
	case gauge != "":
		if good != "" || bad != "" || total != "" {
			return nil, []config.Problem{problem("gauge", "a gauge SLI takes only gauge, op and value")}
		}
		parsed, ok := parseOp(op)
		check("gauge", gauge)
		if !ok {
			problems = append(problems, problem("op", fmt.Sprintf("%q is not one of lt, lte, gt, gte", op)))
		}
		if value == nil {
			return nil, append(problems, problem("value", "is required with a gauge"))
		}
		return MetricThreshold{Gauge: gauge, Op: parsed, Threshold: *value}, problems
	default:
		switch {
		case good != "" && bad != "":
			problems = append(problems, problem("good", "give good or bad, not both"))
		case good == "" && bad == "":
			problems = append(problems, problem("good", "give good (or bad) and total counters, a histogram and le, or a gauge with op and value"))
		case good != "":
			check("good", good)
		default:
			check("bad", bad)
		}
		if total == "" {
			problems = append(problems, problem("total", "is required with good or bad"))
		} else {
			check("total", total)
		}
		return MetricRatio{Good: good, Bad: bad, Total: total}, problems
	}
}

// histogramRatio compiles a histogram and the bound of its good bucket to
// counters: good events are the bucket's, all events the histogram's count.
func histogramRatio(histogram, le string, problem func(sub, msg string) config.Problem) (SLI, []config.Problem) {
	if _, err := strconv.ParseFloat(le, 64); err != nil {
		return nil, []config.Problem{problem("le", fmt.Sprintf("%q is not a bucket bound such as 0.8 (the le label of the good bucket)", le))}
	}
	ms, err := store.ParseSelector(histogram)
	if err != nil {
		return nil, []config.Problem{problem("histogram", err.Error())}
	}
	name, rest := splitSelector(ms)
	if name == "" {
		return nil, []config.Problem{problem("histogram", fmt.Sprintf("%q names no histogram: write its base name, e.g. http_request_duration_seconds{job=\"api\"}", histogram))}
	}
	return MetricRatio{Good: name + "_bucket{" + strings.Join(append(rest, fmt.Sprintf("le=%q", le)), ",") + "}", Total: name + "_count" + braces(rest)}, nil
}

// splitSelector returns a selector's metric name and its other matchers as
// written in PromQL.
func splitSelector(ms []*store.Matcher) (string, []string) {
	var name string
	var rest []string
	for _, m := range ms {
		if m.Name == store.MetricNameLabel && m.Type == store.MatchEqual {
			name = m.Value
			continue
		}
		rest = append(rest, fmt.Sprintf("%s%s%q", m.Name, [...]string{"=", "!=", "=~", "!~"}[m.Type], m.Value))
	}
	return name, rest
}

func braces(matchers []string) string {
	if len(matchers) == 0 {
		return ""
	}
	return "{" + strings.Join(matchers, ",") + "}"
}

// formatPercent writes a ratio as a percentage, rounded past float noise
// (1 - 0.9 is 0.09999999999999998).
func formatPercent(o float64) string {
	return strconv.FormatFloat(math.Round(o*100*1e9)/1e9, 'f', -1, 64) + "%"
}

// Plan describes what an SLO compiles to.
func (s *SLO) Plan() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s)\n", s.Name, s.File)
	fmt.Fprintf(&b, "  objective: %s of %s good over %s (%s)\n", formatPercent(s.Objective), map[bool]string{true: "slices", false: "events"}[s.Method == Timeslices], s.Window, s.Method)
	switch s.Method {
	case Timeslices:
		fmt.Fprintf(&b, "  slices: %s, good when at least %s of their events are good; slices without events are left out\n", formatDuration(s.SliceWindow), formatPercent(s.SliceTarget))
	case RatioTimeslices:
		fmt.Fprintf(&b, "  slices: %s; the SLI is the mean of their ratios; slices without events are left out\n", formatDuration(s.SliceWindow))
	}
	if s.Source != "" {
		fmt.Fprintf(&b, "  source: %s\n", s.Source)
	}
	fmt.Fprintf(&b, "  SLI: %s\n", s.SLI.Describe(s.Service))
	fmt.Fprintf(&b, "  rollup: good and total per minute; windows are summed from the rollups\n")
	fmt.Fprintf(&b, "  error budget: %s of %s may be bad\n", formatPercent(1-s.Objective), map[bool]string{true: "slices", false: "events"}[s.Method == Timeslices])
	for _, w := range s.Alerts {
		state := ""
		if !w.CanFire(s.Objective) {
			state = " — can never fire"
		}
		fmt.Fprintf(&b, "  alert %s%s\n", w, state)
	}
	if s.MinEvents > 0 {
		fmt.Fprintf(&b, "  alerts need at least %d events in the long window\n", s.MinEvents)
	}
	if len(s.Labels) > 0 {
		var ls []string
		for _, k := range slices.Sorted(maps.Keys(s.Labels)) {
			ls = append(ls, fmt.Sprintf("%s=%q", k, s.Labels[k]))
		}
		fmt.Fprintf(&b, "  labels on its alerts and rules: %s\n", strings.Join(ls, ", "))
	}
	if s.AlertName != "" {
		fmt.Fprintf(&b, "  exported alerts are named %s\n", s.AlertName)
	}
	return b.String()
}
