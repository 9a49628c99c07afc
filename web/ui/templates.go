package ui

import (
	"embed"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/analyzer/canary"
	"github.com/vigil-dev/vigil/analyzer/drift"
	"github.com/vigil-dev/vigil/analyzer/rightsize"
)

//go:embed templates/*.html
var templateFiles embed.FS

// pageNames are the pages, each a template file that defines "content"
// and its panels over the shared layout.
var pageNames = []string{"services", "service", "traces", "trace", "slos", "slo", "alerts",
	"actions", "action", "audit", "cost", "llm", "drift", "driftreport", "canaries", "recommendations", "settings"}

// parsePages parses the layout once per page, so each page defines its
// own "content".
func parsePages(a *assets) map[string]*template.Template {
	base := template.Must(template.New("").Funcs(funcs(a)).ParseFS(templateFiles, "templates/layout.html", "templates/parts.html"))
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		pages[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFiles, "templates/"+name+".html"))
	}
	return pages
}

func funcs(a *assets) template.FuncMap {
	return template.FuncMap{
		"asset": a.url,
		"dur":   formatDuration,
		"span":  shortDuration,
		"num":   formatNumber,
		"pct":   func(f float64) string { return formatNumber(f) + "%" },
		"ratio": func(f float64) string { return strconv.FormatFloat(math.Round(f*100*1e4)/1e4, 'f', -1, 64) + "%" },
		"money": formatMoney,
		// events counts SLO events, which PromQL SLIs make fractional:
		// whole counts print as integers, fractions to three places.
		"events":   func(f float64) string { return strconv.FormatFloat(math.Round(f*1000)/1000, 'f', -1, 64) },
		"when":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
		"unixNano": func(ns int64) time.Time { return time.Unix(0, ns).UTC() },
		"nanos":    func(ns int64) time.Duration { return time.Duration(ns) },
		"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		// clock is a log record's time of day to the millisecond.
		"clock": func(t time.Time) string { return t.UTC().Format("15:04:05.000") },
		// sdur is an offset with its sign: a log may come before its span.
		"sdur": func(d time.Duration) string {
			if d < 0 {
				return "−" + formatDuration(-d)
			}
			return "+" + formatDuration(d)
		},
		"hasPrefix": strings.HasPrefix,
		"deref": func(p *float64) string {
			if p == nil {
				return "–"
			}
			return formatNumber(*p)
		},
		"indent":           func(depth int) int { return min(depth, 40) },
		"list":             func(s ...string) []string { return s },
		"silenceDurations": func() []string { return silenceDurations },
		"alertTable": func(v *view, rows []alertView, silence bool) alertTable {
			return alertTable{View: v, Rows: rows, Silence: silence}
		},
		"groupTable": func(v *view, rows []groupRow, key string) groupTable {
			return groupTable{View: v, Rows: rows, Key: key}
		},
		"actionStates": func() []actions.State { return actions.States },
		"actionTable": func(v *view, rows []actionRow, inbox bool) actionTable {
			return actionTable{View: v, Rows: rows, Inbox: inbox}
		},
		"lastStep":   func(a *actions.Action) actions.Step { return a.Timeline[len(a.Timeline)-1] },
		"finalState": func(s actions.State) bool { return s.Final() },
		"decision":   func(v *view, verb string) decisionTemplate { return decisionTemplate{View: v, Verb: verb} },
		"sloEvidence": func(x *actions.SLOEvidence, window time.Duration, exhausts *time.Duration) sloEvidenceView {
			return sloEvidenceView{X: x, Window: window, Exhausts: exhausts}
		},
		"burnBar": burnBar,
		"inc":     func(i int) int { return i + 1 },
		"lasts": func(d *time.Duration) string {
			if *d <= 0 {
				return "exhausted"
			}
			return formatDuration(*d)
		},
		"verdictClass": func(v canary.Verdict) string {
			return map[canary.Verdict]string{canary.VerdictPass: "ok", canary.VerdictFail: "failed", canary.VerdictMarginal: "pending", canary.VerdictInconclusive: "pending"}[v]
		},
		"add":     func(a, b int) int { return a + b },
		"sub100":  func(h float64) float64 { return 100 - h },
		"float":   func(n int64) float64 { return float64(n) },
		"amount4": func(d decimal.Decimal) string { return d.Round(4).String() },
		"date":    func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
		"amount":  func(d decimal.Decimal) string { return d.StringFixed(2) },
		"fnum":    func(n drift.Number) string { return formatNumber(float64(n)) },
		"pct100":  func(f float64) string { return formatNumber(f*100) + "%" },
		"evidence": func(e rightsize.Evidence) string {
			s := e.Statistic + " = " + formatNumber(e.Value)
			if e.Samples > 0 {
				s += fmt.Sprintf(" over %d samples of %d pods", e.Samples, e.Pods)
			}
			if e.OOMKills > 0 {
				s += fmt.Sprintf(", %d OOM kills", e.OOMKills)
			}
			return s
		},
	}
}

// actionTable is a table of actions; Inbox adds the urgency.
type actionTable struct {
	View  *view
	Rows  []actionRow
	Inbox bool
}

// decisionTemplate is the approve or reject form of an action's page.
type decisionTemplate struct {
	View *view
	Verb string
}

// sloEvidenceView is an SLO's evidence with its window and how long its
// budget lasts.
type sloEvidenceView struct {
	X        *actions.SLOEvidence
	Window   time.Duration
	Exhausts *time.Duration
}

// bar is a burn rate drawn against its threshold, in a 0–100 box whose
// right end is twice the larger of the two.
type bar struct{ Rate, Threshold, Forecast float64 }

func burnBar(rate, threshold float64) bar {
	full := 2 * max(rate, threshold)
	if full <= 0 {
		return bar{}
	}
	return bar{Rate: math.Round(rate/full*1000) / 10, Threshold: math.Round(threshold/full*1000) / 10}
}

// alertTable is a table of alerts; Silence adds the silence forms.
type alertTable struct {
	View    *view
	Rows    []alertView
	Silence bool
}

// groupTable is a table of a service's operations or models.
type groupTable struct {
	View *view
	Rows []groupRow
	Key  string // the traces page's parameter a row sets: operation or model
}

// formatDuration writes a duration with three significant digits: 1.23s,
// 45.6ms, 789µs.
func formatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return formatNumber(d.Seconds()) + "s"
	case d >= time.Millisecond:
		return formatNumber(float64(d)/1e6) + "ms"
	}
	return formatNumber(float64(d)/1e3) + "µs"
}

// formatNumber writes a number with three significant digits, and
// thousands as k and M: what a table cell needs.
func formatNumber(f float64) string {
	switch a := math.Abs(f); {
	case a >= 1e6:
		return strconv.FormatFloat(f/1e6, 'f', 1, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(f/1e3, 'f', 1, 64) + "k"
	case a >= 100 || f == math.Trunc(f):
		return strconv.FormatFloat(f, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(f, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(f, 'f', 2, 64)
	}
	return strconv.FormatFloat(f, 'g', 3, 64)
}

// formatMoney writes USD to the cent, or to four significant digits below
// a cent: a model call costs fractions of one.
func formatMoney(d decimal.Decimal) string {
	if d.IsZero() {
		return "$0"
	}
	if d.Abs().LessThan(decimal.NewFromFloat(0.01)) {
		f, _ := d.Float64()
		return "$" + strconv.FormatFloat(f, 'g', 4, 64)
	}
	return "$" + d.StringFixed(2)
}
