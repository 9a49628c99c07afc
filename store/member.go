package store

import (
	"context"
	"time"
)

// Members is how the replicas of a role (the analyzers) know each other:
// each announces itself every tick, and the live ones are those seen
// lately. It is not a lock: the store has no compare-and-set on
// ClickHouse, so two replicas may briefly disagree while one joins or
// leaves. Work shared through it must stay correct when done twice (every
// finding, alert and rollup has a deterministic identity); sharing only
// avoids doing it twice.
type Members interface {
	// Heartbeat records that member of group is alive at at.
	Heartbeat(ctx context.Context, group, member string, at time.Time) error
	// LiveMembers lists the members of group seen at or after since,
	// sorted.
	LiveMembers(ctx context.Context, group string, since time.Time) ([]string, error)
}
