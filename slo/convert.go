package slo

import (
	"fmt"
	"maps"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/store"
)

// OpenSLO conversion: `vigil slo convert --to openslo` writes SLOs read
// from any source (Sloth's, Pyrra's, Vigil's own) as openslo/v1 SLO
// documents that Vigil reads back into the same SLO: the same SLI
// queries, objective, window and burn-rate rules. What OpenSLO cannot say
// is written as a note rather than dropped silently:
//
//   - An AlertCondition has one lookback window; Vigil reads a twelfth of
//     it as the short window, as the workbook pairs them. Sloth's pairs
//     are such; Pyrra's longest (4d and 6h over 28 days) is not.
//   - OpenSLO has no labels or annotations on alerts, and no alert name:
//     an SLO's labels are kept as its metadata.labels, the rest is noted.
//   - Without alertPolicies Vigil applies the workbook's rules, so an SLO
//     without alerts cannot be written as such.
//   - Sloth's {{.window}} means nothing to other OpenSLO tools: a query is
//     written with the five minutes Vigil samples it over.

// OpenSLOConversion is the result of converting SLOs.
type OpenSLOConversion struct {
	Documents []byte   // openslo/v1 SLO documents, one per SLO converted
	Notes     []string // what the documents do not carry, per SLO
	Skipped   []string // SLOs OpenSLO cannot express, with why
}

// ConvertToOpenSLO writes the SLOs as openslo/v1 documents.
func ConvertToOpenSLO(slos []*SLO) (OpenSLOConversion, error) {
	var out OpenSLOConversion
	var b strings.Builder
	b.WriteString("# Written by `vigil slo convert --to openslo`.\n")
	for _, s := range slos {
		doc, notes, err := openSLODocument(s)
		if err != nil {
			out.Skipped = append(out.Skipped, fmt.Sprintf("%s (%s): %v", s.Name, s.File, err))
			continue
		}
		for _, n := range notes {
			out.Notes = append(out.Notes, fmt.Sprintf("%s (%s): %s", s.Name, s.File, n))
		}
		b.WriteString("---\n")
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(doc); err != nil {
			return out, err
		}
		enc.Close()
	}
	out.Documents = []byte(b.String())
	return out, nil
}

// The shapes written, in OpenSLO's field order.
type (
	convDoc struct {
		APIVersion string   `yaml:"apiVersion"`
		Kind       string   `yaml:"kind"`
		Metadata   convMeta `yaml:"metadata"`
		Spec       convSLO  `yaml:"spec"`
	}
	convMeta struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels,omitempty"`
	}
	convSLO struct {
		Description     string          `yaml:"description,omitempty"`
		Service         string          `yaml:"service"`
		Indicator       convIndicator   `yaml:"indicator"`
		TimeWindow      []convWindow    `yaml:"timeWindow"`
		BudgetingMethod BudgetingMethod `yaml:"budgetingMethod"`
		Objectives      []convObjective `yaml:"objectives"`
		AlertPolicies   []convInline    `yaml:"alertPolicies,omitempty"`
	}
	convIndicator struct {
		Metadata convMeta `yaml:"metadata"`
		Spec     convSLI  `yaml:"spec"`
	}
	convSLI struct {
		RatioMetric     *convRatio  `yaml:"ratioMetric,omitempty"`
		ThresholdMetric *convMetric `yaml:"thresholdMetric,omitempty"`
	}
	convRatio struct {
		Counter *bool       `yaml:"counter,omitempty"`
		Good    *convMetric `yaml:"good,omitempty"`
		Bad     *convMetric `yaml:"bad,omitempty"`
		Total   *convMetric `yaml:"total,omitempty"`
		RawType string      `yaml:"rawType,omitempty"`
		Raw     *convMetric `yaml:"raw,omitempty"`
	}
	convMetric struct {
		MetricSource struct {
			Type string `yaml:"type"`
			Spec struct {
				Query    string `yaml:"query,omitempty"`
				Service  string `yaml:"service,omitempty"`  // a vigil-logs source's
				Severity string `yaml:"severity,omitempty"` // a vigil-logs source's bad lines
			} `yaml:"spec"`
		} `yaml:"metricSource"`
	}
	convWindow struct {
		Duration  string `yaml:"duration"`
		IsRolling bool   `yaml:"isRolling"`
	}
	convObjective struct {
		Target          float64  `yaml:"target"`
		Op              string   `yaml:"op,omitempty"`
		Value           *float64 `yaml:"value,omitempty"`
		TimeSliceTarget float64  `yaml:"timeSliceTarget,omitempty"`
		TimeSliceWindow string   `yaml:"timeSliceWindow,omitempty"`
	}
	// convInline is an inline object: kind, metadata and spec.
	convInline struct {
		Kind     string   `yaml:"kind"`
		Metadata convMeta `yaml:"metadata"`
		Spec     any      `yaml:"spec"`
	}
	convPolicy struct {
		AlertWhenNoData     bool         `yaml:"alertWhenNoData"`
		AlertWhenResolved   bool         `yaml:"alertWhenResolved"`
		AlertWhenBreaching  bool         `yaml:"alertWhenBreaching"`
		Conditions          []convInline `yaml:"conditions"`
		NotificationTargets []convInline `yaml:"notificationTargets"`
	}
	convCondition struct {
		Severity  string `yaml:"severity"`
		Condition struct {
			Kind           string  `yaml:"kind"`
			Op             string  `yaml:"op"`
			Threshold      float64 `yaml:"threshold"`
			LookbackWindow string  `yaml:"lookbackWindow"`
			AlertAfter     string  `yaml:"alertAfter,omitempty"`
		} `yaml:"condition"`
	}
	convTarget struct {
		Target      string `yaml:"target"`
		Description string `yaml:"description"`
	}
)

// promMetric is a Prometheus metric source of a query, {{.window}}
// written as the range Vigil samples it over.
func promMetric(q string) *convMetric {
	m := &convMetric{}
	m.MetricSource.Type = "Prometheus"
	m.MetricSource.Spec.Query = render(q, sampleRange)
	return m
}

// logsMetric is a vigil-logs metric source of a service's lines, or of
// those at or above severity when it is given.
func logsMetric(service, severity string) *convMetric {
	m := &convMetric{}
	m.MetricSource.Type = "vigil-logs"
	m.MetricSource.Spec.Service, m.MetricSource.Spec.Severity = service, severity
	return m
}

// openSLODocument is one SLO as an openslo/v1 document, with notes on
// what it does not carry.
func openSLODocument(s *SLO) (convDoc, []string, error) {
	var notes []string
	labels := maps.Clone(s.Labels)
	if s.Tenant != "" {
		labels = mergeLabels(labels, map[string]string{"tenant": s.Tenant})
	}
	d := convDoc{APIVersion: "openslo/v1", Kind: "SLO", Metadata: convMeta{Name: s.Name, Labels: labels}}
	spec := &d.Spec
	spec.Description, spec.Service, spec.BudgetingMethod = s.Description, s.Service, s.Method
	if !s.Window.Rolling {
		return d, nil, fmt.Errorf("its calendar window is written in OpenSLO already; convert rolling windows only")
	}
	spec.TimeWindow = []convWindow{{Duration: formatDuration(s.Window.Duration), IsRolling: true}}
	obj := convObjective{Target: s.Objective}
	if s.Method != Occurrences {
		obj.TimeSliceWindow = formatDuration(s.SliceWindow)
		if s.Method == Timeslices {
			obj.TimeSliceTarget = s.SliceTarget
		}
	}
	spec.Indicator.Metadata.Name = s.Name
	switch sli := s.SLI.(type) {
	case MetricRatio:
		r := &convRatio{Total: promMetric(sli.Total)}
		if sli.Rates {
			f := false
			r.Counter = &f
		}
		if sli.Good != "" {
			r.Good = promMetric(sli.Good)
		} else {
			r.Bad = promMetric(sli.Bad)
		}
		spec.Indicator.Spec.RatioMetric = r
		if templated(sli.Good + sli.Bad + sli.Total) {
			notes = append(notes, fmt.Sprintf("its queries read {{.window}}, written as %s, the range Vigil samples them over each minute", formatDuration(sampleRange)))
		}
	case RawRatio:
		r := &convRatio{RawType: "success", Raw: promMetric(sli.Query)}
		if sli.Failure {
			r.RawType = "failure"
		}
		spec.Indicator.Spec.RatioMetric = r
		if templated(sli.Query) {
			notes = append(notes, fmt.Sprintf("its query reads {{.window}}, written as %s, the range Vigil samples it over each minute", formatDuration(sampleRange)))
		}
	case LogSeverity:
		// Named by its range (error, not 17), as a native file writes it;
		// a severity inside a range, such as syslog's notice, has no name
		// that reads back the same.
		name := sli.Severity.String()
		if back, _ := store.ParseSeverity(name); back != sli.Severity {
			return d, nil, fmt.Errorf("its severity number %d is not the first of a range, which is all Vigil's OpenSLO log source names", sli.Severity)
		}
		service := sli.service(s.Service)
		spec.Indicator.Spec.RatioMetric = &convRatio{Total: logsMetric(service, ""), Bad: logsMetric(service, name)}
	case MetricThreshold:
		spec.Indicator.Spec.ThresholdMetric = promMetric(sli.Gauge)
		v := sli.Threshold
		obj.Op, obj.Value = string(sli.Op), &v
	default:
		return d, nil, fmt.Errorf("its SLI (%s) reads Vigil's own data, which OpenSLO's Prometheus data source cannot name; keep it in Vigil's dialect", sli.Describe(s.Service))
	}
	spec.Objectives = []convObjective{obj}

	policy := s.policy()
	if len(s.Alerts) == 0 {
		notes = append(notes, "it has no burn-rate alerts, which OpenSLO cannot say: read back, an SLO without alertPolicies gets the workbook's four rules")
	}
	for _, w := range s.Alerts {
		if short := max((w.Long / 12).Truncate(time.Minute), time.Minute); short != w.Short {
			notes = append(notes, fmt.Sprintf("the %s rule over %s pairs it with %s; an OpenSLO condition has one lookback window, read back with %s (a twelfth)",
				w.Severity, formatDuration(w.Long), formatDuration(w.Short), formatDuration(short)))
		}
		name := fmt.Sprintf("%s-%s-%s", s.Name, w.Severity, formatDuration(w.Long))
		var c convCondition
		c.Severity = w.Severity
		c.Condition.Kind, c.Condition.Op, c.Condition.Threshold, c.Condition.LookbackWindow = "burnrate", "gt", w.Factor, formatDuration(w.Long)
		if w.Inclusive {
			c.Condition.Op = "gte"
		}
		if w.For > 0 {
			c.Condition.AlertAfter = formatDuration(w.For)
		}
		spec.AlertPolicies = append(spec.AlertPolicies, convInline{Kind: "AlertPolicy", Metadata: convMeta{Name: name}, Spec: convPolicy{
			AlertWhenNoData: policy.NoData, AlertWhenResolved: policy.Resolved, AlertWhenBreaching: policy.Breaching,
			Conditions: []convInline{{Kind: "AlertCondition", Metadata: convMeta{Name: name}, Spec: c}},
			NotificationTargets: []convInline{{Kind: "AlertNotificationTarget", Metadata: convMeta{Name: "vigil"},
				Spec: convTarget{Target: "vigil", Description: "Vigil's alert receivers"}}},
		}})
		if len(w.Labels) > 0 || len(w.Annotations) > 0 {
			notes = append(notes, fmt.Sprintf("the %s rule's labels and annotations have no place in OpenSLO and are not written", w.Severity))
		}
	}
	if s.AlertName != "" {
		notes = append(notes, fmt.Sprintf("the alert name %s has no place in OpenSLO and is not written", s.AlertName))
	}
	return d, uniqueNotes(notes), nil
}

func uniqueNotes(ns []string) []string {
	seen := map[string]bool{}
	out := ns[:0]
	for _, n := range ns {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
