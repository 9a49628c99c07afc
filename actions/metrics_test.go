package actions

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-dev/vigil/analyzer/canary"
)

// An auto action counts its proposal, its decision at once, its outcome,
// and the minute from its execution to its verification.
func TestMetrics(t *testing.T) {
	r := newRig(t, Auto)
	reg := prometheus.NewRegistry()
	r.e.metrics = newMetrics(reg)
	r.verdict(canary.VerdictFail)
	if err := r.execute(); err != nil {
		t.Fatal(err)
	}
	r.clock.add(time.Minute)
	r.tick()
	if err := testutil.GatherAndCompare(reg, strings.NewReader(wantMetrics)); err != nil {
		t.Error(err)
	}
}

const wantMetrics = `
# HELP vigil_action_decision_seconds Time from an action's proposal to its decision (approved, by a person or its auto policy; rejected; expired; superseded), by policy and decision.
# TYPE vigil_action_decision_seconds histogram
vigil_action_decision_seconds_bucket{decision="approved",policy="scale-chat",le="1"} 1
vigil_action_decision_seconds_bucket{decision="approved",policy="scale-chat",le="4"} 1
vigil_action_decision_seconds_bucket{decision="approved",policy="scale-chat",le="16"} 1
vigil_action_decision_seconds_bucket{decision="approved",policy="scale-chat",le="64"} 1
vigil_action_decision_seconds_bucket{decision="approved",policy="scale-chat",le="256"} 1
vigil_action_decision_seconds_bucket{decision="approved",policy="scale-chat",le="1024"} 1
vigil_action_decision_seconds_bucket{decision="approved",policy="scale-chat",le="4096"} 1
vigil_action_decision_seconds_bucket{decision="approved",policy="scale-chat",le="16384"} 1
vigil_action_decision_seconds_bucket{decision="approved",policy="scale-chat",le="65536"} 1
vigil_action_decision_seconds_bucket{decision="approved",policy="scale-chat",le="+Inf"} 1
vigil_action_decision_seconds_sum{decision="approved",policy="scale-chat"} 0
vigil_action_decision_seconds_count{decision="approved",policy="scale-chat"} 1
# HELP vigil_action_recovery_seconds Time from an action's execution to its verification's success (its SLO burning below the expectation, or without an SLO the change seen to hold), by policy and executor.
# TYPE vigil_action_recovery_seconds histogram
vigil_action_recovery_seconds_bucket{executor="kubernetes",policy="scale-chat",le="1"} 0
vigil_action_recovery_seconds_bucket{executor="kubernetes",policy="scale-chat",le="2"} 0
vigil_action_recovery_seconds_bucket{executor="kubernetes",policy="scale-chat",le="4"} 0
vigil_action_recovery_seconds_bucket{executor="kubernetes",policy="scale-chat",le="8"} 0
vigil_action_recovery_seconds_bucket{executor="kubernetes",policy="scale-chat",le="16"} 0
vigil_action_recovery_seconds_bucket{executor="kubernetes",policy="scale-chat",le="32"} 0
vigil_action_recovery_seconds_bucket{executor="kubernetes",policy="scale-chat",le="64"} 1
vigil_action_recovery_seconds_bucket{executor="kubernetes",policy="scale-chat",le="128"} 1
vigil_action_recovery_seconds_bucket{executor="kubernetes",policy="scale-chat",le="256"} 1
vigil_action_recovery_seconds_bucket{executor="kubernetes",policy="scale-chat",le="512"} 1
vigil_action_recovery_seconds_bucket{executor="kubernetes",policy="scale-chat",le="1024"} 1
vigil_action_recovery_seconds_bucket{executor="kubernetes",policy="scale-chat",le="2048"} 1
vigil_action_recovery_seconds_bucket{executor="kubernetes",policy="scale-chat",le="4096"} 1
vigil_action_recovery_seconds_bucket{executor="kubernetes",policy="scale-chat",le="+Inf"} 1
vigil_action_recovery_seconds_sum{executor="kubernetes",policy="scale-chat"} 60
vigil_action_recovery_seconds_count{executor="kubernetes",policy="scale-chat"} 1
# HELP vigil_actions_proposed_total Actions proposed, by policy, executor and mode.
# TYPE vigil_actions_proposed_total counter
vigil_actions_proposed_total{executor="kubernetes",mode="auto",policy="scale-chat"} 1
# HELP vigil_actions_total Actions that reached an outcome (succeeded, failed, reverted, rejected, expired, superseded), by policy, executor and outcome; a failed action retried or reverted counts again.
# TYPE vigil_actions_total counter
vigil_actions_total{executor="kubernetes",outcome="succeeded",policy="scale-chat"} 1
`
