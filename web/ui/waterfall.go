package ui

import (
	"cmp"
	"slices"

	"github.com/vigil-dev/vigil/store"
)

// waterfall is a trace laid out as its waterfall: spans in tree order
// (depth first, children by start), each with its depth, and which spans
// are on the critical path.
type waterfall struct {
	Spans    []store.Span // in tree order
	Depth    []int
	Critical []bool
	Start    int64 // the earliest span's start, Unix ns
	Total    int64 // from Start to the latest end, ns
}

// layout orders a trace's spans as a tree. A span whose parent is not in
// the trace (lost, or not sent yet) is shown as a root.
func layout(spans []store.Span) waterfall {
	index := make(map[store.SpanID]int, len(spans))
	for i := range spans {
		index[spans[i].SpanID] = i
	}
	children := map[int][]int{}
	var roots []int
	for i := range spans {
		if p, ok := index[spans[i].ParentSpanID]; ok && p != i && !spans[i].ParentSpanID.IsZero() {
			children[p] = append(children[p], i)
		} else {
			roots = append(roots, i)
		}
	}
	byStart := func(a, b int) int { return cmp.Compare(spans[a].StartUnixNano, spans[b].StartUnixNano) }
	slices.SortStableFunc(roots, byStart)
	for _, kids := range children {
		slices.SortStableFunc(kids, byStart)
	}
	w := waterfall{Start: spans[0].StartUnixNano}
	end := int64(0)
	for _, s := range spans {
		w.Start = min(w.Start, s.StartUnixNano)
		end = max(end, s.StartUnixNano+s.DurationNano)
	}
	w.Total = end - w.Start
	critical := criticalPath(spans, children, roots)
	// Depth first without recursion: a trace may be 10,000 spans deep.
	type item struct{ i, depth int }
	stack := make([]item, 0, len(roots))
	for k := len(roots) - 1; k >= 0; k-- {
		stack = append(stack, item{roots[k], 0})
	}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		w.Spans = append(w.Spans, spans[it.i])
		w.Depth = append(w.Depth, it.depth)
		w.Critical = append(w.Critical, critical[it.i])
		kids := children[it.i]
		for k := len(kids) - 1; k >= 0; k-- {
			stack = append(stack, item{kids[k], it.depth + 1})
		}
	}
	return w
}

// criticalPath marks the spans that the trace's end waited on, as Jaeger
// finds them: from the root that ends last, walk back from its end to
// the child that finished last before that point (a child overflowing
// its parent counts up to the parent's end), move the point to that
// child's start, and so on; then the same within each child chosen.
func criticalPath(spans []store.Span, children map[int][]int, roots []int) []bool {
	on := make([]bool, len(spans))
	if len(roots) == 0 {
		return on
	}
	end := func(i int) int64 { return spans[i].StartUnixNano + spans[i].DurationNano }
	last := slices.MaxFunc(roots, func(a, b int) int { return cmp.Compare(end(a), end(b)) })
	type visit struct {
		i      int
		cursor int64
	}
	stack := []visit{{last, end(last)}}
	for len(stack) > 0 {
		vi := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		on[vi.i] = true
		kids := slices.Clone(children[vi.i])
		slices.SortStableFunc(kids, func(a, b int) int { return cmp.Compare(end(b), end(a)) })
		cursor := vi.cursor
		for _, k := range kids {
			if cursor <= spans[vi.i].StartUnixNano {
				break
			}
			e := min(end(k), vi.cursor)
			if e > cursor {
				continue // it overlaps the child chosen after it
			}
			stack = append(stack, visit{k, e})
			cursor = spans[k].StartUnixNano
		}
	}
	return on
}
