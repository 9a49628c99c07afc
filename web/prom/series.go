package prom

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/vigil-dev/vigil/store"
)

// matcherSets parses the match[] selectors; each must have a matcher that
// does not match the empty string, as in Prometheus.
func (a *API) matcherSets(r *http.Request) ([][]*labels.Matcher, error) {
	sets, err := a.Engine.Parser().ParseMetricSelectors(r.Form["match[]"])
	if err != nil {
		return nil, err
	}
	for _, ms := range sets {
		if !slices.ContainsFunc(ms, func(m *labels.Matcher) bool { return !m.Matches("") }) {
			return nil, errors.New("match[] must contain at least one non-empty matcher")
		}
	}
	return sets, nil
}

func (a *API) series(r *http.Request, org string) result {
	if len(r.Form["match[]"]) == 0 {
		return result{err: badData(errors.New("no match[] parameter provided"))}
	}
	limit, aerr := limitParam(r)
	if aerr != nil {
		return result{err: aerr}
	}
	mint, maxt, aerr := rangeParams(r)
	if aerr != nil {
		return result{err: aerr}
	}
	sets, err := a.matcherSets(r)
	if err != nil {
		return result{err: invalidParam("match[]", err)}
	}
	q := a.Engine.Querier(org, mint, maxt)
	defer q.Close()
	// Sorted sets merge without repeats.
	hints := &storage.SelectHints{Start: mint, End: maxt, Func: "series"}
	var all []storage.SeriesSet
	for _, ms := range sets {
		all = append(all, q.Select(r.Context(), true, hints, ms...))
	}
	set := storage.NewMergeSeriesSet(all, 0, storage.ChainedSeriesMerge)
	metrics := []labels.Labels{}
	var ws annotations.Annotations
	for set.Next() {
		if limit > 0 && len(metrics) == limit {
			ws.Add(truncated)
			break
		}
		metrics = append(metrics, set.At().Labels())
	}
	if err := set.Err(); err != nil {
		return result{err: execError(err)}
	}
	return result{data: metrics, warnings: ws}
}

func (a *API) labelNames(r *http.Request, org string) result {
	return a.labelLookup(r, org, func(q storage.Querier, ms []*labels.Matcher) ([]string, error) {
		names, _, err := q.LabelNames(r.Context(), nil, ms...)
		return names, err
	})
}

func (a *API) labelValues(r *http.Request, org string) result {
	name := r.PathValue("name")
	if strings.HasPrefix(name, "U__") {
		name = model.UnescapeName(name, model.ValueEncodingEscaping)
	}
	if !model.UTF8Validation.IsValidLabelName(name) {
		return result{err: badData(fmt.Errorf("invalid label name: %q", name))}
	}
	return a.labelLookup(r, org, func(q storage.Querier, ms []*labels.Matcher) ([]string, error) {
		vals, _, err := q.LabelValues(r.Context(), name, nil, ms...)
		return vals, err
	})
}

// labelLookup answers labels and label values: the union over the match[]
// sets (none: every series), sorted, limited.
func (a *API) labelLookup(r *http.Request, org string, lookup func(storage.Querier, []*labels.Matcher) ([]string, error)) result {
	limit, aerr := limitParam(r)
	if aerr != nil {
		return result{err: aerr}
	}
	mint, maxt, aerr := rangeParams(r)
	if aerr != nil {
		return result{err: aerr}
	}
	sets, err := a.matcherSets(r)
	if err != nil {
		return result{err: badData(err)}
	}
	if len(sets) == 0 {
		sets = [][]*labels.Matcher{nil}
	}
	q := a.Engine.Querier(org, mint, maxt)
	defer q.Close()
	out := []string{}
	for _, ms := range sets {
		vals, err := lookup(q, ms)
		if err != nil {
			return result{err: execError(err)}
		}
		out = append(out, vals...)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	var ws annotations.Annotations
	if limit > 0 && len(out) > limit {
		out = out[:limit]
		ws.Add(truncated)
	}
	return result{data: out, warnings: ws}
}

// metricMetadata is Prometheus's metadata of a metric family. Vigil keeps
// a series' type, not its help text or unit.
type metricMetadata struct {
	Type string `json:"type"`
	Help string `json:"help"`
	Unit string `json:"unit"`
}

var typeNames = map[store.MetricType]string{
	store.MetricUnknown:   "unknown",
	store.MetricGauge:     "gauge",
	store.MetricCounter:   "counter",
	store.MetricHistogram: "histogram",
	store.MetricSummary:   "summary",
}

// familySuffixes are the series a family of a type has besides its name.
var familySuffixes = map[store.MetricType][]string{
	store.MetricHistogram: {"_bucket", "_sum", "_count"},
	store.MetricSummary:   {"_sum", "_count"},
}

func (a *API) metadata(r *http.Request, org string) result {
	limit, err := optionalInt(r, "limit")
	if err != nil {
		return result{err: badData(err)}
	}
	perMetric, err := optionalInt(r, "limit_per_metric")
	if err != nil {
		return result{err: badData(err)}
	}
	q := store.SeriesQuery{Tenant: org}
	if metric := r.FormValue("metric"); metric != "" {
		m, err := store.NewMatcher(store.MatchRegexp, store.MetricNameLabel, regexp.QuoteMeta(metric)+"(_bucket|_sum|_count)?")
		if err != nil {
			return result{err: badData(err)}
		}
		q.Matchers = []*store.Matcher{m}
	}
	families, err := a.Store.MetricFamilies(r.Context(), q)
	if err != nil {
		return result{err: execError(err)}
	}
	out := map[string][]metricMetadata{}
	for _, f := range families {
		name := familyName(f)
		if metric := r.FormValue("metric"); metric != "" && name != metric {
			continue
		}
		md := metricMetadata{Type: typeNames[f.Type]}
		if _, seen := out[name]; !seen && limit >= 0 && len(out) >= limit {
			continue
		}
		if ms := out[name]; !slices.Contains(ms, md) && (perMetric <= 0 || len(ms) < perMetric) {
			out[name] = append(ms, md)
		}
	}
	return result{data: out}
}

// familyName is the family a series name belongs to: a histogram's
// name_bucket is name's.
func familyName(f store.MetricFamily) string {
	for _, s := range familySuffixes[f.Type] {
		if base, ok := strings.CutSuffix(f.Name, s); ok {
			return base
		}
	}
	return f.Name
}

// optionalInt reads a number parameter; -1 when it is absent.
func optionalInt(r *http.Request, name string) (int, error) {
	s := r.FormValue(name)
	if s == "" {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s must be a number", name)
	}
	return n, nil
}
