package slo

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/config"
)

// Sloth's SLO files (github.com/slok/sloth), read as Vigil SLOs: the
// prometheus/v1 spec (version: "prometheus/v1") and the Kubernetes CRD
// (apiVersion: sloth.slok.dev/v1, kind: PrometheusServiceLevel), whose
// spec has the same fields in camelCase. Each SLO of a file is an SLO
// named as Sloth names its rules' sloth_id, <service>-<name>, over Sloth's
// period, 30 days, with the workbook's four burn-rate rules that Sloth
// generates for it (its google-30d windows): page at 14.4 over 1h and 5m
// and at 6 over 6h and 30m, ticket at 3 over 1d and 2h and at 1 over 3d
// and 6h. The SLI's queries keep Sloth's {{.window}}: exported rules get
// each rule's window, as Sloth's do, and the evaluator reads them over
// five minutes at each minute's start (promql.go).

const (
	slothSpecVersion = "prometheus/v1"
	slothAPIVersion  = "sloth.slok.dev/v1"
	slothKind        = "PrometheusServiceLevel"
	slothPeriod      = 30 * 24 * time.Hour
)

// slothKeys are the spellings of the fields that differ between Sloth's
// spec and its CRD.
type slothKeys struct {
	sloPlugins, errorQuery, totalQuery, errorRatioQuery, pageAlert, ticketAlert string
}

var (
	slothSpecKeys = slothKeys{"slo_plugins", "error_query", "total_query", "error_ratio_query", "page_alert", "ticket_alert"}
	slothCRDKeys  = slothKeys{"sloPlugins", "errorQuery", "totalQuery", "errorRatioQuery", "pageAlert", "ticketAlert"}
)

// slothPlugins are Sloth's SLO plugins by what they mean for Vigil:
// plugins that shape only the Prometheus rules Sloth writes (Vigil judges
// the SLO itself, so they change nothing) and those that change what is
// judged, which Vigil cannot do.
var slothPlugins = map[string]string{
	"sloth.dev/core/debug/v1":                        "",
	"sloth.dev/core/noop/v1":                         "",
	"sloth.dev/core/validate/v1":                     "",
	"sloth.dev/core/sli_rules/v1":                    "",
	"sloth.dev/core/metadata_rules/v1":               "",
	"sloth.dev/core/alert_rules/v1":                  "",
	"sloth.dev/contrib/info_labels/v1":               "",
	"sloth.dev/contrib/rule_intervals/v1":            "",
	"sloth.dev/contrib/remove_labels/v1":             "",
	"sloth.dev/contrib/validate_victoria_metrics/v1": "",
	"sloth.dev/contrib/denominator_corrected_rules/v1": "it corrects the error ratio of low-traffic windows by the period's traffic, " +
		"which Vigil does not; give the SLO alerts.min_events in Vigil's own dialect instead",
	"sloth.dev/contrib/error_budget_exhausted_alert/v1": "it adds an alert on the exhausted budget, which Vigil does not generate; " +
		"a burn-rate rule of factor 1 over the period is its equivalent in Vigil's own dialect",
}

// readSloth reads one Sloth document: a prometheus/v1 spec, or a
// PrometheusServiceLevel object.
func readSloth(file string, doc *yaml.Node, evalStep time.Duration) ([]*SLO, []config.Problem) {
	r := &nodeReader{file: file}
	var spec *yaml.Node
	var keys slothKeys
	var where string // how Sloth's rules name the spec, for messages
	if config.Value(doc, "apiVersion") != nil {
		top := r.fields(doc, "", "apiVersion", "kind", "metadata", "spec", "status")
		r.kubeMetadata(top["metadata"])
		spec, keys, where = top["spec"], slothCRDKeys, "spec."
		if spec == nil {
			r.errorAt(doc, "spec", "is required")
			return nil, r.problems
		}
	} else {
		spec, keys = doc, slothSpecKeys
	}
	known := []string{"service", "labels", keys.sloPlugins, "slos"}
	if where == "" {
		known = append([]string{"version"}, known...)
	}
	f := r.fields(spec, strings.TrimSuffix(where, "."), known...)
	service := r.str(f["service"], where+"service")
	if service == "" {
		r.errorAt(spec, where+"service", "is required: the service the SLOs are of")
	}
	labels := r.labels(f["labels"], where+"labels")
	r.slothPlugins(f[keys.sloPlugins], where+keys.sloPlugins)
	items := r.list(f["slos"], where+"slos")
	if len(items) == 0 && f["slos"] != nil {
		r.errorAt(f["slos"], where+"slos", "want at least one SLO")
	}
	var out []*SLO
	for i, item := range items {
		if s := r.slothSLO(item, fmt.Sprintf("%sslos[%d]", where, i), service, labels, keys, evalStep); s != nil {
			out = append(out, s)
		}
	}
	if config.HasErrors(r.problems) {
		return nil, r.problems // every problem is reported, but half a file is not evaluated
	}
	return out, r.problems
}

// kubeMetadata checks a Kubernetes object's metadata: its name and
// namespace matter to Kubernetes only; labels and annotations are
// Kubernetes' too (a Sloth CRD labels its rules with spec.labels).
func (r *nodeReader) kubeMetadata(n *yaml.Node) map[string]*yaml.Node {
	return r.fields(n, "metadata", "name", "namespace", "labels", "annotations", "uid", "resourceVersion", "generation",
		"creationTimestamp", "generateName", "managedFields", "ownerReferences", "finalizers")
}

// slothPlugins checks an SLO plugin chain: the plugins that only shape
// Sloth's rules are read as nothing, with a warning; the others are
// errors naming what they would change.
func (r *nodeReader) slothPlugins(n *yaml.Node, field string) {
	f := r.fields(n, field, "overridePrevious", "chain")
	r.boolean(f["overridePrevious"], field+".overridePrevious", false)
	for i, p := range r.list(f["chain"], field+".chain") {
		pf := fmt.Sprintf("%s.chain[%d]", field, i)
		pl := r.fields(p, pf, "id", "config", "priority")
		id := r.str(pl["id"], pf+".id")
		why, known := slothPlugins[id]
		switch {
		case id == "":
			r.errorAt(p, pf+".id", "is required")
		case !known:
			r.errorAt(pl["id"], pf+".id", "%q is not a Sloth plugin Vigil knows: Vigil judges the SLO itself and cannot run Sloth's plugins", id)
		case why != "":
			r.errorAt(pl["id"], pf+".id", "%s does not map to Vigil: %s", id, why)
		default:
			r.warnAt(pl["id"], pf+".id", "%s shapes only the Prometheus rules Sloth writes; Vigil judges the SLO itself, so it changes nothing here", id)
		}
	}
}

// slothSLO reads one item of slos.
func (r *nodeReader) slothSLO(n *yaml.Node, field, service string, specLabels map[string]string, keys slothKeys, evalStep time.Duration) *SLO {
	before := len(r.problems)
	f := r.fields(n, field, "name", "description", "objective", "labels", "plugins", "sli", "alerting")
	name := r.str(f["name"], field+".name")
	s := &SLO{Name: service + "-" + name, Service: service, Description: r.str(f["description"], field+".description"),
		Window: TimeWindow{Duration: slothPeriod, Rolling: true}, Method: Occurrences, File: fmt.Sprintf("%s:%d", r.file, n.Line)}
	switch {
	case name == "":
		r.errorAt(n, field+".name", "is required")
	case !nameRE.MatchString(s.Name) || len(s.Name) > 63:
		r.errorAt(f["name"], field+".name", "the SLO's id %q (service-name, as Sloth's sloth_id) must be a lower-case RFC 1123 label (a-z, 0-9, '-', at most 63)", s.Name)
	}
	s.Labels = mergeLabels(specLabels, r.labels(f["labels"], field+".labels"))
	s.Tenant = s.Labels["tenant"]
	if o := r.str(f["objective"], field+".objective"); o == "" {
		r.errorAt(n, field+".objective", "is required: a percentage such as 99.9")
	} else if v, err := ParseObjective(o + "%"); err != nil {
		r.errorAt(f["objective"], field+".objective", "%v", err)
	} else {
		s.Objective = v
	}
	r.slothPlugins(f["plugins"], field+".plugins")
	s.SLI = r.slothSLI(f["sli"], n, field+".sli", keys)
	s.AlertName, s.Alerts = r.slothAlerting(f["alerting"], n, field+".alerting", keys)
	if config.HasErrors(r.problems[before:]) {
		return nil
	}
	r.problems = append(r.problems, traps(s, r.file, config.Line(n, "objective"), field, n.Line, config.Line(n, "alerting"), evalStep)...)
	return s
}

// slothSLI reads sli: events (error and total queries), raw (an error
// ratio query); a plugin is Go code that Sloth runs, which Vigil cannot.
func (r *nodeReader) slothSLI(n, item *yaml.Node, field string, keys slothKeys) SLI {
	if n == nil {
		r.errorAt(item, field, "is required: events (error and total queries) or raw (an error ratio query)")
		return nil
	}
	before := len(r.problems)
	f := r.fields(n, field, "events", "raw", "plugin")
	if len(f) != 1 {
		if len(f) > 1 || len(r.problems) == before {
			r.errorAt(n, field, "give one of events, raw or plugin")
		}
		return nil
	}
	switch {
	case f["events"] != nil:
		ef := r.fields(f["events"], field+".events", keys.errorQuery, keys.totalQuery)
		bad := r.slothQuery(ef[keys.errorQuery], f["events"], field+".events."+keys.errorQuery)
		total := r.slothQuery(ef[keys.totalQuery], f["events"], field+".events."+keys.totalQuery)
		return MetricRatio{Bad: bad, Total: total}
	case f["raw"] != nil:
		rf := r.fields(f["raw"], field+".raw", keys.errorRatioQuery)
		q := r.slothQuery(rf[keys.errorRatioQuery], f["raw"], field+".raw."+keys.errorRatioQuery)
		return RawRatio{Query: q, Failure: true}
	}
	pf := r.fields(f["plugin"], field+".plugin", "id", "options")
	r.errorAt(f["plugin"], field+".plugin", "SLI plugin %q is Go code that Sloth runs to write the queries, which Vigil cannot: write the SLI as events (error and total queries) or raw", r.str(pf["id"], field+".plugin.id"))
	return nil
}

// slothQuery reads a query of an SLI, which Sloth requires to read its
// {{.window}}.
func (r *nodeReader) slothQuery(n, parent *yaml.Node, field string) string {
	if n == nil {
		r.errorAt(parent, field, "is required")
		return ""
	}
	q := r.query(n, field, false)
	if q != "" && !templated(q) {
		r.errorAt(n, field, "must read {{.window}}, as Sloth requires: it is the window each rule reads, e.g. rate(x[{{.window}}])")
		return ""
	}
	return q
}

// slothAlerting reads alerting: the alert's name, labels and annotations,
// and which of the page and ticket rules are on. Sloth names both alerts
// alerting.name; Vigil's alerts are SLOBurnRateHigh, and the name names
// the exported rules' alerts.
func (r *nodeReader) slothAlerting(n, item *yaml.Node, field string, keys slothKeys) (string, []AlertWindow) {
	f := r.fields(n, field, "name", "labels", "annotations", keys.pageAlert, keys.ticketAlert)
	name := r.str(f["name"], field+".name")
	labels := r.labels(f["labels"], field+".labels")
	annotations := r.strMap(f["annotations"], field+".annotations")
	var out []AlertWindow
	for _, sev := range []struct{ key, severity string }{{keys.pageAlert, "page"}, {keys.ticketAlert, "ticket"}} {
		af := r.fields(f[sev.key], field+"."+sev.key, "disable", "labels", "annotations")
		if r.boolean(af["disable"], field+"."+sev.key+".disable", false) {
			continue
		}
		if name == "" {
			r.errorAt(nodeOr(n, item), field+".name", "is required while the %s alert is on, as Sloth requires (or disable: true both alerts)", sev.severity)
			name = "-" // said once
		}
		ls := mergeLabels(labels, r.labels(af["labels"], field+"."+sev.key+".labels"))
		as := mergeLabels(annotations, r.strMap(af["annotations"], field+"."+sev.key+".annotations"))
		for _, w := range DefaultAlertWindows(slothPeriod) {
			if w.Severity == sev.severity {
				w.Labels, w.Annotations = ls, as
				out = append(out, w)
			}
		}
	}
	if name == "-" {
		name = ""
	}
	return name, out
}

// nodeOr is n, or the parent when n is absent (a problem's line).
func nodeOr(n, parent *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return parent
}
