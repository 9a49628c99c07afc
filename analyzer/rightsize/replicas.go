package rightsize

import (
	"math"
	"time"
)

// ReplicaInput is what the replica recommendation is computed from.
type ReplicaInput struct {
	Current int
	// Throughput is the workload's total rate (requests/s or tokens/s)
	// and Latency its p95 latency (seconds) at the same times, oldest
	// first.
	Throughput, Latency []Point
	// SLO is the latency objective in seconds.
	SLO float64
	// Target is the throughput one replica sustains at the SLO; 0 derives
	// it from the history.
	Target float64
	// Tolerance (0 means 0.1) and ScaleDownWindow (0 means 5 minutes) are
	// the HPA's.
	Tolerance       float64
	ScaleDownWindow time.Duration
}

// maxReplicas bounds a recommendation, far above any Deployment.
const maxReplicas = 1e6

// ReplicaRecommendation is what the HPA rule would set.
type ReplicaRecommendation struct {
	Current     int     `json:"current"`
	Recommended int     `json:"recommended"` // at the end of the history
	Peak        int     `json:"peak"`        // the most the history needed
	Target      float64 `json:"target_per_replica"`
	Samples     int     `json:"samples"`
	// Skipped says why there is no recommendation.
	Skipped string `json:"skipped,omitempty"`
}

// Replicas replays the history through the HPA rule: desired =
// ceil(replicas × (throughput per replica) / target), unchanged while the
// ratio is within the tolerance of 1, scaling up at once and down only to
// the highest desired count of the last ScaleDownWindow. The target is,
// unless given, the highest throughput per replica seen while p95 latency
// met the SLO: the load a replica is known to carry within its objective.
func Replicas(in ReplicaInput) ReplicaRecommendation {
	out := ReplicaRecommendation{Current: in.Current, Recommended: in.Current, Samples: len(in.Throughput)}
	if in.Current < 1 || len(in.Throughput) == 0 {
		out.Skipped = "no throughput history"
		return out
	}
	tol := in.Tolerance
	if tol == 0 {
		tol = 0.1
	}
	window := in.ScaleDownWindow
	if window == 0 {
		window = 5 * time.Minute
	}
	target := in.Target
	if target <= 0 {
		lat := make(map[int64]float64, len(in.Latency))
		for _, p := range in.Latency {
			lat[p.TimestampMsec] = p.Value
		}
		for _, p := range in.Throughput {
			if l, ok := lat[p.TimestampMsec]; ok && l <= in.SLO {
				target = max(target, p.Value/float64(in.Current))
			}
		}
		if target <= 0 {
			out.Skipped = "no sample met the latency SLO: the throughput a replica sustains is unknown"
			return out
		}
	}
	out.Target = target
	replicas := in.Current
	type rec struct {
		t int64
		n int
	}
	var recent []rec
	for _, p := range in.Throughput {
		ratio := p.Value / float64(replicas) / target
		desired := replicas
		if math.Abs(ratio-1) > tol {
			// Clamped before the conversion: a ratio past 2^63 would wrap.
			desired = int(max(1, min(maxReplicas, math.Ceil(float64(replicas)*ratio))))
		}
		recent = append(recent, rec{p.TimestampMsec, desired})
		for len(recent) > 0 && recent[0].t <= p.TimestampMsec-window.Milliseconds() {
			recent = recent[1:]
		}
		next := desired
		if desired < replicas {
			for _, r := range recent {
				next = max(next, r.n)
			}
			next = min(next, replicas)
		}
		replicas = next
		out.Peak = max(out.Peak, replicas)
	}
	out.Recommended = replicas
	return out
}
