package slo

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/config"
)

// OpenSLO objects are collected from every file first and compiled after,
// because references (indicatorRef, metricSourceRef, alertPolicyRef,
// conditionRef, targetRef) may point into any file of the directory.

// openSLOVersions are the apiVersions Vigil reads.
var openSLOVersions = []string{"openslo/v1", "openslo/v1alpha", "openslo.com/v2alpha"}

// openSLOKinds are the kinds Vigil reads, and the kinds it recognises but
// has no use for, of openslo/v1 and openslo.com/v2alpha.
var openSLOKinds = []string{"SLO", "SLI", "DataSource", "Service", "AlertPolicy", "AlertCondition", "AlertNotificationTarget"}

type osMeta struct {
	Name        string            `yaml:"name"`
	DisplayName string            `yaml:"displayName"`
	Project     string            `yaml:"project"` // written by Nobl9's exports
	Labels      map[string]any    `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type osObject struct {
	APIVersion string    `yaml:"apiVersion"`
	Kind       string    `yaml:"kind"`
	Metadata   osMeta    `yaml:"metadata"`
	Spec       yaml.Node `yaml:"spec"`

	file string
	node *yaml.Node // the whole object
}

func (o *osObject) where() string { return fmt.Sprintf("%s:%d", o.file, o.node.Line) }

// v2 reports the openslo.com/v2alpha dialect: sli instead of indicator,
// no metricSource wrapper, durations in m h d w only.
func (o *osObject) v2() bool { return o.APIVersion == "openslo.com/v2alpha" }

// openSLO gathers objects by kind and name.
type openSLO struct {
	objects  map[string]map[string]*osObject // kind → name → object
	order    []*osObject                     // SLOs, in file order
	problems []config.Problem
}

func newOpenSLO() *openSLO { return &openSLO{objects: map[string]map[string]*osObject{}} }

// add reads one object; the registry hands it only the kinds of
// openSLOVersions it claims. Its problems are returned; those of
// compiling the objects it refers to come from compile.
func (set *openSLO) add(file string, doc *yaml.Node) []config.Problem {
	var o osObject
	// What does not decode is reported, and the rest is read on.
	problems := config.Decode(file, doc, "", &o)
	o.file, o.node = file, doc
	at := func(field, format string, args ...any) {
		problems = append(problems, config.Problem{File: file, Line: config.Line(doc, strings.Split(field, ".")...), Field: field, Severity: config.Error, Message: fmt.Sprintf(format, args...)})
	}
	if !nameRE.MatchString(o.Metadata.Name) || len(o.Metadata.Name) > 63 {
		at("metadata.name", "%q must be a lower-case RFC 1123 label (a-z, 0-9, '-', at most 63)", o.Metadata.Name)
		return problems
	}
	checkMetadata(&o, at)
	if o.Spec.Kind == 0 && o.Kind != "Service" { // a Service is its name alone
		at("spec", "is required")
		return problems
	}
	if d := config.Value(&o.Spec, "description"); d != nil && len(d.Value) > 1050 {
		at("spec.description", "is %d characters long; at most 1050", len(d.Value))
	}
	byName := set.objects[o.Kind]
	if byName == nil {
		byName = map[string]*osObject{}
		set.objects[o.Kind] = byName
	}
	if prev, ok := byName[o.Metadata.Name]; ok {
		at("metadata.name", "%s %q is also defined at %s", o.Kind, o.Metadata.Name, prev.where())
		return problems
	}
	byName[o.Metadata.Name] = &o
	if o.Kind == "SLO" {
		set.order = append(set.order, &o)
	}
	return problems
}

// lookup resolves a reference, or reports it at the referring field.
func (set *openSLO) lookup(from *osObject, line int, field, kind, name string) *osObject {
	if o := set.objects[kind][name]; o != nil {
		return o
	}
	var names []string
	for n := range set.objects[kind] {
		names = append(names, n)
	}
	sort.Strings(names)
	known := "none is defined"
	if len(names) > 0 {
		known = "defined: " + strings.Join(names, ", ")
	}
	set.problems = append(set.problems, config.Problem{File: from.file, Line: line, Field: field, Severity: config.Error,
		Message: fmt.Sprintf("no %s named %q (%s)", kind, name, known)})
	return nil
}

// The spec shapes, as each version writes them.

type osMetricSource struct { // v1: metricSource
	MetricSourceRef string         `yaml:"metricSourceRef"`
	Type            string         `yaml:"type"`
	Spec            map[string]any `yaml:"spec"`
}

type osMetric struct {
	MetricSource *osMetricSource `yaml:"metricSource"` // v1
	// v2alpha: no wrapper.
	DataSourceRef  string         `yaml:"dataSourceRef"`
	DataSourceSpec map[string]any `yaml:"dataSourceSpec"`
	Spec           map[string]any `yaml:"spec"`
	// v1alpha
	Source    string         `yaml:"source"`
	QueryType string         `yaml:"queryType"`
	Query     string         `yaml:"query"`
	Metadata  map[string]any `yaml:"metadata"`
}

type osRatio struct {
	Counter     *bool     `yaml:"counter"`
	Incremental *bool     `yaml:"incremental"` // v1alpha
	Good        *osMetric `yaml:"good"`
	Bad         *osMetric `yaml:"bad"`
	Total       *osMetric `yaml:"total"`
	RawType     string    `yaml:"rawType"`
	Raw         *osMetric `yaml:"raw"`
}

type osSLISpec struct {
	Description     string    `yaml:"description"`
	ThresholdMetric *osMetric `yaml:"thresholdMetric"`
	RatioMetric     *osRatio  `yaml:"ratioMetric"`
}

type osInlineSLI struct {
	Metadata osMeta    `yaml:"metadata"`
	Spec     osSLISpec `yaml:"spec"`
	// v1alpha writes the threshold metric straight under indicator.
	ThresholdMetric *osMetric `yaml:"thresholdMetric"`
}

type osTimeWindow struct {
	Duration  string `yaml:"duration"`
	Unit      string `yaml:"unit"`  // v1alpha
	Count     int    `yaml:"count"` // v1alpha
	IsRolling bool   `yaml:"isRolling"`
	Calendar  *struct {
		StartTime string `yaml:"startTime"`
		TimeZone  string `yaml:"timeZone"`
	} `yaml:"calendar"`
}

type osObjective struct {
	DisplayName     string       `yaml:"displayName"`
	Op              string       `yaml:"op"`
	Value           *float64     `yaml:"value"`
	Target          *float64     `yaml:"target"`
	TargetPercent   *float64     `yaml:"targetPercent"`
	TimeSliceTarget *float64     `yaml:"timeSliceTarget"`
	TimeSliceWindow string       `yaml:"timeSliceWindow"`
	Indicator       *osInlineSLI `yaml:"indicator"`
	IndicatorRef    string       `yaml:"indicatorRef"`
	SLI             *osInlineSLI `yaml:"sli"`
	SLIRef          string       `yaml:"sliRef"`
	CompositeWeight *float64     `yaml:"compositeWeight"`
	RatioMetrics    *osRatio     `yaml:"ratioMetrics"` // v1alpha
}

type osConditionSpec struct {
	Severity    string `yaml:"severity"`
	Description string `yaml:"description"`
	Condition   struct {
		Kind           string   `yaml:"kind"`
		Op             string   `yaml:"op"`
		Threshold      *float64 `yaml:"threshold"`
		LookbackWindow string   `yaml:"lookbackWindow"`
		AlertAfter     string   `yaml:"alertAfter"`
	} `yaml:"condition"`
}

type osTargetSpec struct {
	Target      string `yaml:"target"`
	Description string `yaml:"description"`
}

type osPolicySpec struct {
	Description        string `yaml:"description"`
	AlertWhenNoData    *bool  `yaml:"alertWhenNoData"`
	AlertWhenResolved  *bool  `yaml:"alertWhenResolved"`
	AlertWhenBreaching *bool  `yaml:"alertWhenBreaching"`
	Conditions         []struct {
		ConditionRef string          `yaml:"conditionRef"`
		Kind         string          `yaml:"kind"`
		Metadata     osMeta          `yaml:"metadata"`
		Spec         osConditionSpec `yaml:"spec"`
	} `yaml:"conditions"`
	NotificationTargets []struct {
		TargetRef string       `yaml:"targetRef"`
		Kind      string       `yaml:"kind"`
		Metadata  osMeta       `yaml:"metadata"`
		Spec      osTargetSpec `yaml:"spec"`
	} `yaml:"notificationTargets"`
}

type osSLOSpec struct {
	Description     string          `yaml:"description"`
	Service         string          `yaml:"service"`
	ServiceRef      string          `yaml:"serviceRef"` // v2alpha
	Indicator       *osInlineSLI    `yaml:"indicator"`
	IndicatorRef    string          `yaml:"indicatorRef"`
	SLI             *osInlineSLI    `yaml:"sli"`
	SLIRef          string          `yaml:"sliRef"`
	BudgetingMethod string          `yaml:"budgetingMethod"`
	TimeWindow      []osTimeWindow  `yaml:"timeWindow"`
	TimeWindows     []osTimeWindow  `yaml:"timeWindows"` // v1alpha
	Objectives      []osObjective   `yaml:"objectives"`
	AlertPolicies   []osPolicyEntry `yaml:"alertPolicies"`
}

type osPolicyEntry struct {
	AlertPolicyRef string       `yaml:"alertPolicyRef"`
	Kind           string       `yaml:"kind"`
	Metadata       osMeta       `yaml:"metadata"`
	Spec           osPolicySpec `yaml:"spec"`
}

// compiler turns one SLO object into Vigil SLOs, reporting at its lines.
type compiler struct {
	set      *openSLO
	o        *osObject
	evalStep time.Duration
}

func (c *compiler) errorAt(path, format string, args ...any) {
	c.report(config.Error, path, format, args...)
}

func (c *compiler) warnAt(path, format string, args ...any) {
	c.report(config.Warning, path, format, args...)
}

func (c *compiler) report(severity config.Severity, path, format string, args ...any) {
	c.set.problems = append(c.set.problems, config.Problem{File: c.o.file, Line: c.line(path), Field: path, Severity: severity, Message: fmt.Sprintf(format, args...)})
}

// line finds a dotted path such as spec.objectives[1].target in the
// object's node, as far as it exists.
func (c *compiler) line(path string) int {
	n := c.o.node
	for _, part := range strings.Split(path, ".") {
		name, index := part, -1
		if i := strings.IndexByte(part, '['); i > 0 && strings.HasSuffix(part, "]") {
			name = part[:i]
			index, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		v := config.Value(n, name)
		if v == nil {
			return n.Line
		}
		n = v
		if index >= 0 {
			if v.Kind != yaml.SequenceNode || index >= len(v.Content) {
				return n.Line
			}
			n = v.Content[index]
		}
	}
	return n.Line
}

// compile compiles every SLO object gathered.
func (set *openSLO) compile(evalStep time.Duration) []*SLO {
	// Every object is checked, used or not, so lint finds what is wrong
	// with an SLI or AlertPolicy before an SLO refers to it.
	for _, kind := range []string{"SLI", "DataSource", "AlertCondition", "AlertNotificationTarget", "AlertPolicy", "Service"} {
		for _, name := range sortedObjectNames(set.objects[kind]) {
			set.check(set.objects[kind][name])
		}
	}
	var out []*SLO
	for _, o := range set.order {
		c := &compiler{set: set, o: o, evalStep: evalStep}
		out = append(out, c.compileSLO()...)
	}
	return out
}

func sortedObjectNames(m map[string]*osObject) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// check decodes an object's spec strictly, reporting what is malformed.
func (set *openSLO) check(o *osObject) {
	var v any
	switch o.Kind {
	case "SLI":
		v = &osSLISpec{}
	case "AlertCondition":
		v = &osConditionSpec{}
	case "AlertNotificationTarget":
		v = &osTargetSpec{}
	case "AlertPolicy":
		v = &osPolicySpec{}
	case "DataSource":
		v = &osDataSourceSpec{}
	case "Service":
		v = &struct {
			Description string `yaml:"description"`
		}{}
	}
	if o.Spec.Kind == 0 {
		return // a Service without spec
	}
	// Every decoding problem is reported, and what did decode is checked.
	set.problems = append(set.problems, config.Decode(o.file, &o.Spec, "spec", v)...)
	// What can be judged without an SLO; an SLO using the object repeats
	// these problems, and Load reports each once.
	c := &compiler{set: set, o: o}
	switch spec := v.(type) {
	case *osSLISpec:
		at, scratch := &sliSite{c: c, path: "spec"}, &SLO{}
		switch {
		case spec.RatioMetric != nil && spec.ThresholdMetric != nil:
			c.errorAt("spec", "give thresholdMetric or ratioMetric, not both")
		case spec.RatioMetric != nil:
			at.ratio(scratch, spec.RatioMetric)
		case spec.ThresholdMetric != nil:
			at.threshold(scratch, spec.ThresholdMetric, LessOrEqual, 0)
		default:
			c.errorAt("spec", "an SLI has thresholdMetric or ratioMetric")
		}
	case *osConditionSpec:
		c.condition("spec", *spec, 0)
	case *osPolicySpec:
		c.policy("spec", *spec, 0)
	case *osTargetSpec:
		if spec.Target == "" {
			c.errorAt("spec.target", "is required: where notifications go, e.g. email or pagerduty")
		}
	case *osDataSourceSpec:
		if spec.Type == "" {
			c.errorAt("spec.type", "is required: the kind of source, e.g. Prometheus")
		}
		if spec.ConnectionDetails.Kind == 0 {
			c.errorAt("spec.connectionDetails", "is required: how to reach the source, any YAML (Vigil reads its own store and needs none, e.g. {})")
		}
	}
}

// osDataSourceSpec is a DataSource's spec, also written inline in v2alpha
// (dataSourceSpec). connectionDetails is free-form: any YAML, a mapping or
// a list.
type osDataSourceSpec struct {
	Type              string    `yaml:"type"`
	Description       string    `yaml:"description"`
	ConnectionDetails yaml.Node `yaml:"connectionDetails"`
}

// compileSLO compiles one SLO object: one Vigil SLO per objective, or none
// when any of them has an error (half an SLO is not evaluated).
func (c *compiler) compileSLO() []*SLO {
	o := c.o
	var spec osSLOSpec
	before := len(c.set.problems)
	// A field Vigil does not know is reported with everything else wrong
	// with the SLO, not instead of it.
	c.set.problems = append(c.set.problems, config.Decode(o.file, &o.Spec, "spec", &spec)...)
	parts := c.sloParts(spec)
	parts.sliSpec, parts.sliAt = c.indicator(spec)
	if len(spec.Objectives) == 0 {
		c.errorAt("spec.objectives", "want at least one objective")
	}
	parts.alerts, parts.policy = c.alertPolicies(spec.AlertPolicies, parts.base.Window.Duration)
	var out []*SLO
	for i, obj := range spec.Objectives {
		if s := c.objectiveSLO(parts, i, len(spec.Objectives), obj); s != nil {
			out = append(out, s)
		}
	}
	if len(c.set.problems) > before && config.HasErrors(c.set.problems[before:]) {
		return nil // every problem is reported, but half an SLO is not evaluated
	}
	return out
}

// sloParts is what every objective of an SLO object shares.
type sloParts struct {
	base    SLO    // name, service, tenant, window and budgeting method
	wfield  string // where the time window is written
	sliSpec *osSLISpec
	sliAt   *sliSite
	alerts  []AlertWindow // nil: the workbook's
	policy  *AlertPolicy
}

// sloParts reads the SLO's name, service and tenant, its one time window
// and its budgeting method.
func (c *compiler) sloParts(spec osSLOSpec) sloParts {
	o := c.o
	p := sloParts{base: SLO{Name: o.Metadata.Name, Service: c.service(spec), Description: spec.Description, File: o.where()}}
	if t, ok := o.Metadata.Labels["tenant"].(string); ok {
		p.base.Tenant = t
	}
	windows, wfield := spec.TimeWindow, "spec.timeWindow"
	if o.APIVersion == "openslo/v1alpha" {
		windows, wfield = spec.TimeWindows, "spec.timeWindows"
	}
	p.wfield = wfield
	if len(windows) != 1 {
		c.errorAt(wfield, "want exactly one time window, found %d", len(windows))
	} else {
		p.base.Window = c.window(wfield+"[0]", windows[0])
	}
	switch m := BudgetingMethod(spec.BudgetingMethod); m {
	case RatioTimeslices:
		if o.APIVersion == "openslo/v1alpha" {
			c.errorAt("spec.budgetingMethod", "openslo/v1alpha has Occurrences and Timeslices; RatioTimeslices came with openslo/v1")
		}
		p.base.Method = m
	case Occurrences, Timeslices:
		p.base.Method = m
	case "":
		c.errorAt("spec.budgetingMethod", "is required: Occurrences, Timeslices or RatioTimeslices")
	default:
		c.errorAt("spec.budgetingMethod", "%q is not Occurrences, Timeslices or RatioTimeslices", spec.BudgetingMethod)
	}
	return p
}

// service reads the OpenSLO Service the SLO belongs to: spec.service, or
// in v2alpha spec.serviceRef as the go-sdk writes it (spec.service as its
// older spec text does). It groups the SLO; the spans a Vigil source
// counts are those of the source's own service when it names one.
func (c *compiler) service(spec osSLOSpec) string {
	field := "spec.service"
	switch {
	case !c.o.v2() && spec.ServiceRef != "":
		c.errorAt("spec.serviceRef", "is openslo.com/v2alpha's; %s names the service with service", c.o.APIVersion)
	case spec.Service != "" && spec.ServiceRef != "":
		c.errorAt("spec.serviceRef", "give serviceRef or service, not both")
	case c.o.v2():
		field = "spec.serviceRef"
		if spec.ServiceRef == "" {
			return c.require(field, spec.Service)
		}
		return spec.ServiceRef
	}
	return c.require(field, spec.Service)
}

// require reports an empty value as a required field.
func (c *compiler) require(field, v string) string {
	if v == "" {
		c.errorAt(field, "is required")
	}
	return v
}

// indicator finds the SLO's SLI: inline, or by reference to an SLI object
// (perhaps in another file). v1alpha may leave it to the objectives'
// ratioMetrics; composite SLOs (an indicator per objective) are refused.
// The site says where the SLI's spec is written, for its problems.
func (c *compiler) indicator(spec osSLOSpec) (*osSLISpec, *sliSite) {
	o := c.o
	indicator, ref, ifield := spec.Indicator, spec.IndicatorRef, "spec.indicator"
	if o.v2() {
		indicator, ref, ifield = spec.SLI, spec.SLIRef, "spec.sli"
	}
	composite := false
	for _, obj := range spec.Objectives {
		composite = composite || obj.Indicator != nil || obj.IndicatorRef != "" || obj.SLI != nil || obj.SLIRef != ""
	}
	var sliSpec *osSLISpec
	sliAt := &sliSite{c: c, path: ifield + ".spec"} // where the SLI's spec is written
	switch {
	case composite:
		c.errorAt("spec.objectives", "composite SLOs (an indicator per objective) are not supported; write one SLO per indicator")
	case indicator != nil && ref != "":
		c.errorAt(ifield, "give the indicator inline or by reference (%sRef), not both", ifield[5:])
	case indicator != nil:
		sliSpec = &indicator.Spec
		if o.APIVersion == "openslo/v1alpha" {
			sliSpec, sliAt.path = &osSLISpec{ThresholdMetric: indicator.ThresholdMetric}, ifield
		}
	case ref != "":
		if sli := c.set.lookup(o, c.line(ifield+"Ref"), ifield+"Ref", "SLI", ref); sli != nil {
			var s osSLISpec
			if config.DecodeStrict(sli.file, &sli.Spec, "spec", &s) == nil { // its problems are reported by check
				sliSpec, sliAt = &s, &sliSite{c: &compiler{set: c.set, o: sli, evalStep: c.evalStep}, path: "spec"}
			}
		}
	case o.APIVersion == "openslo/v1alpha":
		// v1alpha puts ratio metrics on the objectives.
	default:
		c.errorAt(ifield, "an SLO needs an indicator: %s (inline) or %sRef", ifield[5:], ifield[5:])
	}
	if o.APIVersion == "openslo/v1alpha" && indicator != nil && slices.ContainsFunc(spec.Objectives, func(obj osObjective) bool { return obj.RatioMetrics != nil }) {
		c.errorAt(ifield, "give an indicator or the objectives' ratioMetrics, not both")
	}
	return sliSpec, sliAt
}

// objectiveSLO compiles objective i of n into an SLO, named by the
// objective's displayName (or index) when there are several; nil when the
// objective has an error.
func (c *compiler) objectiveSLO(p sloParts, i, n int, obj osObjective) *SLO {
	field := fmt.Sprintf("spec.objectives[%d]", i)
	s := p.base
	if n > 1 {
		suffix := strconv.Itoa(i)
		if slug := slugRE.ReplaceAllString(strings.ToLower(obj.DisplayName), "-"); strings.Trim(slug, "-") != "" {
			suffix = strings.Trim(slug, "-")
		}
		s.Name = p.base.Name + "-" + suffix
		if len(s.Name) > 63 {
			s.Name = s.Name[:63]
		}
	}
	s.File = fmt.Sprintf("%s:%d", c.o.file, c.line(field))
	if p.policy != nil {
		policy := *p.policy
		s.Policy = &policy
	}
	if !c.objective(&s, field, obj, p.sliSpec, p.sliAt) {
		return nil
	}
	if p.alerts == nil {
		s.Alerts = DefaultAlertWindows(s.Window.Duration)
	} else {
		s.Alerts = p.alerts
	}
	c.set.problems = append(c.set.problems, traps(&s, c.o.file, c.line(field), field, c.line(p.wfield), c.line("spec.alertPolicies"), c.evalStep)...)
	return &s
}

var slugRE = regexp.MustCompile(`[^a-z0-9]+`)

func (c *compiler) window(field string, w osTimeWindow) TimeWindow {
	duration := w.Duration
	if c.o.APIVersion == "openslo/v1alpha" {
		var ok bool
		if duration, ok = v1alphaDuration(w.Unit, w.Count); !ok {
			c.errorAt(field, "want unit (Second, Day, Week, Month or Quarter, as openslo/v1alpha has them) and a positive count, in whole minutes for seconds; got %d %q", w.Count, w.Unit)
			return TimeWindow{}
		}
	} else if c.o.v2() && duration != "" && strings.ContainsAny(duration[len(duration)-1:], "MQY") {
		c.errorAt(field+".duration", "%q: openslo.com/v2alpha durations are in m, h, d or w", duration)
		return TimeWindow{}
	}
	switch {
	case w.IsRolling && w.Calendar != nil:
		c.errorAt(field+".calendar", "a rolling window has no calendar (set isRolling: false for a calendar window)")
	case w.IsRolling:
		d, err := ParseDuration(duration)
		if err != nil {
			c.errorAt(field+".duration", "%v", err)
			return TimeWindow{}
		}
		return TimeWindow{Duration: d, Rolling: true}
	case w.Calendar == nil:
		c.errorAt(field, "a calendar window (isRolling: false) needs calendar: {startTime, timeZone}")
	default:
		tw, err := CalendarWindow(duration, w.Calendar.StartTime, w.Calendar.TimeZone)
		if err != nil {
			c.errorAt(field+".calendar", "%v", err)
		}
		return tw
	}
	return TimeWindow{}
}

func deref(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}

// v1alphaDuration writes a v1alpha window (unit and count) as a duration
// shorthand; seconds become minutes, the finest step Vigil evaluates.
func v1alphaDuration(unit string, count int) (string, bool) {
	if unit == "Second" {
		if count%60 != 0 {
			return "", false
		}
		unit, count = "Minute", count/60
	}
	u := map[string]string{"Minute": "m", "Day": "d", "Week": "w", "Month": "M", "Quarter": "Q"}[unit]
	return strconv.Itoa(count) + u, u != "" && count > 0
}

// objective fills s from one objective and the SLI, reporting problems.
func (c *compiler) objective(s *SLO, field string, obj osObjective, sliSpec *osSLISpec, at *sliSite) bool {
	before := len(c.set.problems)
	switch {
	case obj.Target != nil && obj.TargetPercent != nil:
		c.errorAt(field+".target", "give target or targetPercent, not both")
	case obj.Target != nil:
		if *obj.Target < 0 || *obj.Target >= 1 {
			c.errorAt(field+".target", "%s is out of range [0,1)", strconv.FormatFloat(*obj.Target, 'g', -1, 64))
		}
		s.Objective = *obj.Target
	case obj.TargetPercent != nil:
		if *obj.TargetPercent < 0 || *obj.TargetPercent >= 100 {
			c.errorAt(field+".targetPercent", "%s is out of range [0,100)", strconv.FormatFloat(*obj.TargetPercent, 'g', -1, 64))
		}
		s.Objective, _ = decimal.NewFromFloat(*obj.TargetPercent).Shift(-2).Float64() // 99.9 is 0.999, not 0.9990000000000001
	default:
		c.errorAt(field, "target (or targetPercent) is required")
	}
	switch s.Method {
	case Timeslices:
		if obj.TimeSliceTarget == nil || *obj.TimeSliceTarget <= 0 || *obj.TimeSliceTarget > 1 {
			c.errorAt(field+".timeSliceTarget", "Timeslices needs a timeSliceTarget in (0,1]")
		} else {
			s.SliceTarget = *obj.TimeSliceTarget
		}
		fallthrough
	case RatioTimeslices:
		if c.o.APIVersion == "openslo/v1alpha" && obj.TimeSliceWindow == "" {
			obj.TimeSliceWindow = "1m" // v1alpha has no timeSliceWindow
		}
		d, err := ParseDuration(obj.TimeSliceWindow)
		switch {
		case obj.TimeSliceWindow == "":
			c.errorAt(field+".timeSliceWindow", "%s needs a timeSliceWindow, e.g. 5m", s.Method)
		case err != nil:
			c.errorAt(field+".timeSliceWindow", "%v", err)
		case d%time.Minute != 0:
			c.errorAt(field+".timeSliceWindow", "slices are whole minutes")
		default:
			s.SliceWindow = d
		}
	}
	if obj.RatioMetrics != nil { // v1alpha
		sliSpec, at = &osSLISpec{RatioMetric: obj.RatioMetrics}, &sliSite{c: c, path: field}
	}
	if sliSpec == nil {
		if c.o.APIVersion == "openslo/v1alpha" {
			c.errorAt(field, "no indicator: set spec.indicator, or ratioMetrics on the objective")
		}
		if obj.Op != "" && obj.Value == nil {
			c.errorAt(field+".op", "op without a value: a threshold objective needs both, a ratio objective neither")
		}
		return false
	}
	switch {
	case sliSpec.ThresholdMetric != nil && sliSpec.RatioMetric != nil:
		c.errorAt(field, "the indicator has both thresholdMetric and ratioMetric; give one")
	case sliSpec.RatioMetric != nil:
		c.ratioObjective(field, obj)
		at.ratio(s, sliSpec.RatioMetric)
	case sliSpec.ThresholdMetric != nil:
		op, ok := parseOp(obj.Op)
		if !ok {
			c.errorAt(field+".op", "a threshold metric needs op: lt, lte, gt or gte (got %q)", obj.Op)
		}
		if obj.Value == nil {
			c.errorAt(field+".value", "a threshold metric needs the value good events stay within")
		}
		if !config.HasErrors(c.set.problems[before:]) {
			if msg := at.threshold(s, sliSpec.ThresholdMetric, op, *obj.Value); msg != "" {
				c.errorAt(field+".op", "%s", msg)
			}
		}
	default:
		c.errorAt(field, "the indicator has neither thresholdMetric nor ratioMetric")
	}
	return !config.HasErrors(c.set.problems[before:])
}

// ratioObjective reports the op and value a ratio objective has no use
// for, each at its own field. openslo/v1alpha's schema asks every objective
// for a value, so there a ratio's value is only warned of as ignored.
func (c *compiler) ratioObjective(field string, obj osObjective) {
	if obj.Op != "" {
		c.errorAt(field+".op", "a ratio objective has no op: op and value compare a threshold metric's values")
	}
	switch {
	case obj.Value == nil:
	case c.o.APIVersion == "openslo/v1alpha":
		c.warnAt(field+".value", "is ignored: a ratio objective counts good events against its target, and compares no value")
	default:
		c.errorAt(field+".value", "a ratio objective has no value: op and value compare a threshold metric's values")
	}
}

// sliSite is where an SLI's spec is written: in the SLO, or in an SLI
// object of its own (perhaps in another file), so problems point there.
type sliSite struct {
	c    *compiler
	path string // the spec holding thresholdMetric or ratioMetric
}

// source resolves a metric to its data source type and query spec.
func (c *compiler) source(field string, m *osMetric) (typ string, spec map[string]any) {
	switch {
	case m.MetricSource != nil:
		typ, spec = m.MetricSource.Type, m.MetricSource.Spec
		if len(spec) == 0 {
			c.errorAt(field+".metricSource.spec", "is required: the query (for Vigil's spans, at least the service or operation)")
		}
		if ref := m.MetricSource.MetricSourceRef; ref != "" {
			if ds := c.set.lookup(c.o, c.line(field+".metricSource.metricSourceRef"), field+".metricSource.metricSourceRef", "DataSource", ref); ds != nil && typ == "" {
				if t := config.Value(&ds.Spec, "type"); t != nil {
					typ = t.Value
				}
			}
		}
	case m.DataSourceRef != "" || m.DataSourceSpec != nil:
		if m.DataSourceRef != "" && m.DataSourceSpec != nil {
			c.errorAt(field+".dataSourceRef", "give dataSourceRef or dataSourceSpec, not both")
		}
		spec = m.Spec
		if m.DataSourceRef != "" {
			if ds := c.set.lookup(c.o, c.line(field+".dataSourceRef"), field+".dataSourceRef", "DataSource", m.DataSourceRef); ds != nil {
				if t := config.Value(&ds.Spec, "type"); t != nil {
					typ = t.Value
				}
			}
		} else if t, ok := m.DataSourceSpec["type"].(string); ok {
			typ = t
		}
	case m.Source != "": // v1alpha
		typ, spec = m.Source, map[string]any{"query": m.Query}
	default:
		c.errorAt(field, "no metric source: want metricSource {type or metricSourceRef, spec}")
	}
	return strings.ToLower(typ), spec
}

// query reads a Prometheus source's spec.query, a PromQL query that the
// engine parses here, so lint reports what it would refuse.
func (c *compiler) query(field, typ string, spec map[string]any) string {
	q, _ := spec["query"].(string)
	if q == "" {
		c.errorAt(field, "a %s metric needs spec.query: a PromQL query", typ)
		return ""
	}
	if _, err := compileQuery(q, false); err != nil {
		c.errorAt(c.queryField(field), "%v", err)
		return ""
	}
	return q
}

// queryField is where a metric at field writes its query, by version.
func (c *compiler) queryField(field string) string {
	switch c.o.APIVersion {
	case "openslo/v1alpha":
		return field + ".query"
	case "openslo.com/v2alpha":
		return field + ".spec.query"
	}
	return field + ".metricSource.spec.query"
}

// spanFilter reads a Vigil span source's spec into f (a ratio's total, then
// its good or bad part, which may narrow it).
func (c *compiler) spanFilter(field string, spec map[string]any, f *SpanFilter) (status string) {
	for k, v := range spec {
		switch k {
		case "service":
			// The telemetry service.name, which may differ from the OpenSLO
			// Service the SLO belongs to.
			if sv := fmt.Sprint(v); f.Service != "" && sv != f.Service {
				c.errorAt(field, "spec.service %q differs from the total's %q: a ratio counts the spans of one service", sv, f.Service)
			} else {
				f.Service = sv
			}
		case "operation":
			f.Operation = fmt.Sprint(v)
		case "model":
			f.Model = fmt.Sprint(v)
		case "status":
			status = fmt.Sprint(v)
		case "field":
		case "attributes":
			m, ok := v.(map[string]any)
			if !ok {
				c.errorAt(field, "spec.attributes must be a map of attribute to value")
				continue
			}
			f.Attributes = map[string]string{}
			for ak, av := range m {
				f.Attributes[ak] = fmt.Sprint(av)
			}
		default:
			c.errorAt(field, "spec.%s: a Vigil span source takes service, operation, model, attributes, field and status", k)
		}
	}
	return status
}

func isSpans(typ string) bool { return typ == "vigil" || typ == "spans" }

func (at *sliSite) ratio(s *SLO, r *osRatio) {
	c, field := at.c, at.path+".ratioMetric"
	if c.o.APIVersion == "openslo/v1alpha" {
		field = at.path + ".ratioMetrics"
	}
	if r.Raw != nil {
		at.raw(s, field, r)
		return
	}
	counter := r.Counter
	if counter == nil {
		counter = r.Incremental
	}
	switch {
	case r.Total == nil:
		c.errorAt(field+".total", "is required")
		return
	case (r.Good == nil) == (r.Bad == nil):
		c.errorAt(field+".good", "give good or bad, exactly one")
		return
	}
	which, part := "good", r.Good
	if r.Bad != nil {
		which, part = "bad", r.Bad
	}
	ttyp, tspec := c.source(field+".total", r.Total)
	ptyp, pspec := c.source(field+"."+which, part)
	switch {
	case ttyp != ptyp:
		c.errorAt(field+"."+which, "comes from %q but total from %q; both must come from one source", ptyp, ttyp)
	case isSpans(ttyp):
		// Spans: total is the filter, good or bad names the status.
		var spans SpanFilter
		c.spanFilter(field+".total", tspec, &spans)
		status := strings.ToLower(c.spanFilter(field+"."+which, pspec, &spans))
		switch {
		case which == "good" && status == "ok", which == "bad" && status == "error":
			s.SLI = SpanAvailability{SpanFilter: spans}
		default:
			c.errorAt(field+"."+which, "a Vigil span ratio counts availability: good has spec.status: ok, or bad has spec.status: error")
		}
	case isLogs(ttyp):
		at.logRatio(s, field, which, tspec, pspec)
	case ttyp == "prometheus":
		// counter: false says the queries hold rates though they read no
		// range (recording rules); counter: true changes nothing, as a
		// query that reads a range is a rate whatever the flag says.
		m := MetricRatio{Total: c.query(field+".total", ttyp, tspec), Rates: counter != nil && !*counter}
		if which == "good" {
			m.Good = c.query(field+".good", ptyp, pspec)
		} else {
			m.Bad = c.query(field+".bad", ptyp, pspec)
		}
		s.SLI = m
	default:
		c.errorAt(field+".total", "data source type %q is not supported: Vigil reads Prometheus (PromQL queries over the metrics it stores), Vigil (its spans) and vigil-logs (its log lines)", ttyp)
	}
}

// raw reads a precomputed ratio: rawType says whether raw is the share of
// successes or of failures.
func (at *sliSite) raw(s *SLO, field string, r *osRatio) {
	c := at.c
	if r.Good != nil || r.Bad != nil || r.Total != nil {
		c.errorAt(field+".raw", "give raw (a precomputed ratio) or good or bad and total, not both")
		return
	}
	if r.RawType != "success" && r.RawType != "failure" {
		c.errorAt(field+".rawType", "%q: say whether raw is the ratio of successes or of failures (rawType: success or failure)", r.RawType)
		return
	}
	typ, spec := c.source(field+".raw", r.Raw)
	if typ != "prometheus" {
		c.errorAt(field+".raw", "data source type %q is not supported for a raw ratio: Vigil reads it from Prometheus queries over the metrics it stores", typ)
		return
	}
	if q := c.query(field+".raw", typ, spec); q != "" {
		s.SLI = RawRatio{Query: q, Failure: r.RawType == "failure"}
	}
}

// threshold reads a threshold metric against the objective's op and
// value; it returns what is wrong with the op for this metric, if anything.
func (at *sliSite) threshold(s *SLO, m *osMetric, op Op, value float64) (opProblem string) {
	c, mfield := at.c, at.path+".thresholdMetric"
	typ, spec := c.source(mfield, m)
	switch {
	case isSpans(typ):
		var spans SpanFilter
		c.spanFilter(mfield, spec, &spans)
		f, _ := spec["field"].(string)
		if f == "" || f == "duration" {
			if op != LessThan && op != LessOrEqual {
				return "a latency threshold counts requests faster than the value: op lt or lte"
			}
			s.SLI = SpanLatency{SpanFilter: spans, Latency: time.Duration(value * float64(time.Second))}
			return ""
		}
		s.SLI = SpanAttribute{SpanFilter: spans, Attribute: f, Op: op, Threshold: value}
	case typ == "prometheus":
		s.SLI = MetricThreshold{Gauge: c.query(mfield, typ, spec), Op: op, Threshold: value}
	default:
		c.errorAt(mfield, "data source type %q is not supported: Vigil reads Prometheus (PromQL queries over the metrics it stores) and Vigil (its spans)", typ)
	}
	return ""
}

// alertPolicies turns AlertPolicies into rules; nil rules mean "use the
// workbook's".
func (c *compiler) alertPolicies(entries []osPolicyEntry, period time.Duration) ([]AlertWindow, *AlertPolicy) {
	if len(entries) == 0 {
		return nil, nil
	}
	var rules []AlertWindow
	policy := &AlertPolicy{}
	for i, e := range entries {
		field := fmt.Sprintf("spec.alertPolicies[%d]", i)
		pc, pfield, spec := c, field+".spec", e.Spec
		if e.AlertPolicyRef != "" && e.Kind != "" {
			c.errorAt(field, "give alertPolicyRef or an inline policy (kind, metadata, spec), not both")
			continue
		}
		if e.AlertPolicyRef != "" {
			ap := c.set.lookup(c.o, c.line(field+".alertPolicyRef"), field+".alertPolicyRef", "AlertPolicy", e.AlertPolicyRef)
			if ap == nil || config.DecodeStrict(ap.file, &ap.Spec, "spec", &spec) != nil {
				continue // reported by lookup, or by check
			}
			pc, pfield = &compiler{set: c.set, o: ap, evalStep: c.evalStep}, "spec"
		} else if e.Kind != "AlertPolicy" {
			c.errorAt(field, "an inline alert policy has kind: AlertPolicy (or use alertPolicyRef)")
			continue
		}
		w, p, ok := pc.policy(pfield, spec, period)
		if ok {
			rules = append(rules, w)
		}
		policy.Breaching = policy.Breaching || p.Breaching
		policy.Resolved = policy.Resolved || p.Resolved
		policy.NoData = policy.NoData || p.NoData
		policy.Targets = append(policy.Targets, p.Targets...)
	}
	return rules, policy
}

// policy reads one AlertPolicy spec written at pfield of c's object.
func (c *compiler) policy(pfield string, spec osPolicySpec, period time.Duration) (AlertWindow, AlertPolicy, bool) {
	flag := func(b *bool, def bool) bool {
		if b == nil {
			return def
		}
		return *b
	}
	p := AlertPolicy{Breaching: flag(spec.AlertWhenBreaching, true), Resolved: flag(spec.AlertWhenResolved, true), NoData: flag(spec.AlertWhenNoData, false)}
	if len(spec.NotificationTargets) == 0 {
		c.errorAt(pfield+".notificationTargets", "want at least one notification target")
	}
	for j, t := range spec.NotificationTargets {
		tfield := fmt.Sprintf("%s.notificationTargets[%d]", pfield, j)
		switch {
		case t.TargetRef != "":
			if c.set.lookup(c.o, c.line(tfield+".targetRef"), tfield+".targetRef", "AlertNotificationTarget", t.TargetRef) != nil {
				p.Targets = append(p.Targets, t.TargetRef)
			}
		case t.Kind != "AlertNotificationTarget":
			c.errorAt(tfield, "an inline target has kind: AlertNotificationTarget (or use targetRef)")
		case t.Spec.Target == "":
			c.errorAt(tfield+".spec.target", "is required")
		default:
			p.Targets = append(p.Targets, t.Metadata.Name)
		}
	}
	if len(spec.Conditions) != 1 {
		c.errorAt(pfield+".conditions", "want exactly one condition, found %d", len(spec.Conditions))
		return AlertWindow{}, p, false
	}
	cond := spec.Conditions[0]
	cc, cfield, cspec := c, pfield+".conditions[0].spec", cond.Spec
	switch {
	case cond.ConditionRef != "":
		ac := c.set.lookup(c.o, c.line(pfield+".conditions[0].conditionRef"), pfield+".conditions[0].conditionRef", "AlertCondition", cond.ConditionRef)
		if ac == nil || config.DecodeStrict(ac.file, &ac.Spec, "spec", &cspec) != nil {
			return AlertWindow{}, p, false
		}
		cc, cfield = &compiler{set: c.set, o: ac, evalStep: c.evalStep}, "spec"
	case cond.Kind != "AlertCondition":
		c.errorAt(pfield+".conditions[0]", "an inline condition has kind: AlertCondition (or use conditionRef)")
		return AlertWindow{}, p, false
	}
	w, ok := cc.condition(cfield, cspec, period)
	return w, p, ok
}

// condition reads a burn-rate AlertCondition as a two-window rule: the
// lookback window is the long window and a twelfth of it the short one,
// as the SRE workbook pairs them, so the alert stops soon after the
// burning does.
func (c *compiler) condition(field string, cs osConditionSpec, period time.Duration) (AlertWindow, bool) {
	before := len(c.set.problems)
	cond := cs.Condition
	if cs.Severity == "" {
		c.errorAt(field+".severity", "is required")
	}
	if cond.Kind != "burnrate" {
		c.errorAt(field+".condition.kind", "%q: the only condition kind is burnrate", cond.Kind)
	}
	// OpenSLO allows lt and lte, and its own example writes lte for
	// "exceeds"; evaluated as written, such an alert fires while the budget
	// burns slowly, that is while all is well. Vigil refuses it whole rather
	// than guess which was meant.
	op := Op(cond.Op)
	switch op {
	case GreaterThan, GreaterOrEqual:
	case LessThan, LessOrEqual:
		c.errorAt(field+".condition.op", "%q would fire while the budget burns slower than %s, that is while the service is healthy: Vigil alerts on a budget burning too fast; write op gt or gte", cond.Op, formatFactor(deref(cond.Threshold)))
	default:
		c.errorAt(field+".condition.op", "%q is not one of gt, gte (lt and lte are refused: see the OpenSLO section of the README)", cond.Op)
	}
	if cond.Threshold == nil || *cond.Threshold <= 0 {
		c.errorAt(field+".condition.threshold", "want a positive burn rate")
	}
	long, err := ParseDuration(cond.LookbackWindow)
	if err != nil {
		c.errorAt(field+".condition.lookbackWindow", "%v", err)
	}
	var after time.Duration
	if cond.AlertAfter != "" {
		if after, err = ParseDuration(cond.AlertAfter); err != nil {
			c.errorAt(field+".condition.alertAfter", "%v", err)
		}
	}
	if len(c.set.problems) > before {
		return AlertWindow{}, false
	}
	short := (long / 12).Truncate(time.Minute)
	if short < time.Minute {
		short = time.Minute
	}
	w := AlertWindow{Severity: cs.Severity, Long: long, Short: short, Factor: *cond.Threshold, For: after, Inclusive: op == GreaterOrEqual}
	if period > 0 {
		w.BudgetPercent = int(w.Factor * float64(long) / float64(period) * 100)
	}
	return w, true
}
