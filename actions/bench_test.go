package actions

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/clickhouse"
	"github.com/vigil-dev/vigil/store/embedded"
)

// BenchmarkGet reads one action among a tenant's week of actions, as Get
// (and so Approve, Reject, Abort, Retry and GET /api/v1/actions/{id})
// does: every transition of the tenant's lookback, folded. Each action
// has five transitions (proposed to succeeded), spread over the week.
func BenchmarkGet(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("embedded/%d", n), func(b *testing.B) {
			st, err := embedded.Open(context.Background(), b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			benchGet(b, st, n)
		})
		b.Run(fmt.Sprintf("clickhouse/%d", n), func(b *testing.B) {
			addr := os.Getenv("VIGIL_TEST_CLICKHOUSE")
			if addr == "" {
				b.Skip("VIGIL_TEST_CLICKHOUSE is not set")
			}
			ctx := context.Background()
			cfg, err := clickhouse.ParseURL(fmt.Sprintf("clickhouse://%s/vigil_actions_bench_%d", addr, time.Now().UnixNano()))
			if err != nil {
				b.Fatal(err)
			}
			st, err := clickhouse.Open(ctx, cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer func() { st.DropDatabase(ctx); st.Close() }()
			benchGet(b, st, n)
		})
	}
}

func benchGet(b *testing.B, st Store, n int) {
	ctx := context.Background()
	now := time.Now().UTC()
	var evs []store.Event
	target := Target{Executor: Kubernetes, Kind: "Deployment", Namespace: "llm"}
	for i := range n {
		at := now.Add(-time.Duration(i) * 6 * 24 * time.Hour / time.Duration(n))
		target.Name = fmt.Sprintf("chat-%d", i%50)
		plan := &Plan{Executor: Kubernetes, Operation: OpScale, Target: target, Changes: []Change{{Field: "replicas", From: "4", To: "8"}}}
		for v, s := range []State{Proposed, Approved, Executing, Verifying, Succeeded} {
			t := Transition{Action: fmt.Sprintf("a%d", i), Policy: "scale-chat", Target: target, State: s, Attempt: 1, Version: v + 1, Actor: "vigil", Mode: Auto}
			if s == Proposed {
				t.Evidence, t.Plan = &Evidence{Kind: OnCanary, Summary: "canary fails"}, plan
			}
			ev, err := t.event(store.DefaultTenant, at.Add(time.Duration(v)*time.Second))
			if err != nil {
				b.Fatal(err)
			}
			evs = append(evs, ev)
		}
	}
	for i := 0; i < len(evs); i += 5000 {
		if err := st.WriteEvents(ctx, evs[i:min(i+5000, len(evs))]); err != nil {
			b.Fatal(err)
		}
	}
	e := New(Options{Store: st})
	b.ResetTimer()
	for range b.N {
		if a, err := e.Get(ctx, "", "a0"); err != nil || a.State != Succeeded {
			b.Fatal(a, err)
		}
	}
}
