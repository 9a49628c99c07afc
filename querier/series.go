package querier

import (
	"context"
	"slices"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/vigil-dev/vigil/store"
)

const (
	// batchSamples is about how many samples one store read brings into
	// memory (16 MB of points): the engine iterates a selector's series
	// one after the other, so a batch of consecutive series is read at
	// once and freed as their iterators move on.
	batchSamples = 1 << 20
	// maxBatchSeries bounds the fingerprints one read lists in its SQL
	// (ClickHouse refuses queries over 256 KiB).
	maxBatchSeries = 4096
	// assumedInterval sizes the first batch, before any series has been
	// read: Prometheus's default scrape interval, in milliseconds.
	assumedInterval = 15_000
)

type point struct {
	t int64
	v float64
}

// selection is one selector's series, a storage.SeriesSet whose samples
// are read lazily in batches of consecutive series.
type selection struct {
	ctx        context.Context
	q          *queryable
	series     []*series
	mint, maxt int64
	cur        int // index of the series At returns, -1 before Next
	// perSeries is the average samples per series of the last batch, to
	// size the next one.
	perSeries int64
}

func newSelection(ctx context.Context, q *queryable, found []store.Series, mint, maxt int64, onlyLabels bool) *selection {
	sel := &selection{ctx: ctx, q: q, mint: mint, maxt: maxt, cur: -1, perSeries: (maxt-mint)/assumedInterval + 1}
	sel.series = make([]*series, len(found))
	for i := range found {
		sel.series[i] = &series{sel: sel, index: i, labels: promLabels(&found[i]), fp: found[i].Fingerprint, onlyLabels: onlyLabels}
	}
	return sel
}

// promLabels is a series' label set as Prometheus has it: __name__ among
// the labels, sorted, and no label with an empty value.
func promLabels(s *store.Series) labels.Labels {
	b := labels.NewScratchBuilder(len(s.Labels) + 1)
	b.Add(labels.MetricName, s.Name)
	for _, kv := range s.Labels {
		if kv.Value != "" {
			b.Add(kv.Key, kv.Value)
		}
	}
	b.Sort()
	return b.Labels()
}

func (sel *selection) sortByLabels() {
	slices.SortFunc(sel.series, func(a, b *series) int { return labels.Compare(a.labels, b.labels) })
	for i, s := range sel.series {
		s.index = i
	}
}

// Next implements storage.SeriesSet.
func (sel *selection) Next() bool {
	if sel.cur+1 >= len(sel.series) {
		return false
	}
	sel.cur++
	return true
}

// At implements storage.SeriesSet.
func (sel *selection) At() storage.Series { return sel.series[sel.cur] }

// Err implements storage.SeriesSet. A failed batch read is reported by
// its series' iterators and by the query (Query.Exec).
func (sel *selection) Err() error { return nil }

// Warnings implements storage.SeriesSet.
func (sel *selection) Warnings() annotations.Annotations { return nil }

// load reads the samples of the series from index i on, as many series as
// fit a batch, and hands each series its own.
func (sel *selection) load(i int) error {
	size := int(min(max(batchSamples/max(sel.perSeries, 1), 1), maxBatchSeries))
	batch := sel.series[i:min(i+size, len(sel.series))]
	byFP := make(map[uint64]*series, len(batch))
	fps := make([]uint64, len(batch))
	for j, s := range batch {
		byFP[s.fp], fps[j] = s, s.fp
		// Room for as many samples as the last batch's series had: growing
		// by appends alone would allocate each series' samples twice over.
		s.points, s.loaded = make(points, 0, sel.perSeries), true
	}
	var read int64
	err := sel.q.store.ScanSamples(sel.ctx, sel.q.tenant, fps, sel.mint, sel.maxt, func(fp uint64, t int64, v float64) {
		s := byFP[fp]
		// A sample written twice (a retried batch) is read once: the
		// engine needs strictly increasing timestamps.
		if n := len(s.points); n > 0 && s.points[n-1].t == t {
			return
		}
		s.points = append(s.points, point{t, v})
		read++
	})
	sel.q.samplesRead.Add(read)
	sel.perSeries = read/int64(len(batch)) + 1
	if err != nil {
		for _, s := range batch {
			s.points, s.loaded = nil, false
		}
		sel.q.fail(err)
	}
	return err
}

// series is one series of a selection. Its samples, once a batch has read
// them, wait for the series' iterator, which takes them: a series iterated
// a second time reads its batch again.
type series struct {
	sel        *selection
	index      int // in sel.series
	labels     labels.Labels
	fp         uint64
	onlyLabels bool
	points     points
	loaded     bool
}

// Labels implements storage.Series.
func (s *series) Labels() labels.Labels { return s.labels }

// Iterator implements storage.Series.
func (s *series) Iterator(chunkenc.Iterator) chunkenc.Iterator {
	it := &iterator{}
	if !s.onlyLabels && !s.loaded {
		it.err = s.sel.load(s.index)
	}
	it.Iterator = storage.NewListSeriesIterator(s.points)
	s.points, s.loaded = nil, false
	return it
}

// iterator walks one series' samples: Prometheus's list iterator, with
// the error of the read that brought them.
type iterator struct {
	chunkenc.Iterator
	err error
}

// Err implements chunkenc.Iterator.
func (it *iterator) Err() error { return it.err }

// points are a series' samples as storage.Samples; a *point is a
// chunks.Sample without an allocation.
type points []point

func (ps points) Get(i int) chunks.Sample { return &ps[i] }
func (ps points) Len() int                { return len(ps) }

func (p *point) T() int64                    { return p.t }
func (p *point) F() float64                  { return p.v }
func (p *point) Type() chunkenc.ValueType    { return chunkenc.ValFloat }
func (p *point) Copy() chunks.Sample         { c := *p; return &c }
func (*point) ST() int64                     { return 0 } // the store keeps no start timestamps
func (*point) H() *histogram.Histogram       { return nil }
func (*point) FH() *histogram.FloatHistogram { return nil }
