package ui

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/vigil-dev/vigil/analyzer/drift"
	"github.com/vigil-dev/vigil/store"
)

// driftLookback is the drift pages' default range: monitors judge every
// hour or so, and a week shows how a column moved.
const driftLookback = "now-7d"

// maxDriftRange bounds the range of verdicts read at once.
const maxDriftRange = 31 * 24 * time.Hour

// judgement is one drift verdict with when it was made.
type judgement struct {
	At time.Time
	drift.Verdict
}

// monitorRow is a monitor with its newest verdict in the range.
type monitorRow struct {
	Name, Watch, Filter, File string
	Defined                   bool // in the config directory now
	Last                      *judgement
	Judged, Drifted           int
}

type driftData struct {
	Monitors []monitorRow
	Problem  string
}

// driftPage lists the drift monitors, those the config directory defines
// and those with verdicts in the range, each with its newest verdict and
// how many windows drifted.
func (u *UI) driftPage(w http.ResponseWriter, r *http.Request) {
	v := u.newView(w, r, "Drift", "drift")
	tr := v.timeRangeFrom(driftLookback, maxDriftRange)
	d := &driftData{}
	v.Data = d
	if !v.OK() {
		u.render(w, r, "drift", v)
		return
	}
	var recs []store.Decoded[drift.Verdict]
	rs := u.reads(r)
	rs.do(&d.Problem, "The verdicts", func(ctx context.Context) (err error) {
		recs, err = drift.Verdicts.Read(ctx, u.opts.Store, store.EventQuery{Tenant: v.Tenant, Start: tr.Start, End: tr.End})
		return err
	})
	rs.wait()
	rows := map[string]*monitorRow{}
	for _, m := range u.tenantMonitors(v.Tenant) {
		rows[m.Name] = &monitorRow{Name: m.Name, Watch: m.Watch.String(), Filter: filterText(m.Filter), File: m.File, Defined: true}
	}
	for _, rec := range recs { // newest first
		row := rows[rec.Value.Monitor]
		if row == nil {
			row = &monitorRow{Name: rec.Value.Monitor, Watch: rec.Value.Watch}
			rows[row.Name] = row
		}
		if row.Last == nil {
			row.Last = &judgement{At: rec.Event.Time, Verdict: rec.Value}
		}
		if rec.Value.Tested() {
			row.Judged++
			if rec.Value.Drifted {
				row.Drifted++
			}
		}
	}
	for _, name := range slicesSortedKeys(rows) {
		d.Monitors = append(d.Monitors, *rows[name])
	}
	// Drifting monitors first.
	slices.SortStableFunc(d.Monitors, func(a, b monitorRow) int {
		return boolRank(a.Last == nil || !a.Last.Drifted) - boolRank(b.Last == nil || !b.Last.Drifted)
	})
	u.render(w, r, "drift", v)
}

func (u *UI) tenantMonitors(t string) []*drift.Monitor {
	if u.opts.DriftMonitors == nil {
		return nil
	}
	var out []*drift.Monitor
	for _, m := range u.opts.DriftMonitors() {
		if m.Tenant == t || m.Tenant == "" && t == store.DefaultTenant {
			out = append(out, m)
		}
	}
	return out
}

func filterText(f drift.Filter) string {
	var parts []string
	for _, kv := range [][2]string{{"service", f.Service}, {"operation", f.Operation}, {"model", f.Model}, {"model_version", f.ModelVersion}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	return fmt.Sprint(parts)
}

// histogram is the reference and the current window of one judgement
// over common bins, each side as shares of its values.
type histogram struct {
	Bins       []histBin
	RefN, CurN int
	Kind       string
	RefFrom    time.Time
	RefTo      time.Time
	CurFrom    time.Time
	CurTo      time.Time
	Width      int // the SVG's width
	Max        float64
	Baseline   string // the CSV file and column the reference is, if one is
}

type histBin struct {
	Label    string
	Ref, Cur float64 // shares, 0–1
	X        int     // the bin's left in the SVG
	RefH     float64 // bar heights in the SVG, of 100
	CurH     float64
}

type driftReportData struct {
	Monitor     monitorRow
	Judgements  []judgement
	Selected    *judgement
	Chart       *chart
	Hist        *histogram
	Problem     string
	HistProblem string
}

// driftReport is one monitor's report: its verdicts over the range (the
// statistic against its threshold), and for the judgement picked (?at=,
// the newest by default) the test, score, threshold and counts, with the
// reference and current windows' histograms, read again from the spans.
func (u *UI) driftReport(w http.ResponseWriter, r *http.Request) {
	v := u.newView(w, r, "Drift", "drift")
	tr := v.timeRangeFrom(driftLookback, maxDriftRange)
	name := r.PathValue("monitor")
	d := &driftReportData{Monitor: monitorRow{Name: name}}
	v.Data = d
	v.Title = "Drift: " + name
	var at time.Time
	if s := v.query.Get("at"); s != "" {
		var err error
		if at, err = time.Parse(time.RFC3339Nano, s); err != nil {
			v.problem(&fieldError{"at", fmt.Sprintf("at %q is not an RFC 3339 time such as 2026-12-01T09:00:00Z", s)}, http.StatusBadRequest)
		}
	}
	if !v.OK() {
		u.render(w, r, "driftreport", v)
		return
	}
	var mon *drift.Monitor
	for _, m := range u.tenantMonitors(v.Tenant) {
		if m.Name == name {
			mon = m
			d.Monitor = monitorRow{Name: m.Name, Watch: m.Watch.String(), Filter: filterText(m.Filter), File: m.File, Defined: true}
		}
	}
	var recs []store.Decoded[drift.Verdict]
	rs := u.reads(r)
	rs.do(&d.Problem, "The verdicts", func(ctx context.Context) (err error) {
		recs, err = drift.Verdicts.Read(ctx, u.opts.Store, store.EventQuery{Tenant: v.Tenant, Subjects: []string{name}, Start: tr.Start, End: tr.End})
		return err
	})
	rs.wait()
	for _, rec := range recs {
		d.Judgements = append(d.Judgements, judgement{At: rec.Event.Time, Verdict: rec.Value})
	}
	if mon == nil && len(d.Judgements) == 0 && d.Problem == "" {
		v.problem(&fieldError{"monitor", fmt.Sprintf("no drift monitor %s in tenant %s, and no verdict of one in this range", name, v.Tenant)}, http.StatusNotFound)
		u.render(w, r, "driftreport", v)
		return
	}
	if len(d.Judgements) > 0 {
		d.Monitor.Watch = d.Judgements[0].Watch
		d.Selected = &d.Judgements[0]
		if !at.IsZero() {
			d.Selected = nil
			for i := range d.Judgements {
				if d.Judgements[i].At.Equal(at) {
					d.Selected = &d.Judgements[i]
				}
			}
			if d.Selected == nil {
				v.problem(&fieldError{"at", "no judgement of " + name + " at " + at.Format(time.RFC3339)}, http.StatusNotFound)
			}
		}
		d.Chart = driftChart(d.Judgements)
	}
	if d.Selected != nil && mon != nil {
		rs := u.reads(r)
		rs.do(&d.HistProblem, "The histograms", func(ctx context.Context) (err error) {
			d.Hist, err = u.histogramOf(ctx, mon, d.Selected)
			return err
		})
		rs.wait()
	}
	u.render(w, r, "driftreport", v)
}

// driftChart draws each judgement's statistic with the threshold.
func driftChart(js []judgement) *chart {
	c := &chart{ID: "drift-score", Title: "Statistic of each judgement", Unit: string(js[0].Method), Kind: "line"}
	stat := chartSeries{Label: "statistic"}
	p := chartSeries{Label: "p-value"}
	hasP := false
	for i := len(js) - 1; i >= 0; i-- { // oldest first
		j := js[i]
		c.X = append(c.X, float64(j.At.Unix()))
		s := float64(j.Statistic)
		stat.Values = append(stat.Values, finite(s))
		if j.PValue != nil {
			hasP = true
			p.Values = append(p.Values, finite(float64(*j.PValue)))
		} else {
			p.Values = append(p.Values, nil)
		}
	}
	c.Series = []chartSeries{stat}
	if hasP {
		c.Series = append(c.Series, p)
	}
	c.Marks = []chartThreshold{{Label: "threshold", Value: js[0].Threshold}}
	return c
}

func finite(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

// histogramOf reads the judgement's two windows again, as the drift job
// read them (span values or a metric watch's samples), and bins them:
// equal-width bins over both sides' range for numbers, the most frequent
// labels for categories. A baseline from a CSV file is its reference.
func (u *UI) histogramOf(ctx context.Context, m *drift.Monitor, j *judgement) (*histogram, error) {
	h := &histogram{Kind: j.Kind}
	h.RefFrom, h.RefTo, h.CurFrom, h.CurTo = m.Windows(j.At)
	read := func(from, to time.Time) ([]string, error) {
		return drift.Values(ctx, u.opts.Store, m, from, to, 0)
	}
	var ref []string
	if base := m.Reference.Baseline; base != nil {
		ref, h.Baseline = base.Values(), m.Reference.File+", column "+m.Reference.Column
	} else {
		var err error
		if ref, err = read(h.RefFrom, h.RefTo); err != nil {
			return nil, err
		}
	}
	cur, err := read(h.CurFrom, h.CurTo)
	if err != nil {
		return nil, err
	}
	h.RefN, h.CurN = len(ref), len(cur)
	if j.Kind == "numeric" {
		numericHistogram(h, floats(ref), floats(cur))
	} else {
		categoricalHistogram(h, ref, cur)
	}
	layoutHistogram(h)
	return h, nil
}

func tenantOrDefault(t string) string {
	if t == "" {
		return store.DefaultTenant
	}
	return t
}

func floats(vs []string) []float64 {
	out := make([]float64, 0, len(vs))
	for _, s := range vs {
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			out = append(out, f)
		}
	}
	return out
}

// histBins is how many equal-width bins a numeric histogram has.
const histBins = 20

func numericHistogram(h *histogram, ref, cur []float64) {
	if len(ref)+len(cur) == 0 {
		return
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, f := range append(append([]float64{}, ref...), cur...) {
		lo, hi = math.Min(lo, f), math.Max(hi, f)
	}
	width := (hi - lo) / histBins
	if width == 0 {
		width = 1
	}
	h.Bins = make([]histBin, histBins)
	for i := range h.Bins {
		h.Bins[i].Label = formatNumber(lo+float64(i)*width) + "–" + formatNumber(lo+float64(i+1)*width)
	}
	count := func(vs []float64, share func(*histBin) *float64) {
		for _, f := range vs {
			i := min(int((f-lo)/width), histBins-1)
			*share(&h.Bins[i]) += 1 / float64(len(vs))
		}
	}
	count(ref, func(b *histBin) *float64 { return &b.Ref })
	count(cur, func(b *histBin) *float64 { return &b.Cur })
}

// histCategories bounds the labels drawn; the rest are summed as "other".
const histCategories = 12

func categoricalHistogram(h *histogram, ref, cur []string) {
	rc, cc := map[string]int{}, map[string]int{}
	for _, s := range ref {
		rc[s]++
	}
	for _, s := range cur {
		cc[s]++
	}
	labels := slicesSortedKeys(rc)
	for l := range cc {
		if _, ok := rc[l]; !ok {
			labels = append(labels, l)
		}
	}
	slices.SortStableFunc(labels, func(a, b string) int { return (rc[b] + cc[b]) - (rc[a] + cc[a]) })
	share := func(n, of int) float64 {
		if of == 0 {
			return 0
		}
		return float64(n) / float64(of)
	}
	var other histBin
	for i, l := range labels {
		b := histBin{Label: l, Ref: share(rc[l], len(ref)), Cur: share(cc[l], len(cur))}
		if i >= histCategories {
			other.Label, other.Ref, other.Cur = "other", other.Ref+b.Ref, other.Cur+b.Cur
			continue
		}
		h.Bins = append(h.Bins, b)
	}
	if other.Label != "" {
		h.Bins = append(h.Bins, other)
	}
}

// layoutHistogram places the bars in an SVG 100 high, two bars a bin.
func layoutHistogram(h *histogram) {
	for _, b := range h.Bins {
		h.Max = math.Max(h.Max, math.Max(b.Ref, b.Cur))
	}
	h.Width = max(len(h.Bins)*24, 24)
	for i := range h.Bins {
		b := &h.Bins[i]
		b.X = i * 24
		if h.Max > 0 {
			b.RefH, b.CurH = math.Round(b.Ref/h.Max*1000)/10, math.Round(b.Cur/h.Max*1000)/10
		}
	}
}
