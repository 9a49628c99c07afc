package ui

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
)

type sloData struct {
	Name          string
	SLO           *slo.SLO
	Status        slo.Status
	HasStatus     bool
	SLIText       string
	BadTraces     string // the traces the SLI counts as bad, when it counts spans
	Service       string
	History       []alertRow
	Charts        []chart
	Problem       string
	HistProblem   string
	ChartsProblem string
}

// maxSLORange bounds the SLI and event-rate charts' range: rollups are
// per minute, so months are cheap, but a chart of them is not readable.
const maxSLORange = 90 * 24 * time.Hour

// sloPage is one SLO: its objective, SLI, budget and state, the burn-rate
// table (windows, thresholds, current rates, which fire), its alert
// history, and (lazily, ?panel=charts) the error budget over the SLO's
// window and the SLI and event rates over the picked range.
func (u *UI) sloPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	v := u.newView(w, r, name+" · SLOs", "slos")
	tr := v.timeRange(maxSLORange)
	d := &sloData{Name: name}
	v.Data = d
	for _, s := range u.tenantSLOs(v.Tenant) {
		if s.Name == name {
			d.SLO = s
		}
	}
	if d.SLO == nil {
		v.problem(&fieldError{"name", fmt.Sprintf("There is no SLO named %q in tenant %s.", name, v.Tenant)}, http.StatusNotFound)
	}
	if v.OK() {
		d.describe(v)
		if v.Panel == "charts" {
			u.loadSLOCharts(r, v, d, tr)
		} else {
			u.loadSLO(r, v, d)
		}
	}
	u.render(w, r, "slo", v)
}

// describe says what the SLI counts, and links to the spans it counts as
// bad when it counts spans.
func (d *sloData) describe(v *view) {
	s := d.SLO
	d.SLIText = s.SLI.Describe(s.Service)
	d.Service = s.TelemetryService()
	switch sli := s.SLI.(type) {
	case slo.SpanLatency:
		d.BadTraces = v.Link("/traces", "service", d.Service, "operation", sli.Operation, "model", sli.Model, "min", sli.Latency.String())
	case slo.SpanAvailability:
		d.BadTraces = v.Link("/traces", "service", d.Service, "operation", sli.Operation, "model", sli.Model, "status", "error")
	case slo.SpanAttribute:
		d.BadTraces = v.Link("/traces", "service", d.Service, "operation", sli.Operation, "model", sli.Model)
	}
}

func (u *UI) loadSLO(r *http.Request, v *view, d *sloData) {
	from, _ := d.SLO.Window.Bounds(v.Now)
	rs := u.reads(r)
	rs.do(&d.Problem, "The SLO's standing", func(ctx context.Context) (err error) {
		d.Status, err = slo.Compute(ctx, u.opts.Store, d.SLO, v.Now)
		d.HasStatus = err == nil
		return err
	})
	rs.do(&d.HistProblem, "The alert history", func(ctx context.Context) error {
		evs, err := slo.AlertTransitions.Read(ctx, u.opts.Store, store.EventQuery{Tenant: v.Tenant, Subjects: []string{d.SLO.Name}, Start: from, End: v.Now.Add(time.Second), Limit: 200})
		for _, ev := range evs {
			tr := ev.Value
			d.History = append(d.History, alertRow{Fingerprint: tr.Fingerprint, SLO: tr.SLO, State: tr.State, Severity: tr.Labels["severity"],
				Labels: tr.Labels, Summary: ev.Event.Summary, Since: ev.Event.Time, StartsAt: tr.StartsAt})
		}
		return err
	})
	rs.wait()
}

// burnDownPoints is how many points the budget chart has.
const burnDownPoints = 120

func (u *UI) loadSLOCharts(r *http.Request, v *view, d *sloData, tr timeRange) {
	s := d.SLO
	winStart, _ := s.Window.Bounds(v.Now)
	// The budget at each point is over that point's own window, which for
	// a rolling window starts a window before it.
	readFrom, _ := s.Window.Bounds(winStart)
	if tr.Start.Before(readFrom) {
		readFrom = tr.Start
	}
	var rollups []store.Rollup
	rs := u.reads(r)
	rs.do(&d.ChartsProblem, "The SLO's charts", func(ctx context.Context) (err error) {
		rollups, err = u.opts.Store.Rollups(ctx, store.RollupQuery{Tenant: v.Tenant, SLO: s.Name, Start: readFrom, End: v.Now.Add(time.Minute)})
		return err
	})
	rs.wait()
	cum := newCumulative(rollups)
	d.Charts = append(d.Charts, burnDown(s, cum, winStart, v.Now))
	d.Charts = append(d.Charts, sliCharts(s, cum, tr)...)
}

// cumulative answers good and total events before a time in O(log n).
type cumulative struct {
	minutes     []time.Time
	good, total []float64 // sums of the minutes before index i
}

func newCumulative(rs []store.Rollup) cumulative {
	c := cumulative{good: []float64{0}, total: []float64{0}}
	for _, r := range rs {
		c.minutes = append(c.minutes, r.Minute)
		c.good = append(c.good, c.good[len(c.good)-1]+r.Good)
		c.total = append(c.total, c.total[len(c.total)-1]+r.Total)
	}
	return c
}

// between sums the minutes in [from, to).
func (c cumulative) between(from, to time.Time) slo.Counts {
	i := sort.Search(len(c.minutes), func(k int) bool { return !c.minutes[k].Before(from) })
	j := sort.Search(len(c.minutes), func(k int) bool { return !c.minutes[k].Before(to) })
	return slo.Counts{Good: c.good[j] - c.good[i], Total: c.total[j] - c.total[i]}
}

// burnDown is the error budget left at each point of the current window,
// each over the window that ended there, with the line where it runs out.
func burnDown(s *slo.SLO, cum cumulative, from, now time.Time) chart {
	c := chart{ID: "budget", Title: "Error budget remaining over " + s.Window.String(), Unit: "%", Kind: "line",
		Marks: []chartThreshold{{Label: "exhausted", Value: 0}}}
	step := max(now.Sub(from)/burnDownPoints, time.Minute)
	left := chartSeries{Label: "budget remaining"}
	for t := from.Add(step); !t.After(now); t = t.Add(step) {
		ws, _ := s.Window.Bounds(t)
		c.X = append(c.X, float64(t.Unix()))
		left.Values = append(left.Values, nil)
		if b := slo.OccurrencesBudget(cum.between(ws, t), s.Objective); !b.NoData {
			pct := 100 * b.Remaining
			left.Values[len(left.Values)-1] = &pct
		}
	}
	c.Series, c.Step = []chartSeries{left}, int64(step/time.Second)
	return c
}

// sliCharts are the SLI and the event rates per step of the range.
func sliCharts(s *slo.SLO, cum cumulative, tr timeRange) []chart {
	step := max(tr.step(60), time.Minute)
	x := steps(tr, step)
	sli := chart{ID: "sli", Title: "SLI", Unit: "%", Kind: "line", X: x, Step: int64(step / time.Second),
		Marks: []chartThreshold{{Label: "objective", Value: 100 * s.Objective}}}
	rates := chart{ID: "events", Title: "Events per second", Unit: "ev/s", Kind: "line", X: x, Step: sli.Step}
	ratio, good, bad := chartSeries{Label: "SLI"}, chartSeries{Label: "good"}, chartSeries{Label: "bad"}
	for _, at := range x {
		t := time.Unix(int64(at), 0)
		n := cum.between(t, t.Add(step))
		g, b := float64(n.Good)/step.Seconds(), float64(n.Total-n.Good)/step.Seconds()
		good.Values, bad.Values = append(good.Values, &g), append(bad.Values, &b)
		var p *float64
		if r, ok := n.Ratio(); ok {
			pct := 100 * r
			p = &pct
		}
		ratio.Values = append(ratio.Values, p)
	}
	sli.Series, rates.Series = []chartSeries{ratio}, []chartSeries{good, bad}
	return []chart{sli, rates}
}
