package dashboards

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-dev/vigil/dispatch"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// TestSyncPushesChangedSLOs: after a reload changes one SLO, Sync records
// that SLO's dashboard alone, the dispatcher hands it to Pusher, which
// saves it in Grafana (the fake one, decoding bodies with the client's
// models) with its folder, and the delivery log and the dispatcher's metric say so; the
// same change again writes nothing; a dashboard Grafana provisions from
// files is given up with the reason in the log.
func TestSyncPushesChangedSLOs(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	slos := fixture(t).SLOs
	teams := map[string][]string{"chat": {"chat-gateway", "ranker"}}
	current := slos
	f, srv := newFakeGrafana(t, testToken)
	api, err := NewHTTPAPI(srv.URL, testToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	pusher := &Pusher{Grafana: api, Target: srv.URL, Current: func() []*slo.SLO { return current }, Teams: teams}
	reg := prometheus.NewRegistry()
	disp, err := dispatch.New(dispatch.Options{Store: st, Subscribers: []dispatch.Subscriber{pusher}, Backoff: 10 * time.Millisecond, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	go disp.Serve()
	defer disp.Shutdown(ctx)
	sync := &Sync{Store: st, Publisher: disp, Current: func() []*slo.SLO { return current }, Teams: teams}

	tick := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	run := func() {
		t.Helper()
		tick = tick.Add(time.Minute)
		if err := sync.Run(ctx, tick); err != nil {
			t.Fatal(err)
		}
	}
	changes := func() []store.Event {
		evs, err := st.Events(ctx, store.EventQuery{AllTenants: true, Types: []string{SLODashboardChanges.Type}, Start: tick.Add(-time.Hour), End: tick.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
	deliveries := func(n int) []dispatch.Delivery {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			log, err := dispatch.Deliveries.Read(ctx, st, store.EventQuery{AllTenants: true, Start: time.Now().Add(-time.Hour), End: time.Now().Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			var out []dispatch.Delivery
			for _, r := range log {
				if r.Value.Subscriber == "grafana" {
					out = append(out, r.Value)
				}
			}
			if len(out) >= n || time.Now().After(deadline) {
				return out
			}
		}
	}

	// The first tick is the baseline, a second one with nothing changed
	// records nothing either.
	run()
	run()
	if evs := changes(); len(evs) != 0 {
		t.Fatalf("%d changes recorded with nothing changed", len(evs))
	}

	// A reload raises chat-latency's objective: its dashboard alone.
	current = changedObjective(t, slos, "chat-latency", 0.999)
	run()
	evs := changes()
	if len(evs) != 1 || evs[0].Subject != "chat-latency" {
		t.Fatalf("changes %+v, want chat-latency's", evs)
	}
	c, err := SLODashboardChanges.Decode(evs[0])
	if err != nil || c.UID != "vigil-slo-chat-latency" {
		t.Fatalf("change %+v, %v", c, err)
	}
	// What is pushed is what `vigil dashboards generate` and push write.
	full, err := Generate(Inventory{SLOs: current, Teams: teams})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range full.Dashboards {
		if sum := sha256.Sum256(d.JSON); d.UID == c.UID && hex.EncodeToString(sum[:]) != c.Digest {
			t.Errorf("the change's digest %s is not that of Generate's %s", c.Digest, d.UID)
		}
	}
	log := deliveries(1)
	if len(log) != 1 || log[0].Outcome != dispatch.Delivered || log[0].Target != srv.URL || strings.Join(log[0].Keys, ",") != "vigil-slo-chat-latency" ||
		!strings.HasPrefix(log[0].Note, "2 created, 0 updated, 0 unchanged, 0 refused") {
		t.Fatalf("delivery log %+v", log)
	}
	f.mu.Lock()
	saved := f.dashes["vigil-slo-chat-latency"]
	folder := f.dashFolder["vigil-slo-chat-latency"]
	f.mu.Unlock()
	if saved == nil || !strings.Contains(saved["description"].(string), "objective 99.9%") || folder != "vigil-team-chat" {
		t.Errorf("Grafana holds %v in folder %q", saved["description"], folder)
	}
	if got := counterValue(t, reg, "vigil_dispatch_attempts_total", map[string]string{"subscriber": "grafana", "outcome": "delivered"}); got != 1 {
		t.Errorf("vigil_dispatch_attempts_total{subscriber=grafana,outcome=delivered} = %v", got)
	}

	// The same dashboard delivered again (a retry, a second replica):
	// Grafana already holds it, so nothing is written.
	writes := f.writeCount()
	if r, err := pusher.Deliver(ctx, store.DefaultTenant, evs); err != nil || !strings.HasPrefix(r.Note, "0 created, 0 updated, 2 unchanged") || f.writeCount() != writes {
		t.Errorf("second delivery: %+v, %v, %d writes", r, err, f.writeCount()-writes)
	}

	// Provisioned from files in Grafana: refused, given up, said why.
	f.mu.Lock()
	f.provisioned["vigil-slo-chat-latency"] = true
	f.mu.Unlock()
	current = changedObjective(t, slos, "chat-latency", 0.95)
	run()
	log = deliveries(2) // newest first
	if len(log) != 2 || log[0].Outcome != dispatch.Failed || !strings.Contains(log[0].Note, "provisioned from files") || len(log[0].Keys) != 0 {
		t.Errorf("delivery log after a provisioned dashboard: %+v", log)
	}
}

// changedObjective is the SLOs with one SLO's objective changed, as a
// reload reads them: new values, the others as they were.
func changedObjective(t *testing.T, slos []*slo.SLO, name string, objective float64) []*slo.SLO {
	t.Helper()
	out := make([]*slo.SLO, len(slos))
	for i, s := range slos {
		out[i] = s
		if s.Name == name {
			c := *s
			c.Objective = objective
			out[i] = &c
		}
	}
	return out
}

// counterValue is a counter of the registry, found by name and labels.
func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := 0
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v == l.GetValue() {
					match++
				}
			}
			if match == len(labels) {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no %s%v", name, labels)
	return 0
}

// TestSyncFailsOncePerReading: SLOs whose dashboards cannot be generated
// (two would share a uid) fail the tick once, not every tick until the
// next reload; the reload that fixes them is read.
func TestSyncFailsOncePerReading(t *testing.T) {
	base := fixture(t).SLOs[0]
	clash := func(tenant, name string) *slo.SLO {
		c := *base
		c.Tenant, c.Name = tenant, name
		return &c
	}
	current := []*slo.SLO{clash("", "acme-chat"), clash("acme", "chat")}
	s := &Sync{Current: func() []*slo.SLO { return current }}
	ctx := context.Background()
	if err := s.Run(ctx, time.Now()); err == nil || !strings.Contains(err.Error(), "would share the uid vigil-slo-acme-chat") {
		t.Fatalf("first tick: %v", err)
	}
	if err := s.Run(ctx, time.Now()); err != nil {
		t.Errorf("second tick with the same SLOs: %v, want it skipped", err)
	}
	current = []*slo.SLO{clash("", "acme-chat")}
	if err := s.Run(ctx, time.Now()); err != nil || len(s.last) != 1 {
		t.Errorf("after the fixing reload: %v, %d dashboards known", err, len(s.last))
	}
}
