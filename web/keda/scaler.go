// Package keda serves KEDA's external-scaler gRPC API
// (externalscaler.ExternalScaler), so a ScaledObject can scale a
// Deployment on Vigil's replica recommendation without glue code.
//
// It lives under web/ because it is a served protocol, as the HTTP API
// and the Jaeger query API are: it owns the wire format and the
// ScaledObject metadata, and asks analyzer/rightsize for the number.
//
// KEDA's HPA sees one External metric per trigger, vigil-<service>-replicas,
// with a target of 1 and, as its value, the replica count Vigil
// recommends. With KEDA's default metricType, AverageValue, the HPA wants
// ceil(value / target) = the recommendation (then applies its own 10%
// tolerance and stabilisation windows on top). IsActive says whether the
// service had spans in the activation window, which is what KEDA scales
// from and to zero on.
//
// The messages and the service are generated (package externalscaler) from
// externalscaler.proto, written after KEDA's: KEDA's Go module is too large
// to depend on for five messages.
package keda

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/analyzer/rightsize"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/tenant"
)

// Store is what the scaler reads: spans for throughput and latency,
// kube-state-metrics for the current replica count.
type Store interface {
	store.ThroughputReader
	store.MetricReader
}

// DefaultActivationWindow is how recent a span must be for IsActive: the
// HPA's scale-down stabilisation window, so a service is not taken to
// zero sooner than the HPA would take it down a step.
const DefaultActivationWindow = 5 * time.Minute

// Scaler answers KEDA's questions about a ScaledObject from the store.
type Scaler struct {
	Store Store
	Now   func() time.Time // nil means time.Now
}

// Trigger is what a ScaledObject's trigger metadata asks Vigil to scale
// on. The metadata keys (all strings, as KEDA passes them):
//
//	service           the service.name whose spans to read (required)
//	operation, model  narrow the spans to one operation or model
//	latencySLO        p95 latency objective in seconds; the per-replica
//	                  target is the most requests/s a replica carried
//	                  while p95 met it
//	targetPerReplica  requests/s one replica sustains, instead of deriving
//	                  it (one of latencySLO and targetPerReplica is needed)
//	tenant            Vigil tenant (default: the default tenant)
//	deployment        kube-state-metrics' deployment label for the current
//	                  replica count (default: the ScaledObject's name)
//	namespace         its namespace (default: the ScaledObject's)
//	replicas          the current count when kube-state-metrics has none
//	history           how much span history to read (default 1h)
//	activationWindow  how recent a span makes IsActive true (default 5m)
type Trigger struct {
	Query            rightsize.ReplicaQuery // without Start and End
	History          time.Duration
	ActivationWindow time.Duration
}

// ParseTrigger reads a ScaledObjectRef's metadata.
func ParseTrigger(ref ScaledObjectRef) (Trigger, error) {
	md := ref.ScalerMetadata
	t := Trigger{History: rightsize.DefaultReplicaHistory, ActivationWindow: DefaultActivationWindow}
	q := &t.Query
	q.Tenant, q.Service, q.Operation, q.Model = md["tenant"], md["service"], md["operation"], md["model"]
	q.Deployment, q.Namespace = md["deployment"], md["namespace"]
	if q.Service == "" {
		return t, errors.New(`metadata "service" is required: the service.name whose spans to scale on`)
	}
	if err := tenant.Validate(q.Tenant); err != nil {
		return t, fmt.Errorf("metadata \"tenant\": %w", err)
	}
	if q.Tenant == "" {
		q.Tenant = store.DefaultTenant
	}
	if q.Deployment == "" {
		q.Deployment = ref.Name
	}
	if q.Namespace == "" {
		q.Namespace = ref.Namespace
	}
	for _, f := range []struct {
		key string
		dst *float64
	}{{"latencySLO", &q.SLO}, {"targetPerReplica", &q.Target}} {
		if s, ok := md[f.key]; ok {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || !(v > 0) || v > 1e12 {
				return t, fmt.Errorf("metadata %q: %q is not a positive number", f.key, s)
			}
			*f.dst = v
		}
	}
	if q.SLO == 0 && q.Target == 0 {
		return t, errors.New(`metadata needs "latencySLO" (seconds) or "targetPerReplica" (requests/s)`)
	}
	if s, ok := md["replicas"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return t, fmt.Errorf("metadata \"replicas\": %q is not a positive integer", s)
		}
		q.Replicas = n
	}
	for _, f := range []struct {
		key string
		dst *time.Duration
		min time.Duration
	}{{"history", &t.History, time.Minute}, {"activationWindow", &t.ActivationWindow, time.Second}} {
		if s, ok := md[f.key]; ok {
			d, err := time.ParseDuration(s)
			if err != nil || d < f.min || d > rightsize.MaxReplicaHistory {
				return t, fmt.Errorf("metadata %q: %q is not a duration between %s and %s", f.key, s, f.min, rightsize.MaxReplicaHistory)
			}
			*f.dst = d
		}
	}
	return t, nil
}

// MetricName is the trigger's metric: vigil-<service>-replicas, the
// service lower-cased with every character other than a-z, 0-9 and '-'
// made '-', since KEDA puts the name in the HPA and in URL paths of the
// external metrics API.
func (t Trigger) MetricName() string {
	var b strings.Builder
	for _, r := range strings.ToLower(t.Query.Service) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return "vigil-" + b.String() + "-replicas"
}

func (s *Scaler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// IsActive reports whether the trigger's service had spans in the
// activation window up to now.
func (s *Scaler) IsActive(ctx context.Context, ref ScaledObjectRef) (bool, error) {
	t, err := ParseTrigger(ref)
	if err != nil {
		return false, invalid(err)
	}
	now := s.now()
	q := t.Query
	minutes, err := s.Store.Throughput(ctx, store.ThroughputQuery{Tenant: q.Tenant, Service: q.Service, Operation: q.Operation, Model: q.Model,
		Start: now.Add(-t.ActivationWindow), End: now})
	if err != nil {
		return false, fmt.Errorf("cannot tell whether %s is active: %w", q.Service, err)
	}
	for _, m := range minutes {
		if m.Requests > 0 {
			return true, nil
		}
	}
	return false, nil
}

// MetricSpec is the one metric the trigger's HPA scales on, with target
// 1: its value is a replica count.
func (s *Scaler) MetricSpec(ref ScaledObjectRef) ([]MetricSpec, error) {
	t, err := ParseTrigger(ref)
	if err != nil {
		return nil, invalid(err)
	}
	return []MetricSpec{{MetricName: t.MetricName(), TargetSize: 1, TargetSizeFloat: 1}}, nil
}

// Metrics returns the recommended replica count as the metric's value,
// over the trigger's history up to the last whole minute.
func (s *Scaler) Metrics(ctx context.Context, ref ScaledObjectRef, metricName string) ([]MetricValue, rightsize.ReplicaAdvice, error) {
	t, err := ParseTrigger(ref)
	if err != nil {
		return nil, rightsize.ReplicaAdvice{}, invalid(err)
	}
	if want := t.MetricName(); metricName != want {
		return nil, rightsize.ReplicaAdvice{}, &notFoundError{fmt.Errorf("metric %q is not this trigger's: GetMetricSpec names %q", metricName, want)}
	}
	now := s.now()
	q := t.Query
	q.Start, q.End = now.Add(-t.History), now
	advice, err := (&rightsize.ReplicaRecommender{Spans: s.Store, Metrics: s.Store}).Recommend(ctx, q)
	if err != nil {
		return nil, advice, err
	}
	n := advice.Recommended
	return []MetricValue{{MetricName: metricName, MetricValue: int64(n), MetricValueFloat: float64(n)}}, advice, nil
}

// invalidError marks a ScaledObject's metadata as the problem.
type invalidError struct{ err error }

func (e *invalidError) Error() string { return "ScaledObject metadata: " + e.err.Error() }
func (e *invalidError) Unwrap() error { return e.err }

func invalid(err error) error { return &invalidError{err} }

// notFoundError says KEDA asked for a metric the trigger does not serve.
type notFoundError struct{ err error }

func (e *notFoundError) Error() string { return e.err.Error() }
func (e *notFoundError) Unwrap() error { return e.err }
