package promrw

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// requestV2 is the decoded part of io.prometheus.write.v2.Request: labels
// are references into the request's symbol table.
type requestV2 struct {
	symbols []string
	series  []seriesV2
}

type seriesV2 struct {
	labelRefs  []uint32
	samples    []sample
	histograms []nativeHistogram
	metaType   int32
	// createdMs is when the series' counter started (Unix ms): the
	// samples' start_timestamp, or the created_timestamp field that
	// remote write 2.0's release candidates had.
	createdMs int64
}

// nativeHistogram is a native histogram as sent: absolute bucket counts.
type nativeHistogram struct {
	ts            int64
	count, sum    float64
	schema        int32
	zeroThreshold float64
	zeroCount     float64
	negSpans      []bucketSpan
	negCounts     []float64
	posSpans      []bucketSpan
	posCounts     []float64
	customValues  []float64
	createdMs     int64
}

type bucketSpan struct {
	offset int32
	length uint32
}

func decodeRequestV2(b []byte) (*requestV2, error) {
	req := &requestV2{}
	err := fields(b, "Request", func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case 4:
			req.symbols = append(req.symbols, string(v))
		case 5:
			ts, err := decodeSeriesV2(v)
			if err != nil {
				return fmt.Errorf("timeseries %d: %w", len(req.series), err)
			}
			req.series = append(req.series, ts)
		}
		return nil
	})
	return req, err
}

func decodeSeriesV2(b []byte) (seriesV2, error) {
	var ts seriesV2
	err := fields(b, "TimeSeries", func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		switch num {
		case 1:
			refs, err := uint32s(typ, v, n)
			ts.labelRefs = append(ts.labelRefs, refs...)
			return err
		case 2:
			s, err := decodeSampleV2(v)
			if s.start > 0 {
				ts.createdMs = s.start
			}
			ts.samples = append(ts.samples, s.sample)
			return err
		case 3:
			h, err := decodeHistogram(v)
			if h.createdMs > 0 {
				ts.createdMs = h.createdMs
			}
			ts.histograms = append(ts.histograms, h)
			return err
		case 5: // field 4, exemplars, is not stored
			return fields(v, "Metadata", func(num protowire.Number, _ protowire.Type, _ []byte, n uint64) error {
				if num == 1 {
					ts.metaType = int32(n)
				}
				return nil
			})
		case 6:
			ts.createdMs = int64(n)
		}
		return nil
	})
	return ts, err
}

// uint32s reads a repeated uint32 field, packed or not.
func uint32s(typ protowire.Type, v []byte, n uint64) ([]uint32, error) {
	if typ == protowire.VarintType {
		return []uint32{uint32(n)}, nil
	}
	var out []uint32
	for len(v) > 0 {
		x, k := protowire.ConsumeVarint(v)
		if k < 0 {
			return nil, fmt.Errorf("cannot parse labels_refs: %w", protowire.ParseError(k))
		}
		out = append(out, uint32(x))
		v = v[k:]
	}
	return out, nil
}

type sampleV2 struct {
	sample
	start int64
}

func decodeSampleV2(b []byte) (sampleV2, error) {
	var s sampleV2
	err := fields(b, "Sample", func(num protowire.Number, typ protowire.Type, _ []byte, n uint64) error {
		switch num {
		case 1:
			if typ != protowire.Fixed64Type {
				return errors.New("sample value is not a double")
			}
			s.value = math.Float64frombits(n)
		case 2:
			s.ts = int64(n)
		case 3:
			s.start = int64(n)
		}
		return nil
	})
	return s, err
}

func decodeHistogram(b []byte) (nativeHistogram, error) {
	var h nativeHistogram
	var negDeltas, posDeltas []int64
	err := fields(b, "Histogram", func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		var err error
		switch num {
		case 1:
			h.count = float64(n)
		case 2:
			h.count = math.Float64frombits(n)
		case 3:
			h.sum = math.Float64frombits(n)
		case 4:
			h.schema = int32(protowire.DecodeZigZag(n & math.MaxUint32))
		case 5:
			h.zeroThreshold = math.Float64frombits(n)
		case 6:
			h.zeroCount = float64(n)
		case 7:
			h.zeroCount = math.Float64frombits(n)
		case 8:
			var sp bucketSpan
			sp, err = decodeBucketSpan(v)
			h.negSpans = append(h.negSpans, sp)
		case 11:
			var sp bucketSpan
			sp, err = decodeBucketSpan(v)
			h.posSpans = append(h.posSpans, sp)
		case 9:
			negDeltas, err = appendSint64s(negDeltas, typ, v, n)
		case 12:
			posDeltas, err = appendSint64s(posDeltas, typ, v, n)
		case 10:
			h.negCounts, err = appendDoubles(h.negCounts, typ, v, n)
		case 13:
			h.posCounts, err = appendDoubles(h.posCounts, typ, v, n)
		case 15:
			h.ts = int64(n)
		case 16:
			h.customValues, err = appendDoubles(h.customValues, typ, v, n)
		case 17:
			h.createdMs = int64(n)
		}
		return err
	})
	// An integer histogram sends each bucket as the delta to the previous.
	if len(negDeltas) > 0 {
		h.negCounts = undelta(negDeltas)
	}
	if len(posDeltas) > 0 {
		h.posCounts = undelta(posDeltas)
	}
	return h, err
}

func decodeBucketSpan(b []byte) (bucketSpan, error) {
	var s bucketSpan
	err := fields(b, "BucketSpan", func(num protowire.Number, _ protowire.Type, _ []byte, n uint64) error {
		switch num {
		case 1:
			s.offset = int32(protowire.DecodeZigZag(n & math.MaxUint32))
		case 2:
			s.length = uint32(n)
		}
		return nil
	})
	return s, err
}

func undelta(ds []int64) []float64 {
	out := make([]float64, len(ds))
	var cur int64
	for i, d := range ds {
		cur += d
		out[i] = float64(cur)
	}
	return out
}

func appendSint64s(dst []int64, typ protowire.Type, v []byte, n uint64) ([]int64, error) {
	if typ == protowire.VarintType {
		return append(dst, protowire.DecodeZigZag(n)), nil
	}
	for len(v) > 0 {
		x, k := protowire.ConsumeVarint(v)
		if k < 0 {
			return nil, protowire.ParseError(k)
		}
		dst, v = append(dst, protowire.DecodeZigZag(x)), v[k:]
	}
	return dst, nil
}

func appendDoubles(dst []float64, typ protowire.Type, v []byte, n uint64) ([]float64, error) {
	if typ == protowire.Fixed64Type {
		return append(dst, math.Float64frombits(n)), nil
	}
	for len(v) > 0 {
		x, k := protowire.ConsumeFixed64(v)
		if k < 0 {
			return nil, protowire.ParseError(k)
		}
		dst, v = append(dst, math.Float64frombits(x)), v[k:]
	}
	return dst, nil
}

// customBucketsSchema is the schema of a native histogram with custom
// bucket bounds (NHCB), listed in custom_values.
const customBucketsSchema = -53

// classicBuckets lists a native histogram's buckets as classic ones:
// finite upper bounds ascending with per-bucket counts, the last of
// which may be +Inf.
func (h *nativeHistogram) classicBuckets() (les, counts []float64, err error) {
	if err := h.validate(); err != nil {
		return nil, nil, err
	}
	if h.schema == customBucketsSchema {
		return h.customBuckets()
	}
	if h.schema < -4 || h.schema > 8 {
		return nil, nil, fmt.Errorf("native histogram schema %d is not supported", h.schema)
	}
	base := math.Pow(2, math.Pow(2, -float64(h.schema)))
	// Bucket i of schema s covers (base^(i-1), base^i]; negative ones
	// mirror it, so their upper bound is -base^(i-1).
	neg := indexed(h.negSpans, h.negCounts)
	for i := len(neg) - 1; i >= 0; i-- {
		les = append(les, -math.Pow(base, float64(neg[i].index-1)))
		counts = append(counts, neg[i].count)
	}
	les = append(les, h.zeroThreshold)
	counts = append(counts, h.zeroCount)
	for _, b := range indexed(h.posSpans, h.posCounts) {
		les = append(les, math.Pow(base, float64(b.index)))
		counts = append(counts, b.count)
	}
	return les, counts, nil
}

// validate refuses what Prometheus refuses: negative counts, and a count
// below what the buckets hold (a NaN sum may hide NaN observations that
// no bucket counts, so the count may be above).
func (h *nativeHistogram) validate() error {
	total := 0.0
	for _, c := range append(append([]float64{h.zeroCount}, h.negCounts...), h.posCounts...) {
		if c < 0 {
			return fmt.Errorf("native histogram has a negative bucket count %v", c)
		}
		total += c
	}
	if h.count < total || !math.IsNaN(h.sum) && h.count > total {
		return fmt.Errorf("native histogram's count %v is not the sum of its buckets %v", h.count, total)
	}
	return nil
}

func (h *nativeHistogram) customBuckets() (les, counts []float64, err error) {
	for _, b := range indexed(h.posSpans, h.posCounts) {
		switch {
		case b.index < 0 || int(b.index) > len(h.customValues):
			return nil, nil, fmt.Errorf("custom bucket %d has no bound among %d custom values", b.index, len(h.customValues))
		case int(b.index) == len(h.customValues):
			les = append(les, math.Inf(1))
		default:
			les = append(les, h.customValues[b.index])
		}
		counts = append(counts, b.count)
	}
	return les, counts, nil
}

type indexedBucket struct {
	index int32
	count float64
}

// indexed gives each count its bucket index from the spans.
func indexed(spans []bucketSpan, counts []float64) []indexedBucket {
	var out []indexedBucket
	idx, k := int32(0), 0
	for _, s := range spans {
		idx += s.offset
		for j := uint32(0); j < s.length && k < len(counts); j++ {
			out = append(out, indexedBucket{idx, counts[k]})
			idx++
			k++
		}
	}
	return out
}
