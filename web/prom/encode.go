package prom

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/stats"
)

// encoder writes JSON byte for byte as Prometheus's API does: label sets
// with only quotes, backslashes and control characters escaped (no HTML
// escaping), timestamps as seconds with up to three decimals, sample
// values as strings spelled by strconv ("NaN", "+Inf", "-Inf"), and
// everything else as encoding/json writes it.
type encoder struct{ buf []byte }

func (e *encoder) raw(s string) { e.buf = append(e.buf, s...) }

// json appends v as encoding/json marshals it, HTML escaping included, as
// Prometheus's jsoniter configuration does.
func (e *encoder) json(v any) error {
	b, err := json.Marshal(v)
	e.buf = append(e.buf, b...)
	return err
}

// queryData is the data of query and query_range.
type queryData struct {
	ResultType parser.ValueType
	Result     parser.Value
	Stats      stats.QueryStats // nil unless the request asked for stats
}

// data appends an API response's data.
func (e *encoder) data(d any) error {
	switch d := d.(type) {
	case *queryData:
		e.raw(`{"resultType":"` + string(d.ResultType) + `","result":`)
		if err := e.value(d.Result); err != nil {
			return err
		}
		if d.Stats != nil {
			e.raw(`,"stats":`)
			if err := e.json(d.Stats); err != nil {
				return err
			}
		}
		e.raw(`}`)
	case []exemplarSeries:
		e.exemplars(d)
	case []labels.Labels:
		e.raw(`[`)
		for i, l := range d {
			e.comma(i)
			e.labels(l)
		}
		e.raw(`]`)
	default:
		return e.json(d)
	}
	return nil
}

func (e *encoder) comma(i int) {
	if i > 0 {
		e.raw(`,`)
	}
}

func (e *encoder) value(v parser.Value) error {
	switch v := v.(type) {
	case promql.Vector:
		e.raw(`[`)
		for i, s := range v {
			e.comma(i)
			e.raw(`{"metric":`)
			e.labels(s.Metric)
			e.raw(`,"value":`)
			e.point(s.T, s.F)
			e.raw(`}`)
		}
		e.raw(`]`)
	case promql.Matrix:
		e.raw(`[`)
		for i, s := range v {
			e.comma(i)
			e.series(s)
		}
		e.raw(`]`)
	default: // promql.Scalar and promql.String marshal themselves
		return e.json(v)
	}
	return nil
}

// series leaves "values" out when there are none, as Prometheus does.
func (e *encoder) series(s promql.Series) {
	e.raw(`{"metric":`)
	e.labels(s.Metric)
	for i, p := range s.Floats {
		if i == 0 {
			e.raw(`,"values":[`)
		}
		e.comma(i)
		e.point(p.T, p.F)
	}
	if len(s.Floats) > 0 {
		e.raw(`]`)
	}
	e.raw(`}`)
}

func (e *encoder) point(t int64, f float64) {
	e.raw(`[`)
	e.timestamp(t)
	e.raw(`,"`)
	// Exponents where encoding/json would use them.
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	e.buf = strconv.AppendFloat(e.buf, f, format, -1, 64)
	e.raw(`"]`)
}

// timestamp writes milliseconds as seconds, without trailing zeros.
func (e *encoder) timestamp(ms int64) {
	if ms < 0 {
		e.raw(`-`)
		ms = -ms
	}
	e.buf = strconv.AppendInt(e.buf, ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		e.raw(`.`)
		for d := int64(100); d > frac; d /= 10 {
			e.raw(`0`)
		}
		e.buf = strconv.AppendInt(e.buf, frac, 10)
	}
}

func (e *encoder) labels(ls labels.Labels) {
	e.raw(`{`)
	i := 0
	ls.Range(func(l labels.Label) {
		e.comma(i)
		i++
		e.string(l.Name)
		e.raw(`:`)
		e.string(l.Value)
	})
	e.raw(`}`)
}

const hexDigits = "0123456789abcdef"

// string writes a label name or value: bytes from 0x20 on are written as
// they are, except the quote and the backslash.
func (e *encoder) string(s string) {
	e.raw(`"`)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			e.buf = append(e.buf, '\\', c)
		case c == '\n':
			e.raw(`\n`)
		case c == '\r':
			e.raw(`\r`)
		case c == '\t':
			e.raw(`\t`)
		case c < 0x20:
			e.buf = append(e.buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			e.buf = append(e.buf, c)
		}
	}
	e.raw(`"`)
}
