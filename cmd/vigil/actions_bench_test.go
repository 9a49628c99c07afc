package main

import (
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/actions"
)

// TestActionsRollbackLatency measures, for BENCHMARKS.md, how long vigil
// serve (ticking every second, the policy in auto mode) takes from a
// trigger to the rollback applied on the API server: five runs for the
// failing canary verdict and five for the SLO's page burn-rate alert,
// each on a fresh server and Deployment; then, in approve mode, five from
// an operator's approval through the API. It logs the runs and their
// medians and asserts nothing about speed. VIGIL_BENCH_ACTIONS=1 runs it.
func TestActionsRollbackLatency(t *testing.T) {
	if os.Getenv("VIGIL_BENCH_ACTIONS") == "" {
		t.Skip("set VIGIL_BENCH_ACTIONS=1 to measure the time from a trigger to the applied rollback")
	}
	const interval = time.Second // newActionsWorld's --analyzer.interval
	burn := func(w *actionsWorld) {
		now := time.Now()
		w.send("stable", 300, 50, now.Add(-2*time.Minute), now)
	}
	for _, c := range []struct {
		trigger, when string
		regress       func(*actionsWorld)
	}{
		{"failing canary verdict", onCanary, (*actionsWorld).regress},
		{"page burn-rate alert", onAlert, burn},
	} {
		var fromTrigger, fromSent []time.Duration
		for range 5 {
			w := newActionsWorld(t, c.when, actions.Auto)
			c.regress(w)
			sent := time.Now()
			a := w.action(w.await(1, actions.Verifying).ID)
			applied := a.Timeline[len(a.Timeline)-1].At // verifying: the patch answered
			fromTrigger = append(fromTrigger, applied.Sub(a.Evidence.At))
			fromSent = append(fromSent, applied.Sub(sent))
			t.Logf("%s at %s (tick), rollback applied at %s: %s after it, %s after the spans were exported",
				c.trigger, a.Evidence.At.Format("15:04:05.000"), applied.Format("15:04:05.000"), fromTrigger[len(fromTrigger)-1], fromSent[len(fromSent)-1])
			w.v.stop(t)
		}
		mt, ms := median(fromTrigger), median(fromSent)
		t.Logf("%s → applied rollback, median of %d: %s (%d ticks of %s after the trigger's tick); from the spans' export: %s (%.1f ticks)",
			c.trigger, len(fromTrigger), mt, int(mt/interval), interval, ms, float64(ms)/float64(interval))
	}
	// In approve mode: from an operator's approval through the API.
	var fromApproval []time.Duration
	for range 5 {
		w := newActionsWorld(t, onCanary, actions.Approve)
		w.regress()
		s := w.await(1, actions.Proposed)
		if code, body := w.api("POST", "/api/v1/actions/"+s.ID+"/approve", w.operator, http.Header{"If-Match": {`"1"`}}, ""); code != 200 {
			t.Fatalf("approve: %d %s", code, body)
		}
		a := w.action(w.await(1, actions.Verifying).ID)
		fromApproval = append(fromApproval, a.Timeline[3].At.Sub(a.Timeline[1].At))
		t.Logf("approved at %s, rollback applied %s after", a.Timeline[1].At.Format("15:04:05.000"), fromApproval[len(fromApproval)-1])
		w.v.stop(t)
	}
	t.Logf("approval through the API → applied rollback, median of %d: %s", len(fromApproval), median(fromApproval))
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
