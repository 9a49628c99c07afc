package ui

import (
	"strconv"
	"strings"
)

// sparkline is a small line of a series drawn by the server as SVG, so a
// table of a hundred services needs no script and no chart per row.
type sparkline struct {
	Points string  // an SVG polyline's points in a 100×24 box
	Max    float64 // the value at the top
	Empty  bool
}

func newSparkline(values []float64) sparkline {
	if len(values) == 0 {
		return sparkline{Empty: true}
	}
	top := 0.0
	for _, v := range values {
		top = max(top, v)
	}
	var b strings.Builder
	for i, v := range values {
		x := 0.0
		if len(values) > 1 {
			x = 100 * float64(i) / float64(len(values)-1)
		}
		y := 23.0
		if top > 0 {
			y = 23 - 22*v/top
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(x, 'f', 1, 64) + "," + strconv.FormatFloat(y, 'f', 1, 64))
	}
	return sparkline{Points: b.String(), Max: top}
}
