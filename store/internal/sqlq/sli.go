package sqlq

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// SLICounts counts an indicator's good and total spans per minute.
func (r *Reader) SLICounts(ctx context.Context, q store.SLIQuery) ([]store.MinuteCounts, error) {
	out, err := r.SLICountsEach(ctx, []store.SLIQuery{q})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// sliBatch is how many indicators with conditions of their own one read
// counts: each aggregate of a read goes over all of the read's rows, so
// a read costs its indicators times its services' spans (BENCHMARKS.md:
// 16 a read took a third less than 64 on DuckDB, the same on ClickHouse;
// 256 twice as long).
const sliBatch = 16

// sliServices is how many services one read of plain indicators groups.
const sliServices = 1000

// SLICountsEach counts several indicators. An evaluator tick counts every
// SLO's last minutes, and a read an SLO cost it a round trip and a query
// plan each. Those of one tenant and span of time are counted together:
// the plain ones (a service's spans, maybe of one operation or model,
// good by latency or status) from one read of their services' spans
// grouped by service, operation, model and minute, with a count per
// latency bound; the others (attribute filters or a numeric attribute),
// sliBatch at a time, each with aggregates of its own over one read.
func (r *Reader) SLICountsEach(ctx context.Context, qs []store.SLIQuery) ([][]store.MinuteCounts, error) {
	order := make([]int, len(qs))
	for i := range order {
		order[i] = i
	}
	// By service, so that a read of the others has few services.
	slices.SortStableFunc(order, func(a, b int) int {
		qa, qb := &qs[a], &qs[b]
		return cmp.Or(strings.Compare(qa.Tenant, qb.Tenant), qa.Start.Compare(qb.Start), qa.End.Compare(qb.End), strings.Compare(qa.Service, qb.Service))
	})
	out := make([][]store.MinuteCounts, len(qs))
	for len(order) > 0 {
		first := &qs[order[0]]
		n := 1
		for n < len(order) {
			q := &qs[order[n]]
			if q.Tenant != first.Tenant || !q.Start.Equal(first.Start) || !q.End.Equal(first.End) {
				break
			}
			n++
		}
		var plain, others []int
		for _, i := range order[:n] {
			if q := &qs[i]; len(q.Attributes) == 0 && (q.Good == "latency" || q.Good == "availability") {
				plain = append(plain, i)
			} else {
				others = append(others, i)
			}
		}
		for len(plain) > 0 {
			// Whole services a read: the queries are in service order.
			k, services := 0, 0
			for ; k < len(plain) && (services < sliServices || qs[plain[k]].Service == qs[plain[k-1]].Service); k++ {
				if k == 0 || qs[plain[k]].Service != qs[plain[k-1]].Service {
					services++
				}
			}
			if err := r.countGrouped(ctx, qs, plain[:k], out); err != nil {
				return nil, err
			}
			plain = plain[k:]
		}
		for len(others) > 0 {
			k := min(len(others), sliBatch)
			if err := r.countTogether(ctx, qs, others[:k], out); err != nil {
				return nil, err
			}
			others = others[k:]
		}
		order = order[n:]
	}
	return out, nil
}

// countGrouped counts plain queries of one tenant and span (which) from
// one read of their services' spans, grouped, into out.
func (r *Reader) countGrouped(ctx context.Context, qs []store.SLIQuery, which []int, out [][]store.MinuteCounts) error {
	first := qs[which[0]]
	var services []any
	var bounds []int64 // the latency bounds, each counted once
	byModel := false
	for _, i := range which {
		q := &qs[i]
		if !slices.Contains(services, any(q.Service)) {
			services = append(services, q.Service)
		}
		if q.Good == "latency" && !slices.Contains(bounds, int64(q.Latency)) {
			bounds = append(bounds, int64(q.Latency))
		}
		byModel = byModel || q.Model != ""
	}
	var where conds
	where.add("tenant = ?", first.Tenant)
	where.spansStarting(r.d, first.Start, first.End)
	where.add("service IN (?"+strings.Repeat(", ?", len(services)-1)+")", services...)
	keys := "service, operation, "
	if byModel {
		keys += "model, "
	}
	selects := []string{"count(*)", r.d.countIf(failed)}
	for _, b := range bounds {
		selects = append(selects, r.d.countIf(fmt.Sprintf("duration_ns <= %d", b)))
	}
	query := Query{SQL: "SELECT " + keys + r.d.intDiv("start_ns", nanosPerMinute) + " AS minute, " + strings.Join(selects, ", ") +
		" FROM spans WHERE " + where.String() + " GROUP BY " + keys + "minute", Args: where.args}

	// A group: a service's spans of one operation (and model) in a minute.
	type group struct {
		operation, model string
		minute           int64
		counts           []uint64 // all, failed, then at most each bound
	}
	groups := map[string][]group{} // by service
	var g group
	var service string
	dest := []any{&service, &g.operation}
	if byModel {
		dest = append(dest, &g.model)
	}
	dest = append(dest, &g.minute)
	counts := make([]uint64, len(selects))
	for i := range counts {
		dest = append(dest, &counts[i])
	}
	err := r.each(ctx, "count SLI events", query, dest, func() error {
		g.counts = slices.Clone(counts)
		groups[service] = append(groups[service], g)
		return nil
	})
	if err != nil {
		return err
	}
	for _, i := range which {
		q := &qs[i]
		good := 1 // the column of good events, or of failed ones
		if q.Good == "latency" {
			good = 2 + slices.Index(bounds, int64(q.Latency))
		}
		byMinute := map[int64]*store.MinuteCounts{}
		for _, g := range groups[q.Service] {
			if q.Operation != "" && g.operation != q.Operation || q.Model != "" && g.model != q.Model {
				continue
			}
			m := byMinute[g.minute]
			if m == nil {
				m = &store.MinuteCounts{Minute: time.Unix(g.minute*60, 0).UTC()}
				byMinute[g.minute] = m
			}
			m.Total += g.counts[0]
			if q.Good == "latency" {
				m.Good += g.counts[good]
			} else {
				m.Good += g.counts[0] - g.counts[good]
			}
		}
		for _, m := range byMinute {
			out[i] = append(out[i], *m)
		}
		slices.SortFunc(out[i], func(a, b store.MinuteCounts) int { return a.Minute.Compare(b.Minute) })
	}
	return nil
}

// countTogether counts the queries of which (one tenant and span) in one
// read, into out.
func (r *Reader) countTogether(ctx context.Context, qs []store.SLIQuery, which []int, out [][]store.MinuteCounts) error {
	first := qs[which[0]]
	var where conds
	where.add("tenant = ?", first.Tenant)
	where.spansStarting(r.d, first.Start, first.End)
	var services []string
	var selects []string
	var args []any // the SELECT list binds before the WHERE clause
	// column[j] is the result column of the j-th count: SLOs of a service
	// often share their events (its latency and its availability) or
	// their good ones, and an aggregate is computed once.
	column := make([]int, 0, 2*len(which))
	seen := map[string]int{}
	count := func(cond string, condArgs ...any) {
		key := fmt.Sprintf("%s %#v", cond, condArgs)
		j, ok := seen[key]
		if !ok {
			j = len(selects)
			seen[key] = j
			selects, args = append(selects, r.d.countIf(cond)), append(args, condArgs...)
		}
		column = append(column, j)
	}
	for _, i := range which {
		cond, good, err := r.sliEvent(qs[i])
		if err != nil {
			return err
		}
		count("("+cond.String()+") AND "+good.SQL, append(slices.Clip(cond.args), good.Args...)...)
		count(cond.String(), cond.args...)
		if !slices.Contains(services, qs[i].Service) {
			services = append(services, qs[i].Service)
		}
	}
	in := make([]any, len(services))
	for i, s := range services {
		in[i] = s
	}
	where.add("service IN (?"+strings.Repeat(", ?", len(services)-1)+")", in...)
	query := Query{SQL: "SELECT " + r.d.intDiv("start_ns", nanosPerMinute) + " AS minute, " + strings.Join(selects, ", ") +
		" FROM spans WHERE " + where.String() + " GROUP BY minute ORDER BY minute", Args: append(args, where.args...)}
	var minute int64
	counts := make([]uint64, len(selects))
	dest := []any{&minute}
	for i := range counts {
		dest = append(dest, &counts[i])
	}
	return r.each(ctx, "count SLI events", query, dest, func() error {
		at := time.Unix(minute*60, 0).UTC()
		for j, i := range which {
			// A minute of the read that has none of this indicator's
			// events is not one of its minutes.
			if good, total := counts[column[2*j]], counts[column[2*j+1]]; total > 0 {
				out[i] = append(out[i], store.MinuteCounts{Minute: at, Good: good, Total: total})
			}
		}
		return nil
	})
}

// sliEvent is the condition that makes a span one of q's events, and the
// one that makes an event good.
func (r *Reader) sliEvent(q store.SLIQuery) (conds, Query, error) {
	var c conds
	c.add("service = ?", q.Service)
	c.equal("operation", q.Operation, "model", q.Model)
	for _, k := range q.SortedAttributeKeys() {
		cond, args := attrEquals(r.d, k, q.Attributes[k])
		c.add(cond, args...)
	}
	switch q.Good {
	case "latency":
		return c, Query{SQL: fmt.Sprintf("duration_ns <= %d", int64(q.Latency))}, nil
	case "availability":
		return c, Query{SQL: "NOT (" + failed + ")"}, nil
	case "attribute":
		op := store.SQLOp(q.Op)
		if op == "" {
			return c, Query{}, fmt.Errorf("cannot count SLI events: unknown comparison %q", q.Op)
		}
		// Spans without a number there are not events at all.
		value := r.d.tryCast(r.d.lookup("attr_keys", "attr_values", "?"), typeFloat64)
		c.add(value+" IS NOT NULL", q.Attribute)
		return c, Query{SQL: value + " " + op + " " + strconv.FormatFloat(q.Threshold, 'g', -1, 64), Args: []any{q.Attribute}}, nil
	}
	return c, Query{}, fmt.Errorf("cannot count SLI events: unknown kind of good event %q", q.Good)
}
