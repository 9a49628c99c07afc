package rightsize

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// ThroughputReader is the span read replica recommendations use.
type ThroughputReader interface {
	Throughput(ctx context.Context, q store.ThroughputQuery) ([]store.MinuteThroughput, error)
}

// kube-state-metrics' replica counts of a Deployment. The status count is
// the pods that exist, the ones that served the traffic, and it is what
// the HPA itself takes as the current count; the spec count (what was
// asked for) stands in when the status series is missing.
const (
	MetricDeploymentStatusReplicas = "kube_deployment_status_replicas"
	MetricDeploymentSpecReplicas   = "kube_deployment_spec_replicas"
)

// DefaultReplicaHistory is how much span history a replica recommendation
// reads by default: enough to have seen a busy hour's load at the SLO,
// little enough that the exact per-minute p95 stays cheap to read every
// time KEDA polls.
const DefaultReplicaHistory = time.Hour

// MaxReplicaHistory bounds the window a replica recommendation reads: the
// read keeps every span duration of the window to take exact per-minute
// p95s, and a week is already more than the HPA rule looks back.
const MaxReplicaHistory = 7 * 24 * time.Hour

// MinTargetPerReplica is the smallest per-replica target (requests/s)
// accepted: below it the replica count is meaningless (and its product
// with the load overflows).
const MinTargetPerReplica = 1e-6

// ErrBadReplicaQuery says the query itself is wrong (empty or too long a
// window, no service, no way to know the target).
var ErrBadReplicaQuery = errors.New("replica recommendation")

// replicaStaleness is how old the last replica sample may be and still be
// the current count: Prometheus's lookback delta.
const replicaStaleness = 5 * time.Minute

// ErrNoReplicaCount says the current replica count is unknown: neither
// kube-state-metrics nor the caller gave one.
var ErrNoReplicaCount = errors.New("no current replica count")

// ErrAmbiguousDeployment says a Deployment name matched in several
// namespaces and no namespace was given.
var ErrAmbiguousDeployment = errors.New("deployment in several namespaces")

// ReplicaQuery selects a service's spans and its Deployment.
type ReplicaQuery struct {
	Tenant    string
	Service   string
	Operation string // "" for every operation
	Model     string // "" for every model
	// Namespace and Deployment find kube-state-metrics' replica counts;
	// an empty Namespace matches any, but only one.
	Namespace, Deployment string
	// Replicas is the current count to use when kube-state-metrics has
	// none for the Deployment; 0 means there is none.
	Replicas int
	// SLO is the p95 latency objective in seconds.
	SLO float64
	// Target is the requests/s one replica sustains; 0 derives it.
	Target float64
	// Start and End bound the history; both are taken down to the minute,
	// so the minute still in progress, whose count is partial, is left out.
	Start, End time.Time
}

// ReplicaAdvice is a replica recommendation with where its inputs came
// from.
type ReplicaAdvice struct {
	ReplicaRecommendation
	Service    string    `json:"service"`
	Operation  string    `json:"operation,omitempty"`
	Model      string    `json:"model,omitempty"`
	Namespace  string    `json:"namespace,omitempty"`
	Deployment string    `json:"deployment,omitempty"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	// CurrentFrom names the source of Current: a kube-state-metrics
	// metric or "parameter".
	CurrentFrom string `json:"current_from"`
	// LatestRPS and LatestP95 (seconds) are the last minute's; PeakRPS is
	// the history's highest. Minutes without spans count as 0 requests/s.
	LatestRPS float64 `json:"latest_rps"`
	LatestP95 float64 `json:"latest_p95_seconds,omitempty"`
	PeakRPS   float64 `json:"peak_rps"`
	// Requests counts the spans of the window.
	Requests uint64 `json:"requests"`
}

// ReplicaRecommender turns span throughput and latency into a replica
// count through Replicas.
type ReplicaRecommender struct {
	Spans   ThroughputReader
	Metrics MetricReader
}

// Recommend reads the history and replays it through the HPA rule. Every
// minute of the window is a sample: minutes without spans carry 0
// requests/s (and no latency), so a service that went quiet is scaled
// down. When kube-state-metrics has the Deployment's replica history, the
// per-replica target is derived from the count at each minute rather than
// from today's count, so a history that spans a scaling event does not
// misjudge what one replica carried.
func (r *ReplicaRecommender) Recommend(ctx context.Context, q ReplicaQuery) (ReplicaAdvice, error) {
	start, end := q.Start.Truncate(time.Minute), q.End.Truncate(time.Minute)
	switch {
	case !end.After(start):
		return ReplicaAdvice{}, fmt.Errorf("%w: the window %s to %s holds no whole minute", ErrBadReplicaQuery, q.Start.Format(time.RFC3339), q.End.Format(time.RFC3339))
	case end.Sub(start) > MaxReplicaHistory:
		return ReplicaAdvice{}, fmt.Errorf("%w: the window %s is longer than %s", ErrBadReplicaQuery, end.Sub(start), MaxReplicaHistory)
	case q.Service == "":
		return ReplicaAdvice{}, fmt.Errorf("%w: no service named", ErrBadReplicaQuery)
	case q.Target <= 0 && !(q.SLO > 0):
		return ReplicaAdvice{}, fmt.Errorf("%w: give a latency SLO (seconds) to derive the per-replica target from, or the target itself", ErrBadReplicaQuery)
	case q.Target > 0 && q.Target < MinTargetPerReplica:
		return ReplicaAdvice{}, fmt.Errorf("%w: a target of %g requests/s a replica is below %g", ErrBadReplicaQuery, q.Target, MinTargetPerReplica)
	}
	out := ReplicaAdvice{Service: q.Service, Operation: q.Operation, Model: q.Model, Namespace: q.Namespace, Deployment: q.Deployment, From: start, To: end}
	history, ns, from, err := r.replicaHistory(ctx, q, start, end)
	if err != nil {
		return out, err
	}
	if ns != "" {
		out.Namespace = ns
	}
	current := 0
	if n := len(history); n > 0 && history[n-1].TimestampMsec >= end.Add(-replicaStaleness).UnixMilli() {
		current, out.CurrentFrom = int(history[n-1].Value), from
	} else if q.Replicas > 0 {
		current, out.CurrentFrom = q.Replicas, "parameter"
	} else {
		return out, fmt.Errorf("%w: kube-state-metrics has no %s for deployment %q in the last %s, and no replica count was given",
			ErrNoReplicaCount, MetricDeploymentStatusReplicas, q.Deployment, replicaStaleness)
	}

	minutes, err := r.Spans.Throughput(ctx, store.ThroughputQuery{Tenant: q.Tenant, Service: q.Service, Operation: q.Operation, Model: q.Model, Start: start, End: end})
	if err != nil {
		return out, fmt.Errorf("replica recommendation for %s: %w", q.Service, err)
	}
	in := ReplicaInput{Current: current, SLO: q.SLO, Target: q.Target}
	next := 0
	for m := start; m.Before(end); m = m.Add(time.Minute) {
		t := m.UnixMilli()
		rps := 0.0
		if next < len(minutes) && minutes[next].Minute.Equal(m) {
			rps = float64(minutes[next].Requests) / 60
			out.Requests += minutes[next].Requests
			p95 := minutes[next].P95.Seconds()
			in.Latency = append(in.Latency, Point{TimestampMsec: t, Value: p95})
			out.LatestP95 = p95
			next++
		} else {
			out.LatestP95 = 0
		}
		in.Throughput = append(in.Throughput, Point{TimestampMsec: t, Value: rps})
		out.LatestRPS, out.PeakRPS = rps, max(out.PeakRPS, rps)
	}
	if in.Target <= 0 && len(history) > 0 {
		in.Target = historicTarget(in, history)
	}
	out.ReplicaRecommendation = Replicas(in)
	switch {
	case current < 1:
		// Nothing served the history, so no per-replica load can be
		// read from it; waking the Deployment is activation's business.
		out.Skipped = "the deployment has no replicas"
	case len(minutes) == 0 && out.Skipped != "":
		out.Skipped = "no spans of the service in the window"
	}
	return out, nil
}

// historicTarget is the highest requests/s per replica among the minutes
// whose p95 met the SLO, each divided by the replica count of its own
// minute (the last sample at or before the minute's end, if fresh); 0 when
// no such minute is known, which leaves Replicas to derive it.
func historicTarget(in ReplicaInput, history []Point) float64 {
	lat := make(map[int64]float64, len(in.Latency))
	for _, p := range in.Latency {
		lat[p.TimestampMsec] = p.Value
	}
	target, h := 0.0, 0
	for _, p := range in.Throughput {
		endMsec := p.TimestampMsec + time.Minute.Milliseconds()
		for h < len(history) && history[h].TimestampMsec < endMsec {
			h++
		}
		if h == 0 || history[h-1].TimestampMsec < endMsec-replicaStaleness.Milliseconds() || history[h-1].Value < 1 {
			continue
		}
		if l, ok := lat[p.TimestampMsec]; ok && l <= in.SLO {
			target = max(target, p.Value/history[h-1].Value)
		}
	}
	return target
}

// replicaHistory reads the Deployment's replica count over the window (and
// the staleness period before it), from the status series or else the
// spec series, and the namespace it was found in. Two kube-state-metrics
// replicas report the same values, so every matching series of one
// namespace is merged.
func (r *ReplicaRecommender) replicaHistory(ctx context.Context, q ReplicaQuery, start, end time.Time) ([]Point, string, string, error) {
	if q.Deployment == "" || r.Metrics == nil {
		return nil, "", "", nil
	}
	for _, name := range []string{MetricDeploymentStatusReplicas, MetricDeploymentSpecReplicas} {
		ms := []*store.Matcher{mustMatcher(store.MatchEqual, store.MetricNameLabel, name), mustMatcher(store.MatchEqual, "deployment", q.Deployment)}
		if q.Namespace != "" {
			ms = append(ms, mustMatcher(store.MatchEqual, "namespace", q.Namespace))
		}
		series, err := r.Metrics.Series(ctx, q.Tenant, ms)
		if err != nil {
			return nil, "", "", fmt.Errorf("cannot read %s series: %w", name, err)
		}
		if len(series) == 0 {
			continue
		}
		ns := series[0].Label("namespace")
		fps := make([]uint64, 0, len(series))
		for i := range series {
			if other := series[i].Label("namespace"); other != ns {
				return nil, "", "", fmt.Errorf("%w: deployment %q is in namespaces %q and %q: name one", ErrAmbiguousDeployment, q.Deployment, ns, other)
			}
			fps = append(fps, series[i].Fingerprint)
		}
		samples, err := r.Metrics.Samples(ctx, q.Tenant, fps, start.Add(-replicaStaleness), end)
		if err != nil {
			return nil, "", "", fmt.Errorf("cannot read %s samples: %w", name, err)
		}
		if len(samples) == 0 {
			continue
		}
		ps := make([]Point, len(samples))
		for i, s := range samples {
			ps[i] = Point{TimestampMsec: s.TimestampMsec, Value: s.Value}
		}
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].TimestampMsec < ps[j].TimestampMsec })
		return ps, ns, name, nil
	}
	return nil, "", "", nil
}
