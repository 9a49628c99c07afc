package slo

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// LogSeverity is a log-based SLI: every log line of the service (its
// telemetry service.name, as the logs table keeps it) is an event, and a
// line at or above Severity is a bad one. The total is the service's log
// lines, not its spans, so the SLI needs nothing but logs (a service
// shipping logs through syslog or Filebeat has no spans to count), and
// good and bad come from the same rows, so a minute's bad lines never
// exceed its total. A service that logs only its errors is therefore
// always failing by this SLI: give it info lines, or count its spans with
// availability instead.
type LogSeverity struct {
	Service  string // "" is the SLO's service
	Severity store.Severity
}

func (l LogSeverity) service(service string) string {
	if l.Service != "" {
		return l.Service
	}
	return service
}

func (l LogSeverity) Describe(service string) string {
	return fmt.Sprintf("bad: log lines of %s at severity %s or above (number %d+); total: all log lines of %s", l.service(service), l.Severity, l.Severity, l.service(service))
}

func (l LogSeverity) minutes(ctx context.Context, src sources, tenant, service string, from, to time.Time) ([]minute, error) {
	return spanMinutes(src.store.LogSLICounts(ctx, store.LogSLIQuery{Tenant: tenant, Service: l.service(service), MinSeverity: l.Severity, Start: from, End: to}))
}

// logsYAML is the logs: block of a native SLO.
type logsYAML struct {
	Service  string `yaml:"service"`
	Severity string `yaml:"severity"`
}

// parseBadSeverity reads the severity from which a log line is bad.
func parseBadSeverity(s string) (store.Severity, error) {
	sev, ok := store.ParseSeverity(s)
	switch {
	case s == "":
		return 0, fmt.Errorf("is required: the severity from which a line is bad, e.g. error")
	case !ok:
		return 0, fmt.Errorf("%q is not a severity: trace, debug, info, warn, error or fatal (or a syslog name)", s)
	case sev <= store.SeverityTrace:
		return 0, fmt.Errorf("%q would count every line with a severity as bad", s)
	}
	return sev, nil
}

// logs reads a log-based SLO.
func (r *nativeReader) logs(s *SLO, y *nativeYAML) {
	if y.Operation != "" || y.Model != "" || len(y.Attributes) > 0 {
		r.errorAt("logs", "operation, model and attributes pick spans; a log SLI counts the log lines of a service")
		return
	}
	sev, err := parseBadSeverity(y.Logs.Severity)
	if err != nil {
		r.errorAt("logs.severity", "%v", err)
		return
	}
	s.SLI = LogSeverity{Service: y.Logs.Service, Severity: sev}
}

// isLogs: an OpenSLO metric source of Vigil's log lines. OpenSLO leaves
// the data source type to its vendors; Vigil's are vigil (or spans) for
// its spans and vigil-logs (or logs) for its logs.
func isLogs(typ string) bool { return typ == "vigil-logs" || typ == "logs" }

// logRatio reads an OpenSLO ratio over Vigil's logs, the counterpart of
// the native logs: block: total names the service (spec.service; the
// SLO's service when left out), bad the severity from which a line is
// bad (spec.severity). Good lines cannot be named: a log SLI counts bad
// ones.
//
//	ratioMetric:
//	  bad:   {metricSource: {type: vigil-logs, spec: {service: chat, severity: error}}}
//	  total: {metricSource: {type: vigil-logs, spec: {service: chat}}}
func (at *sliSite) logRatio(s *SLO, field, which string, total, part map[string]any) {
	c := at.c
	if which != "bad" {
		c.errorAt(field+".good", "a Vigil log ratio counts bad lines: give bad with spec.severity, and total")
		return
	}
	var l LogSeverity
	for k, v := range total {
		switch k {
		case "service":
			l.Service = fmt.Sprint(v)
		default:
			c.errorAt(field+".total", "spec.%s: the total of a Vigil log ratio takes service (every line of it is an event)", k)
		}
	}
	var severity string
	for k, v := range part {
		switch k {
		case "service":
			if sv := fmt.Sprint(v); sv != l.Service {
				c.errorAt(field+".bad", "spec.service %q differs from the total's %q: a ratio counts the lines of one service", sv, l.Service)
			}
		case "severity":
			severity = fmt.Sprint(v)
		default:
			c.errorAt(field+".bad", "spec.%s: the bad part of a Vigil log ratio takes service and severity", k)
		}
	}
	sev, err := parseBadSeverity(severity)
	if err != nil {
		c.errorAt(field+".bad", "spec.severity %v", err)
		return
	}
	l.Severity = sev
	s.SLI = l
}
