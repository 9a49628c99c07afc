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

// sliServices is how many services one read groups.
const sliServices = 1000

// SLICountsEach counts several indicators. An evaluator tick counts every
// SLO's last minutes, and a read an SLO cost it a round trip and a query
// plan each. Indicators of one tenant, span of time and attribute filter
// are counted from one read of their services' spans grouped by service,
// operation, model and minute, with a count for each kind of good event
// among them (failed, each latency bound, each attribute comparison).
// Each aggregate of a read goes over all its rows, so a count of its own
// for each indicator made a read cost its indicators times its spans: 1,000
// SLOs took 0.9 s a tick on ClickHouse that way, 64 a read (BENCHMARKS.md).
func (r *Reader) SLICountsEach(ctx context.Context, qs []store.SLIQuery) ([][]store.MinuteCounts, error) {
	filters := make([]string, len(qs))
	order := make([]int, len(qs))
	for i := range qs {
		filters[i], order[i] = attrFilter(qs[i]), i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		qa, qb := &qs[a], &qs[b]
		return cmp.Or(strings.Compare(qa.Tenant, qb.Tenant), qa.Start.Compare(qb.Start), qa.End.Compare(qb.End),
			strings.Compare(filters[a], filters[b]), strings.Compare(qa.Service, qb.Service))
	})
	out := make([][]store.MinuteCounts, len(qs))
	for len(order) > 0 {
		first, n, services := order[0], 0, 0
		for ; n < len(order); n++ {
			i := order[n]
			if qs[i].Tenant != qs[first].Tenant || !qs[i].Start.Equal(qs[first].Start) || !qs[i].End.Equal(qs[first].End) || filters[i] != filters[first] {
				break
			}
			if n == 0 || qs[i].Service != qs[order[n-1]].Service {
				if services == sliServices {
					break
				}
				services++
			}
		}
		if err := r.countGrouped(ctx, qs, order[:n], out); err != nil {
			return nil, err
		}
		order = order[n:]
	}
	return out, nil
}

// attrFilter names a query's attribute filter unambiguously.
func attrFilter(q store.SLIQuery) string {
	var b strings.Builder
	for _, k := range q.SortedAttributeKeys() {
		fmt.Fprintf(&b, "%q=%q ", k, q.Attributes[k])
	}
	return b.String()
}

// countGrouped counts queries of one tenant, span and attribute filter
// (which) from one read of their services' spans, into out.
func (r *Reader) countGrouped(ctx context.Context, qs []store.SLIQuery, which []int, out [][]store.MinuteCounts) error {
	first := qs[which[0]]
	var where conds
	where.add("tenant = ?", first.Tenant)
	where.spansStarting(r.d, first.Start, first.End)
	for _, k := range first.SortedAttributeKeys() {
		cond, args := attrEquals(r.d, k, first.Attributes[k])
		where.add(cond, args...)
	}
	const all = 0 // the column of every span of the group
	selects := []string{"count(*)"}
	var args []any // the SELECT list binds before the WHERE clause
	column := map[string]int{}
	count := func(cond string, condArgs ...any) int {
		key := fmt.Sprintf("%s %#v", cond, condArgs)
		j, ok := column[key]
		if !ok {
			j = len(selects)
			column[key] = j
			selects, args = append(selects, r.d.countIf(cond)), append(args, condArgs...)
		}
		return j
	}
	// For each query, the columns of its events and of its good ones, or
	// of its bad ones when bad.
	type columns struct {
		events, good int
		bad          bool
	}
	cols := make([]columns, len(which))
	var services []any
	byModel := false
	for j, i := range which {
		q := &qs[i]
		switch q.Good {
		case "latency":
			cols[j] = columns{events: all, good: count(fmt.Sprintf("duration_ns <= %d", int64(q.Latency)))}
		case "availability":
			cols[j] = columns{events: all, good: count(failed), bad: true}
		case "attribute":
			op := store.SQLOp(q.Op)
			if op == "" {
				return fmt.Errorf("cannot count SLI events: unknown comparison %q", q.Op)
			}
			// Spans without a number there are not events at all.
			value := r.d.tryCast(r.d.lookup("attr_keys", "attr_values", "?"), typeFloat64)
			cols[j] = columns{events: count(value+" IS NOT NULL", q.Attribute),
				good: count(value+" "+op+" "+strconv.FormatFloat(q.Threshold, 'g', -1, 64), q.Attribute)}
		default:
			return fmt.Errorf("cannot count SLI events: unknown kind of good event %q", q.Good)
		}
		if len(services) == 0 || services[len(services)-1] != any(q.Service) { // which is in service order
			services = append(services, q.Service)
		}
		byModel = byModel || q.Model != ""
	}
	where.add("service IN (?"+strings.Repeat(", ?", len(services)-1)+")", services...)
	keys := "service, operation, "
	if byModel {
		keys += "model, "
	}
	query := Query{SQL: "SELECT " + keys + r.d.intDiv("start_ns", nanosPerMinute) + " AS minute, " + strings.Join(selects, ", ") +
		" FROM spans WHERE " + where.String() + " GROUP BY " + keys + "minute", Args: append(args, where.args...)}

	// A group: a service's spans of one operation (and model) in a minute,
	// its counts at flat[at:at+len(selects)] (one slice for the read's
	// rows, not one a row).
	type group struct {
		operation, model string
		minute           int64
		at               int
	}
	groups := map[string][]group{} // by service
	var flat []uint64
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
		g.at, flat = len(flat), append(flat, counts...)
		groups[service] = append(groups[service], g)
		return nil
	})
	if err != nil {
		return err
	}
	for j, i := range which {
		q, c := &qs[i], cols[j]
		byMinute := map[int64]*store.MinuteCounts{}
		for _, g := range groups[q.Service] {
			counts := flat[g.at : g.at+len(selects)]
			events := counts[c.events]
			if events == 0 || q.Operation != "" && g.operation != q.Operation || q.Model != "" && g.model != q.Model {
				continue
			}
			m := byMinute[g.minute]
			if m == nil {
				m = &store.MinuteCounts{Minute: time.Unix(g.minute*60, 0).UTC()}
				byMinute[g.minute] = m
			}
			m.Total += events
			if c.bad {
				m.Good += events - counts[c.good]
			} else {
				m.Good += counts[c.good]
			}
		}
		for _, m := range byMinute {
			out[i] = append(out[i], *m)
		}
		slices.SortFunc(out[i], func(a, b store.MinuteCounts) int { return a.Minute.Compare(b.Minute) })
	}
	return nil
}
