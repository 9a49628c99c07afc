package analyzer

import (
	"context"
	"slices"
	"time"
)

// recoveryKey is the work of taking up undelivered events, owned like a
// monitor by one replica.
const recoveryKey = "dispatch/recover"

// Recovery takes up what was published and never delivered. The
// dispatcher's queues live in memory, so what a stopped analyzer had
// queued is found again only in the store (dispatch.Dispatcher.Recover).
// Replicas share that store: each taking it up as it starts would deliver
// it once per replica, and after a restart of all of them every receiver
// got every undelivered alert twice. So one replica, the owner of
// recoveryKey, takes it up once its view of the replicas has settled, and
// again whenever the replicas change, since a replica gone leaves its
// queue behind and a replica restarted left its own.
//
// What a live replica still holds in its queue when the replicas change
// (a receiver it keeps retrying) is taken up too and may then be
// delivered twice: delivery is at least once.
type Recovery struct {
	Recover func(context.Context) error

	done    bool
	members []string // the replicas seen at the last recovery
}

func (r *Recovery) Name() string { return "dispatch-recovery" }

// Run recovers when this replica acts on recoveryKey with a view of the
// replicas it has not recovered for yet. A failed recovery is tried
// again at the next tick.
func (r *Recovery) Run(ctx context.Context, tick time.Time) error {
	o, _ := ctx.Value(ownerKey{}).(ownership)
	if !o.acts(recoveryKey) || (r.done && slices.Equal(r.members, o.members)) {
		return nil
	}
	if err := r.Recover(ctx); err != nil {
		return err
	}
	r.done, r.members = true, o.members
	return nil
}
