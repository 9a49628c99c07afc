package ui

import (
	"slices"
	"time"
)

// chart is what the chart island draws with uPlot, and what its "view as
// table" shows without any script: one x axis (Unix seconds) and series
// of values, null where a step has no data.
type chart struct {
	ID     string           `json:"id"`
	Title  string           `json:"title"`
	Unit   string           `json:"unit"`
	Kind   string           `json:"kind"` // line, or scatter (x and y per point)
	X      []float64        `json:"x"`
	Series []chartSeries    `json:"series"`
	Step   int64            `json:"step"` // seconds; a click on a line opens [x, x+step)
	Drill  string           `json:"drill,omitempty"`
	By     string           `json:"by,omitempty"`    // the drill's parameter a clicked series sets
	Links  []string         `json:"links,omitempty"` // per point of a scatter
	Marks  []chartThreshold `json:"marks,omitempty"`
}

type chartSeries struct {
	Label  string     `json:"label"`
	Values []*float64 `json:"values"`
	Bad    []bool     `json:"bad,omitempty"` // per point of a scatter: drawn as an error
}

// chartThreshold is a horizontal line drawn across a chart: an objective,
// a budget's zero.
type chartThreshold struct {
	Label string  `json:"label"`
	Value float64 `json:"value"`
}

// Times are the x axis as times, for the table view.
func (c chart) Times() []time.Time {
	out := make([]time.Time, len(c.X))
	for i, x := range c.X {
		out[i] = time.Unix(int64(x), 0).UTC()
	}
	return out
}

// Row is the table view's row i: each series' value there.
func (c chart) Row(i int) []*float64 {
	out := make([]*float64, len(c.Series))
	for j, s := range c.Series {
		if i < len(s.Values) {
			out[j] = s.Values[i]
		}
	}
	return out
}

// steps are the bucket starts of a range split by step.
func steps(tr timeRange, step time.Duration) []float64 {
	var out []float64
	for t := tr.Start; t.Before(tr.End); t = t.Add(step) {
		out = append(out, float64(t.Unix()))
	}
	return out
}

// seriesSet collects series by label, each with a slot per step.
type seriesSet struct {
	n      int
	labels []string
	values map[string][]*float64
	weight map[string]float64
}

func newSeriesSet(n int) *seriesSet {
	return &seriesSet{n: n, values: map[string][]*float64{}, weight: map[string]float64{}}
}

// set puts v at step i of the series label; weight ranks series for top.
func (s *seriesSet) set(label string, i int, v, weight float64) {
	if i < 0 || i >= s.n {
		return
	}
	if s.values[label] == nil {
		s.values[label] = make([]*float64, s.n)
		s.labels = append(s.labels, label)
	}
	s.values[label][i] = &v
	s.weight[label] += weight
}

// top is the n heaviest series, heaviest first: a chart of forty lines
// helps nobody; the table beside it lists everything.
func (s *seriesSet) top(n int) []chartSeries {
	labels := slices.Clone(s.labels)
	slices.SortStableFunc(labels, func(a, b string) int { return cmpFloat(s.weight[b], s.weight[a]) })
	var out []chartSeries
	for _, l := range labels[:min(n, len(labels))] {
		out = append(out, chartSeries{Label: l, Values: s.values[l]})
	}
	return out
}
