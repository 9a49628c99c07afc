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

// sliBatch is how many indicators one read counts, each with two
// aggregates of the read's rows.
const sliBatch = 64

// SLICountsEach counts several indicators: those of one tenant and span
// of time, sliBatch at a time, in one read of the spans of their
// services, each indicator's conditions inside its aggregates. An
// evaluator tick counts every SLO's last minutes; a read an SLO cost
// it a round trip and a query plan each, and a UNION ALL of their reads
// read each SLO's granules on its own.
func (r *Reader) SLICountsEach(ctx context.Context, qs []store.SLIQuery) ([][]store.MinuteCounts, error) {
	// Counted together: the queries of one tenant and span, by service,
	// so that a read's services are few.
	order := make([]int, len(qs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		qa, qb := &qs[a], &qs[b]
		return cmp.Or(strings.Compare(qa.Tenant, qb.Tenant), qa.Start.Compare(qb.Start), qa.End.Compare(qb.End), strings.Compare(qa.Service, qb.Service))
	})
	out := make([][]store.MinuteCounts, len(qs))
	for len(order) > 0 {
		first := &qs[order[0]]
		n := 1
		for n < len(order) && n < sliBatch {
			q := &qs[order[n]]
			if q.Tenant != first.Tenant || !q.Start.Equal(first.Start) || !q.End.Equal(first.End) {
				break
			}
			n++
		}
		if err := r.countTogether(ctx, qs, order[:n], out); err != nil {
			return nil, err
		}
		order = order[n:]
	}
	return out, nil
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
