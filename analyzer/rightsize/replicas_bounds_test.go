package rightsize

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A target so small the ratio passes 2^63 is clamped, not wrapped to 1; a
// window over a week, or a target below the minimum, is refused before
// anything is read.
func TestReplicaBounds(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var rps []Point
	for m := 0; m < 10; m++ {
		rps = append(rps, Point{TimestampMsec: t0.Add(time.Duration(m) * time.Minute).UnixMilli(), Value: 50})
	}
	if got := Replicas(ReplicaInput{Current: 3, Throughput: rps, Target: 1e-300}); got.Recommended != maxReplicas {
		t.Errorf("tiny target: %d replicas, want the clamp %d", got.Recommended, int(maxReplicas))
	}
	r := &ReplicaRecommender{}
	for _, q := range []ReplicaQuery{
		{Service: "chat", Target: 1, Start: t0.Add(-8 * 24 * time.Hour), End: t0},
		{Service: "chat", Target: 1e-9, Start: t0.Add(-time.Hour), End: t0},
	} {
		if _, err := r.Recommend(context.Background(), q); !errors.Is(err, ErrBadReplicaQuery) {
			t.Errorf("%+v: %v", q, err)
		}
	}
}
