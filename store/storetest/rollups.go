package storetest

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

func testRollups(t *testing.T, s store.Store) {
	c := ctx(t)
	var rs []store.Rollup
	for m := 0; m < 10; m++ {
		rs = append(rs, store.Rollup{Tenant: "acme", SLO: "chat-latency", Minute: base.Add(time.Duration(m) * time.Minute), Good: float64(90 + m), Total: 100})
	}
	rs = append(rs,
		store.Rollup{Tenant: "acme", SLO: "chat-availability", Minute: base, Good: 1, Total: 1},
		store.Rollup{Tenant: "globex", SLO: "chat-latency", Minute: base, Good: 5, Total: 1000})
	if err := s.WriteRollups(c, rs); err != nil {
		t.Fatalf("WriteRollups: %v", err)
	}
	// Late data: minute 3 is recomputed; the new value replaces the old.
	late := store.Rollup{Tenant: "acme", SLO: "chat-latency", Minute: base.Add(3 * time.Minute), Good: 150, Total: 160}
	if err := s.WriteRollups(c, []store.Rollup{late}); err != nil {
		t.Fatalf("WriteRollups late: %v", err)
	}
	// A second writer repeating the same minute keeps one copy.
	if err := s.WriteRollups(c, []store.Rollup{late}); err != nil {
		t.Fatalf("WriteRollups repeat: %v", err)
	}

	q := store.RollupQuery{Tenant: "acme", SLO: "chat-latency", Start: base.Add(2 * time.Minute), End: base.Add(5 * time.Minute)}
	got, err := s.Rollups(c, q)
	if err != nil {
		t.Fatalf("Rollups: %v", err)
	}
	want := []store.Rollup{rs[2], late, rs[4]}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Rollups:\n got %+v\nwant %+v", got, want)
	}
	good, total, err := s.SumRollups(c, q)
	if err != nil {
		t.Fatalf("SumRollups: %v", err)
	}
	if good != 92+150+94 || total != 360 {
		t.Errorf("SumRollups = %g/%g, want 336/360", good, total)
	}
	q.Start, q.End = base, base.Add(time.Hour)
	good, total, err = s.SumRollups(c, q)
	// 90..99 summed is 945; minute 3 went from 93/100 to 150/160.
	if err != nil || good != 945-93+150 || total != 1000-100+160 {
		t.Errorf("SumRollups whole = %g/%g, %v; want 1002/1060", good, total, err)
	}
	// Several windows ending together, in one read: the last 2, 5 and 60
	// minutes before minute 5.
	end := base.Add(5 * time.Minute)
	sums, err := s.SumRollupWindows(c, "acme", []string{"chat-latency", "chat-availability", "missing"}, []time.Time{end.Add(-2 * time.Minute), end.Add(-5 * time.Minute), end.Add(-time.Hour)}, end)
	if err != nil {
		t.Fatalf("SumRollupWindows: %v", err)
	}
	// chat-latency: minutes 3 and 4, 150+94 of 160+100; minutes 0-4,
	// 90+91+92+150+94 of 560. chat-availability: minute 0 only.
	if got := fmt.Sprint(sums["chat-latency"], sums["chat-availability"], len(sums)); got != "[{244 260} {517 560} {517 560}] [{0 0} {1 1} {1 1}] 2" {
		t.Errorf("SumRollupWindows = %s", got)
	}
	q.SLO = "missing"
	good, total, err = s.SumRollups(c, q)
	if err != nil || good != 0 || total != 0 {
		t.Errorf("SumRollups of no data = %g/%g, %v; want 0/0", good, total, err)
	}
	// An SLI read from a PromQL rate has fractional events: kept as they
	// are, not rounded (binary fractions, so the sums are exact).
	var frac []store.Rollup
	for m := 0; m < 3; m++ {
		frac = append(frac, store.Rollup{Tenant: "acme", SLO: "api-rate", Minute: base.Add(time.Duration(m) * time.Minute), Good: 20.125, Total: 21.5})
	}
	if err := s.WriteRollups(c, frac); err != nil {
		t.Fatalf("WriteRollups fractional: %v", err)
	}
	sums, err = s.SumRollupWindows(c, "acme", []string{"api-rate"}, []time.Time{base.Add(time.Minute)}, end)
	if got := fmt.Sprint(sums["api-rate"], err); got != "[{40.25 43}] <nil>" {
		t.Errorf("SumRollupWindows of fractional events = %s, want [{40.25 43}]", got)
	}
	// Every SLO of a tenant over minutes 2 to 3, the recomputed minute 3
	// once, at its latest value; the other tenant's minutes stay out.
	var tenant []string
	err = s.TenantRollups(c, "acme", base.Add(2*time.Minute), base.Add(4*time.Minute), func(r *store.Rollup) error {
		tenant = append(tenant, fmt.Sprintf("%s %s %g/%g", r.SLO, r.Minute.Sub(base), r.Good, r.Total))
		return nil
	})
	sort.Strings(tenant)
	if got := fmt.Sprint(tenant, err); got != "[api-rate 2m0s 20.125/21.5 chat-latency 2m0s 92/100 chat-latency 3m0s 150/160] <nil>" {
		t.Errorf("TenantRollups = %s", got)
	}
	// The same minutes of the named SLOs only.
	var named []string
	err = s.SLOsRollups(c, "acme", []string{"chat-latency", "missing"}, base.Add(2*time.Minute), base.Add(4*time.Minute), func(r *store.Rollup) error {
		named = append(named, fmt.Sprintf("%s %s %s %g/%g", r.Tenant, r.SLO, r.Minute.Sub(base), r.Good, r.Total))
		return nil
	})
	sort.Strings(named)
	if got := fmt.Sprint(named, err); got != "[acme chat-latency 2m0s 92/100 acme chat-latency 3m0s 150/160] <nil>" {
		t.Errorf("SLOsRollups = %s", got)
	}
}

func testHourlyRollups(t *testing.T, s store.Store) {
	c := ctx(t)
	h := func(n int) time.Time { return base.Add(time.Duration(n) * time.Hour) }
	hours := []store.HourlyRollup{
		{Tenant: "acme", SLO: "chat-latency", Hour: h(0), Good: 5900, Total: 6000},
		{Tenant: "acme", SLO: "chat-latency", Hour: h(1), Good: 1, Total: 2},
		{Tenant: "acme", SLO: "chat-latency", Hour: h(2), Good: 7, Total: 7},
		{Tenant: "acme", SLO: "embed", Hour: h(1), Good: 0, Total: 0}, // an hour without events is a row too
		{Tenant: "globex", SLO: "chat-latency", Hour: h(1), Good: 3, Total: 3},
	}
	if err := s.WriteHourlyRollups(c, hours); err != nil {
		t.Fatalf("WriteHourlyRollups: %v", err)
	}
	// Rewritten hours replace the stored ones, the later row of a batch
	// winning, and a repeat keeps one copy.
	again := []store.HourlyRollup{
		{Tenant: "acme", SLO: "chat-latency", Hour: h(1), Good: 10, Total: 20},
		{Tenant: "acme", SLO: "chat-latency", Hour: h(1), Good: 30.5, Total: 40.25},
	}
	for i := 0; i < 2; i++ {
		if err := s.WriteHourlyRollups(c, again); err != nil {
			t.Fatalf("WriteHourlyRollups again: %v", err)
		}
	}
	err := s.WriteHourlyRollups(c, []store.HourlyRollup{{Tenant: "acme", SLO: "x", Hour: h(3), Good: 1, Total: 1}, {Tenant: "acme", SLO: "x", Hour: h(4).Add(time.Minute), Good: 1, Total: 1}})
	if err == nil || !strings.Contains(err.Error(), "not on the hour") {
		t.Errorf("an hour off the hour: %v, want an error saying so", err)
	}
	read := func(start, end time.Time) string {
		var got []string
		err := s.TenantHourlyRollups(c, "acme", start, end, func(r *store.HourlyRollup) error {
			got = append(got, fmt.Sprintf("%s %s %g/%g", r.SLO, r.Hour.Sub(base), r.Good, r.Total))
			return nil
		})
		sort.Strings(got)
		return fmt.Sprint(got, err)
	}
	if got := read(h(1), h(3)); got != "[chat-latency 1h0m0s 30.5/40.25 chat-latency 2h0m0s 7/7 embed 1h0m0s 0/0] <nil>" {
		t.Errorf("TenantHourlyRollups(1h, 3h) = %s", got)
	}
	if got := read(h(3), h(5)); got != "[] <nil>" {
		t.Errorf("TenantHourlyRollups after the refused batch = %s, want nothing", got)
	}

	// Minutes summed by hour: each minute at its latest value, only the
	// SLOs asked for, only the hours of the range.
	var ms []store.Rollup
	for m := 0; m < 150; m++ {
		ms = append(ms, store.Rollup{Tenant: "acme", SLO: "a", Minute: h(10).Add(time.Duration(m) * time.Minute), Good: float64(m % 7), Total: 10})
	}
	ms = append(ms,
		store.Rollup{Tenant: "acme", SLO: "b", Minute: h(10).Add(59 * time.Minute), Good: 0.5, Total: 1},
		store.Rollup{Tenant: "acme", SLO: "c", Minute: h(10), Good: 1, Total: 1},
		store.Rollup{Tenant: "globex", SLO: "a", Minute: h(10), Good: 1, Total: 1})
	if err := s.WriteRollups(c, ms); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteRollups(c, []store.Rollup{{Tenant: "acme", SLO: "a", Minute: h(10).Add(61 * time.Minute), Good: 100, Total: 100}}); err != nil {
		t.Fatal(err)
	}
	var sums []string
	err = s.SumRollupHours(c, "acme", []string{"a", "b", "missing"}, h(10), h(12), func(r *store.HourlyRollup) error {
		sums = append(sums, fmt.Sprintf("%s %s %g/%g", r.SLO, r.Hour.Sub(base), r.Good, r.Total))
		return nil
	})
	sort.Strings(sums)
	// a: minutes 0-59 hold 0..6 repeating, 8 whole weeks (168) plus 0..3
	// (6); minutes 60-119 hold 4,5,6,0,... with minute 61 (5) now 100/100.
	var first, second float64
	for m := 0; m < 120; m++ {
		if m < 60 {
			first += float64(m % 7)
		} else {
			second += float64(m % 7)
		}
	}
	second += 100 - 5
	want := fmt.Sprintf("[a 10h0m0s %g/600 a 11h0m0s %g/690 b 10h0m0s 0.5/1] <nil>", first, second)
	if got := fmt.Sprint(sums, err); got != want {
		t.Errorf("SumRollupHours = %s, want %s", got, want)
	}
}
