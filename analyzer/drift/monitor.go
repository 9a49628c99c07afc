package drift

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/config"
	"github.com/vigil-dev/vigil/store"
)

// Drift monitors live in the config directory, in any YAML file with a
// top-level drift: list:
//
//	drift:
//	  - name: chat-output-length
//	    filter: {service: chat-gateway, operation: "POST /chat", model: gpt-4o}
//	    watch: output_tokens       # duration, input_tokens, output_tokens, attribute:<key>
//	                               # or metric:<selector> (the values of stored samples)
//	    reference: {offset: 168h}  # the same window a week earlier; or
//	    # reference: {from: 2026-01-01T00:00:00Z, to: 2026-01-08T00:00:00Z}; or
//	    # reference: {file: baselines/training.csv, column: output_tokens}
//	    #   (a CSV column, the path relative to this file: a training set)
//	    current: 1h                # the window judged, ending now
//	    method: auto               # or ks, chisquare, ztest, psi, ...
//	    threshold: 0.1             # 0 or absent: the method's default
//	    every: 1h                  # how often it is judged; default: the current window
//
// Durations are Go durations (90m, 168h) or whole days and weeks (7d, 2w).

// Watch is the value a monitor compares.
type Watch struct {
	Kind      WatchKind
	Attribute string // Kind == WatchAttribute: the span attribute's key
	Query     string // Kind == WatchMetric: a series selector
}

// WatchKind names a span value.
type WatchKind string

const (
	WatchDuration     WatchKind = "duration"
	WatchInputTokens  WatchKind = "input_tokens"
	WatchOutputTokens WatchKind = "output_tokens"
	WatchAttribute    WatchKind = "attribute"
	WatchMetric       WatchKind = "metric"
)

func (w Watch) String() string {
	switch w.Kind {
	case WatchAttribute:
		return "attribute:" + w.Attribute
	case WatchMetric:
		return "metric:" + w.Query
	}
	return string(w.Kind)
}

// Filter selects the spans a monitor reads; empty fields match anything.
type Filter struct {
	Service      string `yaml:"service"`
	Operation    string `yaml:"operation"`
	Model        string `yaml:"model"`
	ModelVersion string `yaml:"model_version"`
}

// Reference is the baseline window: a fixed range (From, To), or the
// current window moved back by Offset, Window long (default: as long as
// the current window).
type Reference struct {
	From, To time.Time
	Offset   time.Duration
	Window   time.Duration
	// Baseline is a column of a CSV file, read when the monitor is loaded
	// (File, Column say where from); it replaces any window.
	Baseline     *Column
	File, Column string
}

// Monitor is one drift monitor from the config directory.
type Monitor struct {
	Name      string
	Tenant    string
	Filter    Filter
	Watch     Watch
	Kind      *Kind // nil: inferred from the values, as the CSV reader does
	Reference Reference
	Current   time.Duration
	Every     time.Duration // judged at ticks that are multiples of it
	Options   Options       // Method, Threshold, Bins, MinSamples
	File      string        // file:line of the definition
}

// Windows are the reference and current windows [from, to) at now.
func (m *Monitor) Windows(now time.Time) (refFrom, refTo, curFrom, curTo time.Time) {
	curFrom, curTo = now.Add(-m.Current), now
	if m.Reference.Offset == 0 {
		return m.Reference.From, m.Reference.To, curFrom, curTo
	}
	refTo = curTo.Add(-m.Reference.Offset)
	w := m.Reference.Window
	if w == 0 {
		w = m.Current
	}
	return refTo.Add(-w), refTo, curFrom, curTo
}

type monitorYAML struct {
	Name      string `yaml:"name"`
	Tenant    string `yaml:"tenant"`
	Filter    Filter `yaml:"filter"`
	Watch     string `yaml:"watch"`
	Type      string `yaml:"type"`
	Reference struct {
		From   string `yaml:"from"`
		To     string `yaml:"to"`
		Offset string `yaml:"offset"`
		Window string `yaml:"window"`
		File   string `yaml:"file"`
		Column string `yaml:"column"`
	} `yaml:"reference"`
	Current    string  `yaml:"current"`
	Every      string  `yaml:"every"`
	Method     string  `yaml:"method"`
	Threshold  float64 `yaml:"threshold"`
	Bins       int     `yaml:"bins"`
	MinSamples int     `yaml:"min_samples"`
}

// Section is drift's part of the config directory: the drift: lists of
// monitors. Baseline CSV files are read with the monitor that names them.
var Section = &config.Section[[]*Monitor]{Name: "drift", Keys: []string{"drift"},
	New: func() config.Decoder[[]*Monitor] { return &monitorsReader{seen: map[string]string{}} }}

// LoadMonitors reads the drift monitors alone from the YAML files under
// paths (see Section and config.LoadSection). It fails only when a path
// cannot be read.
func LoadMonitors(paths []string) ([]*Monitor, []config.Problem, error) {
	return config.LoadSection(paths, Section)
}

// monitorsReader is one reading of the drift section.
type monitorsReader struct {
	monitors []*Monitor
	seen     map[string]string // tenant/name → file:line
}

func (r *monitorsReader) Decode(it config.Item) []config.Problem {
	list := it.Node
	if list.Kind != yaml.SequenceNode {
		return []config.Problem{{File: it.File, Line: list.Line, Field: "drift", Severity: config.Error, Message: "want a list of monitors"}}
	}
	var problems []config.Problem
	for i, item := range list.Content {
		field := fmt.Sprintf("drift[%d]", i)
		m, ps := readMonitor(it.File, item, field)
		problems = append(problems, ps...)
		// Names are unique among all definitions, broken ones included:
		// fixing the first must not surface a clash.
		name, tenant := scalar(item, "name"), scalar(item, "tenant")
		if name != "" {
			where := fmt.Sprintf("%s:%d", it.File, item.Line)
			if prev, ok := r.seen[tenant+"/"+name]; ok {
				problems = append(problems, config.Problem{File: it.File, Line: config.Line(item, "name"), Field: field + ".name",
					Severity: config.Error, Message: fmt.Sprintf("monitor %q is also defined at %s", name, prev)})
				continue
			}
			r.seen[tenant+"/"+name] = where
		}
		if m != nil {
			r.monitors = append(r.monitors, m)
		}
	}
	return problems
}

func (r *monitorsReader) Done() ([]*Monitor, []config.Problem) { return r.monitors, nil }

// readMonitor reads one item of a drift: list: what it watches, over which
// windows, against which reference, judged how. Problems are reported at
// the item's lines; a monitor with an error is not returned.
func readMonitor(file string, n *yaml.Node, field string) (*Monitor, []config.Problem) {
	var y monitorYAML
	if p := config.DecodeStrict(file, n, field, &y); p != nil {
		return nil, []config.Problem{*p}
	}
	r := &monitorReader{file: file, n: n, field: field}
	m := &Monitor{Name: y.Name, Tenant: y.Tenant, Filter: y.Filter,
		File: fmt.Sprintf("%s:%d", file, n.Line)}
	if y.Name == "" {
		r.bad([]string{"name"}, "required")
	}
	r.watch(m, &y)
	r.windows(m, &y)
	r.reference(m, &y)
	r.options(m, &y)
	if len(r.problems) > 0 {
		return nil, r.problems
	}
	return m, nil
}

// monitorReader gathers the problems of one monitor at its lines.
type monitorReader struct {
	file     string
	n        *yaml.Node // the item of the drift: list
	field    string     // drift[i]
	problems []config.Problem
}

// bad reports an error at path below the item.
func (r *monitorReader) bad(path []string, format string, args ...any) {
	r.problems = append(r.problems, config.Problem{File: r.file, Line: config.Line(r.n, path...),
		Field: r.field + "." + strings.Join(path, "."), Severity: config.Error, Message: fmt.Sprintf(format, args...)})
}

// watch reads the value compared and whether it is categorical.
func (r *monitorReader) watch(m *Monitor, y *monitorYAML) {
	switch w := strings.TrimSpace(y.Watch); {
	case w == "":
		r.bad([]string{"watch"}, "required: duration, input_tokens, output_tokens or attribute:<key>")
	case strings.HasPrefix(w, "attribute:"):
		m.Watch = Watch{Kind: WatchAttribute, Attribute: strings.TrimSpace(strings.TrimPrefix(w, "attribute:"))}
		if m.Watch.Attribute == "" {
			r.bad([]string{"watch"}, "attribute: needs a key, as in attribute:llm.score")
		}
	case strings.HasPrefix(w, "metric:"):
		m.Watch = Watch{Kind: WatchMetric, Query: strings.TrimSpace(strings.TrimPrefix(w, "metric:"))}
		if _, err := store.ParseSelector(m.Watch.Query); err != nil {
			r.bad([]string{"watch"}, "%v", err)
		}
		if y.Filter != (Filter{}) {
			r.bad([]string{"filter"}, "a metric watch is selected by its selector; filter applies to spans")
		}
	case w == string(WatchDuration) || w == string(WatchInputTokens) || w == string(WatchOutputTokens):
		m.Watch = Watch{Kind: WatchKind(w)}
	default:
		r.bad([]string{"watch"}, "unknown value %q: want duration, input_tokens, output_tokens, attribute:<key> or metric:<selector>", w)
	}
	kind, ok := map[string]Kind{Numeric.String(): Numeric, Categorical.String(): Categorical}[y.Type]
	switch {
	case y.Type == "":
	case !ok:
		r.bad([]string{"type"}, "want numeric or categorical, got %q", y.Type)
	case kind == Categorical && m.Watch.Kind != WatchAttribute && m.Watch.Kind != "" && m.Watch.Kind != WatchMetric:
		r.bad([]string{"type"}, "%s is a number; only an attribute can be categorical", m.Watch.Kind)
	default:
		m.Kind = &kind
	}
}

// windows reads the current window and how often it is judged (by
// default, once a window).
func (r *monitorReader) windows(m *Monitor, y *monitorYAML) {
	if y.Current == "" {
		r.bad([]string{"current"}, "required: the length of the window judged, such as 1h")
	} else if d, err := parseDuration(y.Current); err != nil {
		r.bad([]string{"current"}, "%v", err)
	} else {
		m.Current = d
	}
	m.Every = m.Current
	if y.Every != "" {
		if d, err := parseDuration(y.Every); err != nil {
			r.bad([]string{"every"}, "%v", err)
		} else {
			m.Every = d
		}
	}
}

// reference reads the baseline: a CSV column (read now, relative to the
// monitor's file), a fixed range, or the current window moved back.
func (r *monitorReader) reference(m *Monitor, y *monitorYAML) {
	ref := y.Reference
	fixed, rolling, baseline := ref.From != "" || ref.To != "", ref.Offset != "" || ref.Window != "", ref.File != "" || ref.Column != ""
	switch {
	case baseline && (fixed || rolling):
		r.bad([]string{"reference"}, "a baseline file replaces the reference window: give file and column alone")
	case baseline:
		m.Reference.File, m.Reference.Column = ref.File, ref.Column
		if ref.File == "" || ref.Column == "" {
			r.bad([]string{"reference"}, "a baseline needs both file (a CSV, relative to this file) and column")
			return
		}
		col, err := readBaseline(filepath.Join(filepath.Dir(r.file), ref.File), ref.Column)
		if err != nil {
			r.bad([]string{"reference", "file"}, "%v", err)
			return
		}
		m.Reference.Baseline = col
	case fixed && rolling:
		r.bad([]string{"reference"}, "give either from and to (a fixed range) or offset (a rolling window), not both")
	case fixed:
		from, errF := time.Parse(time.RFC3339, ref.From)
		to, errT := time.Parse(time.RFC3339, ref.To)
		switch {
		case errF != nil:
			r.bad([]string{"reference", "from"}, "want an RFC 3339 time such as 2026-01-01T00:00:00Z, got %q", ref.From)
		case errT != nil:
			r.bad([]string{"reference", "to"}, "want an RFC 3339 time such as 2026-01-08T00:00:00Z, got %q", ref.To)
		case !from.Before(to):
			r.bad([]string{"reference", "to"}, "%s is not after from (%s)", ref.To, ref.From)
		default:
			m.Reference.From, m.Reference.To = from, to
		}
	case rolling:
		r.rolling(m, y)
	default:
		r.bad([]string{"reference"}, "required: {offset: 168h}, {from: ..., to: ...} or {file: baseline.csv, column: ...}")
	}
}

// rolling reads a reference window that ends offset before the current
// one; the two must not overlap.
func (r *monitorReader) rolling(m *Monitor, y *monitorYAML) {
	ref := y.Reference
	if ref.Offset == "" {
		r.bad([]string{"reference", "offset"}, "required with window: how far back the reference ends, such as 168h")
		return
	}
	off, err := parseDuration(ref.Offset)
	if err != nil {
		r.bad([]string{"reference", "offset"}, "%v", err)
		return
	}
	m.Reference.Offset = off
	if ref.Window != "" {
		if m.Reference.Window, err = parseDuration(ref.Window); err != nil {
			r.bad([]string{"reference", "window"}, "%v", err)
		}
	}
	// A reference overlapping the current window compares the data
	// partly with itself and hides drift.
	if m.Current > 0 && off < m.Current {
		r.bad([]string{"reference", "offset"}, "%s is shorter than the current window (%s): the two windows would overlap", ref.Offset, y.Current)
	}
}

// options reads the method and its threshold, bins and minimum samples.
func (r *monitorReader) options(m *Monitor, y *monitorYAML) {
	method, err := ParseMethod(y.Method)
	if err != nil {
		r.bad([]string{"method"}, "%v", err)
	}
	m.Options = Options{Method: method, Threshold: y.Threshold, Bins: y.Bins, MinSamples: y.MinSamples}
	switch {
	case y.Threshold < 0:
		r.bad([]string{"threshold"}, "want a positive number, got %v", y.Threshold)
	case method.isPValue() && y.Threshold >= 1:
		r.bad([]string{"threshold"}, "%s is judged by its p-value: want a threshold below 1, got %v", method, y.Threshold)
	}
	if y.Bins < 0 {
		r.bad([]string{"bins"}, "want a positive count, got %d", y.Bins)
	}
	if y.MinSamples < 0 {
		r.bad([]string{"min_samples"}, "want a positive count, got %d", y.MinSamples)
	}
}

// readBaseline reads one column of a baseline CSV.
func readBaseline(path, column string) (*Column, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cols, err := ReadCSV(path, f, []string{column})
	if err != nil {
		return nil, err
	}
	return cols[0], nil
}

// maxDuration bounds every monitor window.
const maxDuration = 100 * 365 * 24 * time.Hour

// parseDuration reads a Go duration (90m, 168h) or whole days or weeks
// (7d, 2w), which must be positive.
func parseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("want a positive duration such as 90m, 168h or 7d, up to 100 years; got %q", s)
	// Day and week counts are bounded before they are multiplied, so a
	// huge count cannot wrap into a plausible duration.
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			k, err := strconv.Atoi(n)
			if err != nil || k <= 0 || time.Duration(k) > maxDuration/unit {
				return 0, bad
			}
			return time.Duration(k) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > maxDuration {
		return 0, bad
	}
	return d, nil
}

// scalar is a mapping's scalar field, or "".
func scalar(n *yaml.Node, key string) string {
	if v := config.Value(n, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}
