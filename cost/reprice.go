package cost

import (
	"sort"
	"time"
)

// PriceSegment is a stretch of time over which one price row prices a
// model for a tenant; Row is nil where no row does (an unpriced model).
type PriceSegment struct {
	Start, End time.Time
	Row        *ModelPrice
}

// Segments splits [start, end) where the row Lookup picks for the tenant
// and model changes, so repricing can give each span the row valid at its
// start without asking row by row. Lookup's answer only changes at some
// row's ValidFrom or ValidUntil, so the table's validity bounds are the
// only places to cut; neighbours with the same row are merged.
func (t *PriceTable) Segments(tenant, model string, start, end time.Time) []PriceSegment {
	if !end.After(start) {
		return nil
	}
	cuts := []time.Time{start, end}
	for _, r := range t.rows {
		for _, b := range []time.Time{r.ValidFrom, r.ValidUntil} {
			if !b.IsZero() && b.After(start) && b.Before(end) {
				cuts = append(cuts, b)
			}
		}
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].Before(cuts[j]) })
	var out []PriceSegment
	for i := 0; i+1 < len(cuts); i++ {
		from, to := cuts[i], cuts[i+1]
		if !to.After(from) {
			continue
		}
		row, _ := t.Lookup(tenant, model, from)
		if n := len(out); n > 0 && out[n-1].Row == row {
			out[n-1].End = to
			continue
		}
		out = append(out, PriceSegment{Start: from, End: to, Row: row})
	}
	return out
}
