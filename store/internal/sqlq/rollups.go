package sqlq

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// rollupsOf is the latest value of each minute of one SLO in [start, end).
func (r *Reader) rollupsOf(q store.RollupQuery) Query {
	return Query{
		SQL:  r.d.latest("sli_rollups", []string{"minute"}, []string{"good", "total"}, "tenant = ? AND slo = ? AND minute >= ? AND minute < ?"),
		Args: []any{q.Tenant, q.SLO, r.d.time(q.Start), r.d.time(q.End)},
	}
}

// Rollups returns stored minutes, ascending.
func (r *Reader) Rollups(ctx context.Context, q store.RollupQuery) ([]store.Rollup, error) {
	from := r.rollupsOf(q)
	query := Query{SQL: "SELECT minute, good, total FROM " + from.SQL + " ORDER BY minute", Args: from.Args}
	ru := store.Rollup{Tenant: q.Tenant, SLO: q.SLO}
	var minute time.Time
	return collect(ctx, r, "read rollups of "+q.SLO, query, []any{&minute, &ru.Good, &ru.Total}, func() (store.Rollup, error) {
		ru.Minute = minute.UTC()
		return ru, nil
	})
}

// SumRollups adds up good and total.
func (r *Reader) SumRollups(ctx context.Context, q store.RollupQuery) (good, total float64, err error) {
	from := r.rollupsOf(q)
	query := Query{SQL: "SELECT " + r.d.sum("good", "", typeFloat64) + ", " + r.d.sum("total", "", typeFloat64) + " FROM " + from.SQL, Args: from.Args}
	if err := r.one(ctx, "sum rollups of "+q.SLO, query, &good, &total); err != nil {
		return 0, 0, err
	}
	return good, total, nil
}

// SumRollupWindows sums several windows ending at end, for many SLOs, in
// one scan.
func (r *Reader) SumRollupWindows(ctx context.Context, tenant string, slos []string, starts []time.Time, end time.Time) (map[string][]store.GoodTotal, error) {
	if len(starts) == 0 || len(slos) == 0 {
		return map[string][]store.GoodTotal{}, nil
	}
	earliest := starts[0]
	sel := make([]string, 0, 2*len(starts))
	var args []any // the SELECT list binds before the subquery's WHERE
	for _, st := range starts {
		if st.Before(earliest) {
			earliest = st
		}
		sel = append(sel, r.d.sum("good", "minute >= ?", typeFloat64), r.d.sum("total", "minute >= ?", typeFloat64))
		args = append(args, r.d.time(st), r.d.time(st))
	}
	// slo IN (?, ...) with one argument each: has(array, slo) would not
	// use ClickHouse 18.16's primary key and scan every SLO's rollups.
	marks := make([]string, len(slos))
	args = append(args, tenant)
	for i, name := range slos {
		marks[i] = "?"
		args = append(args, name)
	}
	args = append(args, r.d.time(earliest), r.d.time(end))
	from := r.d.latest("sli_rollups", []string{"slo", "minute"}, []string{"good", "total"},
		"tenant = ? AND slo IN ("+strings.Join(marks, ", ")+") AND minute >= ? AND minute < ?")
	query := Query{SQL: "SELECT slo, " + strings.Join(sel, ", ") + " FROM " + from + " GROUP BY slo", Args: args}
	sums := map[string][]store.GoodTotal{}
	var name string
	vals := make([]float64, 2*len(starts))
	dest := []any{&name}
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	err := r.each(ctx, "sum rollups", query, dest, func() error {
		windows := make([]store.GoodTotal, len(starts))
		for i := range windows {
			windows[i] = store.GoodTotal{Good: vals[2*i], Total: vals[2*i+1]}
		}
		sums[name] = windows
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sums, nil
}

// TenantRollups reads every SLO's minutes of the tenant in [start, end):
// on ClickHouse the sort key is (tenant, slo, minute), so this reads the
// day partitions the range touches, rather than one key range per SLO.
func (r *Reader) TenantRollups(ctx context.Context, tenant string, start, end time.Time, fn func(*store.Rollup) error) error {
	from := r.d.latest("sli_rollups", []string{"slo", "minute"}, []string{"good", "total"}, "tenant = ? AND minute >= ? AND minute < ?")
	query := Query{SQL: "SELECT slo, minute, good, total FROM " + from, Args: []any{tenant, r.d.time(start), r.d.time(end)}}
	ru := store.Rollup{Tenant: tenant}
	var minute time.Time
	return r.each(ctx, "read the rollups of tenant "+tenant, query, []any{&ru.SLO, &minute, &ru.Good, &ru.Total}, func() error {
		ru.Minute = minute.UTC()
		return fn(&ru)
	})
}

// sloMinutes are the conditions on the named SLOs' rows of a tenant in
// [start, end) of a rollup table's time column.
func (r *Reader) sloMinutes(tenant string, slos []string, column string, start, end time.Time) conds {
	var c conds
	c.add("tenant = ?", tenant)
	c.in("slo", slos)
	c.add(column+" >= ?", r.d.time(start))
	c.add(column+" < ?", r.d.time(end))
	return c
}

// SLOsRollups reads the named SLOs' minutes: slo IN (?, ...) keeps the
// read to those SLOs' key ranges, where TenantRollups reads the tenant's
// whole day partitions.
func (r *Reader) SLOsRollups(ctx context.Context, tenant string, slos []string, start, end time.Time, fn func(*store.Rollup) error) error {
	if len(slos) == 0 {
		return nil
	}
	c := r.sloMinutes(tenant, slos, "minute", start, end)
	from := r.d.latest("sli_rollups", []string{"slo", "minute"}, []string{"good", "total"}, c.String())
	query := Query{SQL: "SELECT slo, minute, good, total FROM " + from, Args: c.args}
	ru := store.Rollup{Tenant: tenant}
	var minute time.Time
	return r.each(ctx, fmt.Sprintf("read the rollups of %d SLOs of tenant %s", len(slos), tenant), query,
		[]any{&ru.SLO, &minute, &ru.Good, &ru.Total}, func() error {
			ru.Minute = minute.UTC()
			return fn(&ru)
		})
}

// TenantHourlyRollups reads every SLO's hours of the tenant in
// [start, end), each at its latest write.
func (r *Reader) TenantHourlyRollups(ctx context.Context, tenant string, start, end time.Time, fn func(*store.HourlyRollup) error) error {
	from := r.d.latest("sli_rollups_hourly", []string{"slo", "hour"}, []string{"good", "total"}, "tenant = ? AND hour >= ? AND hour < ?")
	query := Query{SQL: "SELECT slo, hour, good, total FROM " + from, Args: []any{tenant, r.d.time(start), r.d.time(end)}}
	h := store.HourlyRollup{Tenant: tenant}
	var hour time.Time
	return r.each(ctx, "read the hourly rollups of tenant "+tenant, query, []any{&h.SLO, &hour, &h.Good, &h.Total}, func() error {
		h.Hour = hour.UTC()
		return fn(&h)
	})
}

// SumRollupHours sums each named SLO's latest minutes by hour: what the
// hourly rows of those minutes hold.
func (r *Reader) SumRollupHours(ctx context.Context, tenant string, slos []string, start, end time.Time, fn func(*store.HourlyRollup) error) error {
	if len(slos) == 0 {
		return nil
	}
	c := r.sloMinutes(tenant, slos, "minute", start, end)
	from := r.d.latest("sli_rollups", []string{"slo", "minute"}, []string{"good", "total"}, c.String())
	hour := r.d.intDiv(r.d.unixSeconds("minute"), "3600")
	query := Query{SQL: "SELECT slo, " + hour + " AS h, " + r.d.sum("good", "", typeFloat64) + ", " + r.d.sum("total", "", typeFloat64) +
		" FROM " + from + " GROUP BY slo, h", Args: c.args}
	h := store.HourlyRollup{Tenant: tenant}
	var hours int64
	return r.each(ctx, "sum the rollups of tenant "+tenant+" by hour", query, []any{&h.SLO, &hours, &h.Good, &h.Total}, func() error {
		h.Hour = time.Unix(hours*3600, 0).UTC()
		return fn(&h)
	})
}
