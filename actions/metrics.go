package actions

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the engine's own. Each process counts the transitions it
// records: the web role a person's decisions, the analyzer the rest;
// Prometheus sums them.
type metrics struct {
	proposed *prometheus.CounterVec
	outcomes *prometheus.CounterVec
	decision *prometheus.HistogramVec
	recovery *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		proposed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_actions_proposed_total",
			Help: "Actions proposed, by policy, executor and mode."}, []string{"policy", "executor", "mode"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_actions_total",
			Help: "Actions that reached an outcome (succeeded, failed, reverted, rejected, expired, superseded), by policy, executor and outcome; a failed action retried or reverted counts again."},
			[]string{"policy", "executor", "outcome"}),
		decision: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vigil_action_decision_seconds",
			Help:    "Time from an action's proposal to its decision (approved, by a person or its auto policy; rejected; expired; superseded), by policy and decision.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9)}, []string{"policy", "decision"}),
		recovery: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vigil_action_recovery_seconds",
			Help:    "Time from an action's execution to its verification's success (its SLO burning below the expectation, or without an SLO the change seen to hold), by policy and executor.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 13)}, []string{"policy", "executor"}),
	}
	if reg != nil {
		reg.MustRegister(m.proposed, m.outcomes, m.decision, m.recovery)
	}
	return m
}

// observe counts a transition of a recorded at at; prev is the state it
// left.
func (m *metrics) observe(a *Action, prev State, t Transition, at time.Time) {
	executor := t.Target.Executor
	switch {
	case t.State == Proposed:
		m.proposed.WithLabelValues(t.Policy, executor, string(t.Mode)).Inc()
	case prev == Proposed:
		m.decision.WithLabelValues(t.Policy, string(t.State)).Observe(at.Sub(a.Proposed).Seconds())
	}
	if t.State == Succeeded {
		m.recovery.WithLabelValues(t.Policy, executor).Observe(at.Sub(a.executed()).Seconds())
	}
	if t.State.Final() {
		m.outcomes.WithLabelValues(t.Policy, executor, string(t.State)).Inc()
	}
}
