package canary

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// verdicts is a store without spans that keeps the verdicts written.
type verdicts struct{ subjects []string }

func (v *verdicts) SpanDurations(context.Context, store.DurationQuery) (store.Durations, error) {
	return store.Durations{}, nil
}

func (v *verdicts) WriteEvents(_ context.Context, evs []store.Event) error {
	for _, ev := range evs {
		v.subjects = append(v.subjects, ev.Subject)
	}
	return nil
}

// TestJobReadsCurrentMonitors: the job judges the monitors the config
// holds at each tick, so a reload reaches the next tick.
func TestJobReadsCurrentMonitors(t *testing.T) {
	monitor := func(service string) Monitor {
		return Monitor{Name: service, Window: 15 * time.Minute,
			Spec: Spec{Tenant: store.DefaultTenant, Service: service, By: ByDeployment, Canary: "canary", Baseline: "stable"}}
	}
	monitors := []Monitor{monitor("chat")}
	st := &verdicts{}
	j := &Job{Store: st, Current: func() []Monitor { return monitors }}
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	if err := j.Run(context.Background(), tick); err != nil {
		t.Fatal(err)
	}
	monitors = []Monitor{monitor("search"), monitor("embed")}
	if err := j.Run(context.Background(), tick.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if want := []string{"chat/canary", "search/canary", "embed/canary"}; !reflect.DeepEqual(st.subjects, want) {
		t.Errorf("verdicts on %v, want on %v", st.subjects, want)
	}
}
