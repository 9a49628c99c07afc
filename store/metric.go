package store

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/cespare/xxhash/v2"
)

// MetricType is the kind of a series, as Prometheus and OTLP name them.
// Histograms are stored as their bucket, _sum and _count series.
type MetricType int8

const (
	MetricUnknown MetricType = iota
	MetricGauge
	MetricCounter
	MetricHistogram
	MetricSummary
)

// MetricNameLabel is the label that carries a series' metric name.
const MetricNameLabel = "__name__"

// Series is a metric series' identity: its name and its labels (without
// __name__), sorted by name.
type Series struct {
	Tenant      string
	Name        string
	Labels      Attributes
	Type        MetricType
	Fingerprint uint64
}

// NewSeries builds a series with sorted labels and its fingerprint.
func NewSeries(tenant, name string, typ MetricType, labels Attributes) Series {
	l := labels.SortedCopy()
	return Series{Tenant: tenant, Name: name, Labels: l, Type: typ, Fingerprint: Fingerprint(name, l)}
}

// Fingerprint hashes a metric name and its sorted labels. It is stable
// across processes and versions: it is stored.
func Fingerprint(name string, sortedLabels Attributes) uint64 {
	h := xxhash.New()
	sep := []byte{0xff}
	h.WriteString(name)
	h.Write(sep)
	for _, l := range sortedLabels {
		h.WriteString(l.Key)
		h.Write(sep)
		h.WriteString(l.Value)
		h.Write(sep)
	}
	return h.Sum64()
}

// Label returns the value of a label, or the name for __name__.
func (s *Series) Label(name string) string {
	if name == MetricNameLabel {
		return s.Name
	}
	v, _ := s.Labels.Get(name)
	return v
}

// Sample is one value of a series at a time.
type Sample struct {
	Tenant        string
	Fingerprint   uint64
	TimestampMsec int64
	Value         float64
}

// MatchType is a Prometheus label matcher operator.
type MatchType int

const (
	MatchEqual MatchType = iota
	MatchNotEqual
	MatchRegexp
	MatchNotRegexp
)

// Matcher selects series by one label, with Prometheus semantics: regexps
// are fully anchored, and a missing label has the value "".
type Matcher struct {
	Type  MatchType
	Name  string
	Value string
	re    *regexp.Regexp
}

// NewMatcher builds a matcher, compiling regexps.
func NewMatcher(t MatchType, name, value string) (*Matcher, error) {
	m := &Matcher{Type: t, Name: name, Value: value}
	if t == MatchRegexp || t == MatchNotRegexp {
		re, err := regexp.Compile("^(?s:" + value + ")$")
		if err != nil {
			return nil, fmt.Errorf("cannot parse regexp %q for label %s: %w", value, name, err)
		}
		m.re = re
	}
	return m, nil
}

// Matches reports whether the label value v satisfies the matcher.
func (m *Matcher) Matches(v string) bool {
	switch m.Type {
	case MatchEqual:
		return v == m.Value
	case MatchNotEqual:
		return v != m.Value
	case MatchRegexp:
		return m.re.MatchString(v)
	case MatchNotRegexp:
		return !m.re.MatchString(v)
	}
	return false
}

// MatchSeries reports whether s satisfies every matcher. Backends select
// candidate series and call this, so matching is the same on each.
func MatchSeries(s *Series, ms []*Matcher) bool {
	for _, m := range ms {
		if !m.Matches(s.Label(m.Name)) {
			return false
		}
	}
	return true
}

// MetricNameFilter returns the metric name an equality matcher on __name__
// pins, so a backend can narrow its scan before matching.
func MetricNameFilter(ms []*Matcher) (string, bool) {
	for _, m := range ms {
		if m.Name == MetricNameLabel && m.Type == MatchEqual {
			return m.Value, true
		}
	}
	return "", false
}

// SortSeries orders series by name, then labels, then fingerprint.
func SortSeries(ss []Series) {
	sort.Slice(ss, func(i, j int) bool {
		a, b := &ss[i], &ss[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		for k := 0; k < len(a.Labels) && k < len(b.Labels); k++ {
			if a.Labels[k] != b.Labels[k] {
				if a.Labels[k].Key != b.Labels[k].Key {
					return a.Labels[k].Key < b.Labels[k].Key
				}
				return a.Labels[k].Value < b.Labels[k].Value
			}
		}
		if len(a.Labels) != len(b.Labels) {
			return len(a.Labels) < len(b.Labels)
		}
		return a.Fingerprint < b.Fingerprint
	})
}

// MetricWriter writes series and their samples. Writing a series that
// exists is a no-op; a sample's series should be written in the same or an
// earlier call.
type MetricWriter interface {
	WriteMetrics(ctx context.Context, series []Series, samples []Sample) error
}

// MetricReader reads series and samples back.
type MetricReader interface {
	// Series returns the tenant's series matching every matcher, sorted
	// with SortSeries. At least one matcher is required.
	Series(ctx context.Context, tenant string, matchers []*Matcher) ([]Series, error)
	// Samples returns the samples of the given series with timestamps in
	// [start, end), ordered by fingerprint, then time; staleness markers
	// (StaleNaN) are left out.
	Samples(ctx context.Context, tenant string, fingerprints []uint64, start, end time.Time) ([]Sample, error)
}

// SelectSamples reads the samples, in [start, end), of every series of the
// tenant a PromQL series selector matches: ordered by series, then time.
func SelectSamples(ctx context.Context, r MetricReader, tenant, selector string, start, end time.Time) ([]Sample, error) {
	ms, err := ParseSelector(selector)
	if err != nil {
		return nil, err
	}
	series, err := r.Series(ctx, tenant, ms)
	if err != nil || len(series) == 0 {
		return nil, err
	}
	fps := make([]uint64, len(series))
	for i := range series {
		fps[i] = series[i].Fingerprint
	}
	samples, err := r.Samples(ctx, tenant, fps, start, end)
	if err != nil {
		return nil, fmt.Errorf("cannot read samples of %s: %w", selector, err)
	}
	return samples, nil
}
