package storetest

import (
	"fmt"
	"reflect"
	"sort"
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
}
