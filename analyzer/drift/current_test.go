package drift

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// TestJobReadsCurrentMonitors: the job judges the monitors the config
// holds at each tick, so a reload reaches the next tick.
func TestJobReadsCurrentMonitors(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	monitor := func(name string) *Monitor {
		return &Monitor{Name: name, Watch: Watch{Kind: WatchDuration}, Reference: Reference{Offset: time.Hour}, Current: time.Hour, Every: time.Hour}
	}
	monitors := []*Monitor{monitor("a")}
	j := &Job{Store: st, Current: func() []*Monitor { return monitors }}
	tick := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	if err := j.Run(ctx, tick); err != nil {
		t.Fatal(err)
	}
	monitors = []*Monitor{monitor("b")}
	if err := j.Run(ctx, tick.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	evs, err := st.Events(ctx, store.EventQuery{Tenant: store.DefaultTenant, Start: tick, End: tick.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var judged []string
	for _, ev := range evs {
		judged = append(judged, ev.Subject+"@"+ev.Time.Format("15"))
	}
	sort.Strings(judged)
	if strings.Join(judged, " ") != "a@12 b@13" {
		t.Errorf("judged %v, want a at 12 and b at 13", judged)
	}
}
