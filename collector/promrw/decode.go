// Package promrw receives Prometheus remote write, 1.0
// (prometheus.WriteRequest, what Prometheus 2.x, Grafana Agent/Alloy and
// the OpenTelemetry Collector's exporter send) and 2.0
// (io.prometheus.write.v2.Request, with its symbol table, metadata and
// created timestamps), both snappy-compressed protobuf. Native histograms
// are stored as classic ones (_bucket, _sum and _count series).
package promrw

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// writeRequest is the decoded part of prometheus.WriteRequest that Vigil
// stores. The decoder is hand-written on protowire: the message is small
// and this avoids importing Prometheus itself for its generated types.
type writeRequest struct {
	series   []timeSeries
	metadata map[string]int32 // metric family name -> prompb MetricType
}

type label struct{ name, value string }

type sample struct {
	value float64
	ts    int64
}

type timeSeries struct {
	labels     []label
	samples    []sample
	histograms []nativeHistogram
}

func decodeWriteRequest(b []byte) (*writeRequest, error) {
	req := &writeRequest{metadata: map[string]int32{}}
	err := fields(b, "WriteRequest", func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case 1:
			ts, err := decodeTimeSeries(v)
			if err != nil {
				return fmt.Errorf("timeseries %d: %w", len(req.series), err)
			}
			req.series = append(req.series, ts)
		case 3:
			var name string
			var mtype int32
			err := fields(v, "MetricMetadata", func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
				switch num {
				case 1:
					mtype = int32(n)
				case 2:
					name = string(v)
				}
				return nil
			})
			if err != nil {
				return err
			}
			req.metadata[name] = mtype
		}
		return nil
	})
	return req, err
}

func decodeTimeSeries(b []byte) (timeSeries, error) {
	var ts timeSeries
	err := fields(b, "TimeSeries", func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case 1:
			var l label
			err := fields(v, "Label", func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				switch num {
				case 1:
					l.name = string(v)
				case 2:
					l.value = string(v)
				}
				return nil
			})
			if err != nil {
				return err
			}
			ts.labels = append(ts.labels, l)
		case 2:
			var s sample
			err := fields(v, "Sample", func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
				switch num {
				case 1:
					if typ != protowire.Fixed64Type {
						return errors.New("sample value is not a double")
					}
					s.value = math.Float64frombits(n)
				case 2:
					s.ts = int64(n)
				}
				return nil
			})
			if err != nil {
				return err
			}
			ts.samples = append(ts.samples, s)
		case 4:
			// prometheus.Histogram has the fields of remote write 2.0's.
			h, err := decodeHistogram(v)
			if err != nil {
				return err
			}
			ts.histograms = append(ts.histograms, h)
		}
		return nil
	})
	return ts, err
}

// fields walks a message's fields. For length-delimited fields fn gets the
// bytes; for varint and fixed fields it gets the number.
func fields(b []byte, msg string, fn func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("cannot parse %s: %w", msg, protowire.ParseError(n))
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.Fixed32Type:
			var y uint32
			y, n = protowire.ConsumeFixed32(b)
			x = uint64(y)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("cannot parse %s field %d: %w", msg, num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}
