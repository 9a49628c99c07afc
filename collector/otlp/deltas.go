package otlp

import (
	"maps"
	"math"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Deltas turns delta-temporality points into cumulative ones, as the
// OpenTelemetry collector's deltatocumulative processor and Prometheus's
// OTLP receiver do: each stream (tenant, name and labels) keeps its
// running totals in memory, and each delta point is added to them.
//
// The totals live in this collector's memory: every delta of a stream
// must reach the same collector (as with deltatocumulative), and a
// restart starts the totals again from zero, which PromQL reads as a
// counter reset. A point not newer than its stream's last is refused;
// a stream without points for MaxStale is forgotten.
type Deltas struct {
	MaxStale time.Duration // 0 means 10 minutes

	mu        sync.Mutex
	streams   map[streamKey]*stream // guarded by mu
	lastSweep time.Time             // guarded by mu
}

type streamKey struct {
	tenant      string
	fingerprint uint64
}

// stream is one stream's totals.
type stream struct {
	last uint64    // timestamp of the last point added, Unix ns
	seen time.Time // when that point arrived, for expiry

	value   float64     // a sum's total
	count   uint64      // a histogram's count
	sum     float64     // a histogram's sum
	bounds  []float64   // an explicit histogram's bounds
	buckets []uint64    // an explicit histogram's per-bucket counts
	exp     *expBuckets // an exponential histogram's buckets
}

func (d *Deltas) maxStale() time.Duration {
	if d.MaxStale == 0 {
		return 10 * time.Minute
	}
	return d.MaxStale
}

// next returns the stream's totals to add a point at ts to, or false when
// the point is not newer than the stream's last. Call with d.mu held.
func (d *Deltas) nextLocked(k streamKey, ts uint64) (*stream, bool) {
	now := time.Now()
	if now.Sub(d.lastSweep) > d.maxStale() {
		for key, s := range d.streams {
			if now.Sub(s.seen) > d.maxStale() {
				delete(d.streams, key)
			}
		}
		d.lastSweep = now
	}
	if d.streams == nil {
		d.streams = map[streamKey]*stream{}
	}
	s := d.streams[k]
	if s == nil {
		s = &stream{}
		d.streams[k] = s
	} else if ts <= s.last {
		return nil, false
	}
	s.last, s.seen = ts, now
	return s, true
}

// sum adds a delta to a sum and returns its total.
func (d *Deltas) sum(k streamKey, ts uint64, v float64) (float64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.nextLocked(k, ts)
	if !ok {
		return 0, false
	}
	s.value += v
	return s.value, true
}

// histogram adds a delta to an explicit-bucket histogram and returns its
// totals; new bounds start the totals again.
func (d *Deltas) histogram(k streamKey, ts uint64, bounds []float64, buckets []uint64, count uint64, sum float64) ([]uint64, uint64, float64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.nextLocked(k, ts)
	if !ok {
		return nil, 0, 0, false
	}
	if !slices.Equal(s.bounds, bounds) || len(s.buckets) != len(buckets) {
		s.bounds, s.buckets, s.count, s.sum = slices.Clone(bounds), make([]uint64, len(buckets)), 0, 0
	}
	for i, b := range buckets {
		s.buckets[i] += b
	}
	s.count += count
	s.sum += sum
	return slices.Clone(s.buckets), s.count, s.sum, true
}

// exponential adds a delta to an exponential histogram and returns its
// totals, at the coarser of the two scales.
func (d *Deltas) exponential(k streamKey, ts uint64, e *expBuckets, count uint64, sum float64) (*expBuckets, uint64, float64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.nextLocked(k, ts)
	if !ok {
		return nil, 0, 0, false
	}
	if s.exp == nil {
		s.exp = &expBuckets{scale: e.scale, pos: map[int32]uint64{}, neg: map[int32]uint64{}}
	}
	s.exp.merge(e)
	s.count += count
	s.sum += sum
	return s.exp.clone(), s.count, s.sum, true
}

// expBuckets are an exponential histogram's buckets by index: at scale s,
// positive bucket i covers (base^i, base^(i+1)] with base = 2^(2^-s), and
// negative bucket i mirrors it.
type expBuckets struct {
	scale         int32
	zeroThreshold float64
	zeroCount     uint64
	pos, neg      map[int32]uint64
}

func expBucketsOf(p pmetric.ExponentialHistogramDataPoint) *expBuckets {
	e := &expBuckets{scale: p.Scale(), zeroThreshold: p.ZeroThreshold(), zeroCount: p.ZeroCount(), pos: map[int32]uint64{}, neg: map[int32]uint64{}}
	for i, c := range p.Positive().BucketCounts().All() {
		e.pos[p.Positive().Offset()+int32(i)] += c
	}
	for i, c := range p.Negative().BucketCounts().All() {
		e.neg[p.Negative().Offset()+int32(i)] += c
	}
	return e
}

// merge adds o's counts. The finer of the two is first brought to the
// coarser scale: lowering the scale by k merges 2^k buckets into one,
// bucket i becoming bucket i>>k.
func (e *expBuckets) merge(o *expBuckets) {
	if o.scale < e.scale {
		e.downscale(e.scale - o.scale)
	}
	shift := o.scale - e.scale
	for i, c := range o.pos {
		e.pos[i>>shift] += c
	}
	for i, c := range o.neg {
		e.neg[i>>shift] += c
	}
	e.zeroCount += o.zeroCount
	e.zeroThreshold = max(e.zeroThreshold, o.zeroThreshold)
}

func (e *expBuckets) downscale(k int32) {
	for _, m := range []*map[int32]uint64{&e.pos, &e.neg} {
		merged := make(map[int32]uint64, len(*m))
		for i, c := range *m {
			merged[i>>k] += c
		}
		*m = merged
	}
	e.scale -= k
}

func (e *expBuckets) clone() *expBuckets {
	c := *e
	c.pos, c.neg = make(map[int32]uint64, len(e.pos)), make(map[int32]uint64, len(e.neg))
	for i, n := range e.pos {
		c.pos[i] = n
	}
	for i, n := range e.neg {
		c.neg[i] = n
	}
	return &c
}

// classic lists the buckets in ascending order of upper bound: negative
// buckets (highest index first, upper bound -base^i), the zero bucket
// (upper bound the zero threshold), then positive buckets (upper bound
// base^(i+1)).
func (e *expBuckets) classic() (les []float64, counts []uint64) {
	base := math.Pow(2, math.Pow(2, -float64(e.scale)))
	neg := slices.Sorted(maps.Keys(e.neg))
	for j := len(neg) - 1; j >= 0; j-- {
		les = append(les, -math.Pow(base, float64(neg[j])))
		counts = append(counts, e.neg[neg[j]])
	}
	les = append(les, e.zeroThreshold)
	counts = append(counts, e.zeroCount)
	for _, i := range slices.Sorted(maps.Keys(e.pos)) {
		les = append(les, math.Pow(base, float64(i)+1))
		counts = append(counts, e.pos[i])
	}
	return les, counts
}
