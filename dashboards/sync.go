package dashboards

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/dispatch"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
)

// Keeping Grafana in step with the SLO files: Sync, an analyzer job,
// notices at each tick that a reload of the config directory changed an
// SLO's dashboard and records the change as an event; the dispatcher
// hands it to Pusher, which pushes that dashboard as `vigil dashboards
// push` would, so retries, the delivery log and the delivery metrics
// (vigil_dispatch_attempts_total{subscriber="grafana"}) are the
// dispatcher's.

// SLODashboardChange is an SLO's dashboard changed by a reload of the
// config directory: the record of dashboards.slo_changed events.
type SLODashboardChange struct {
	SLO    string `json:"slo"`
	UID    string `json:"uid"`
	Digest string `json:"digest"` // SHA-256 of the dashboard's JSON, hex
}

// SLODashboardChanges is the codec of SLO dashboard changes.
var SLODashboardChanges = store.Codec[SLODashboardChange]{Kind: store.KindConfig, Type: "dashboards.slo_changed", Version: 1}

// Publisher hands events that must leave the job to the dispatcher.
type Publisher interface {
	Publish(events ...store.Event)
}

// generatedSLO is one SLO's generated dashboard.
type generatedSLO struct {
	slo *slo.SLO
	Dashboard
	digest string
}

// sloDashboards generates the dashboards of the SLOs alone, filed in
// their teams' folders as a push with the same teams files them, the
// same bytes as Generate's.
func sloDashboards(slos []*slo.SLO, teams map[string][]string) (map[string]generatedSLO, error) {
	inv, teamOf, err := Inventory{SLOs: slos, Teams: teams}.normalized()
	if err != nil {
		return nil, fmt.Errorf("cannot generate dashboards: %w", err)
	}
	specs, _, err := sloSpecs(inv.SLOs, teamOf)
	if err != nil {
		return nil, err
	}
	set, err := buildSet(specs)
	if err != nil {
		return nil, err
	}
	byUID := map[string]*slo.SLO{}
	for _, s := range slos {
		byUID[sloUID(s)] = s
	}
	out := map[string]generatedSLO{}
	for _, d := range set.Dashboards {
		if d.Kind != KindSLO {
			continue
		}
		sum := sha256.Sum256(d.JSON)
		out[d.UID] = generatedSLO{slo: byUID[d.UID], Dashboard: d, digest: hex.EncodeToString(sum[:])}
	}
	return out, nil
}

// Sync records, at each tick, the SLO dashboards that differ from those
// of the tick before: an SLO added or changed by a reload. The first
// tick records none (it is the baseline: `vigil dashboards push` puts a
// whole set in Grafana), nor do SLOs removed (their dashboards are left
// in Grafana, for a person to remove). With several analyzer replicas,
// each records the dashboards it owns.
type Sync struct {
	Store     store.EventWriter
	Publisher Publisher
	// Current returns the SLOs in force, read at every tick.
	Current func() []*slo.SLO
	// Teams file SLO dashboards in team folders, as push's --team does.
	Teams map[string][]string
	// Owns, when set, says whether this replica records a dashboard's
	// change (analyzer.Owns).
	Owns func(ctx context.Context, key string) bool

	// The scheduler runs a job's ticks one at a time, so these need no lock.
	last map[string]string // uid → digest at the last tick; nil before the first
	seen []*slo.SLO        // the SLOs last generated from, when read is set
	read bool
}

// Name implements the analyzer's Job.
func (s *Sync) Name() string { return "grafana" }

// Run implements the analyzer's Job.
func (s *Sync) Run(ctx context.Context, tick time.Time) error {
	current := s.Current()
	// A reading of the config directory holds its SLOs until the next
	// reload, which makes new ones: the same SLOs as at the last tick
	// cannot have changed, and generating (and checking) every dashboard
	// at every tick would cost the analyzer far more than comparing
	// pointers (BENCHMARKS.md).
	if s.read && slices.Equal(current, s.seen) {
		return nil
	}
	now, err := sloDashboards(current, s.Teams)
	if err != nil {
		// The same SLOs give the same error: tried again after the next
		// reload, not at every tick.
		s.seen, s.read = current, true
		return err
	}
	digests := make(map[string]string, len(now))
	for uid, d := range now {
		digests[uid] = d.digest
	}
	if s.last == nil {
		s.last, s.seen, s.read = digests, current, true
		return nil
	}
	var events []store.Event
	for _, uid := range slices.Sorted(maps.Keys(now)) {
		d := now[uid]
		if s.last[uid] == d.digest || (s.Owns != nil && !s.Owns(ctx, "grafana/"+uid)) {
			continue
		}
		tenant := tenantOf(d.slo)
		ev, err := SLODashboardChanges.Event(store.Event{
			Tenant: tenant, ID: store.EventID(store.KindConfig, tenant, "grafana-dashboard", uid, d.digest),
			Subject: d.slo.Name, Severity: "info", Time: tick,
			Summary: fmt.Sprintf("the dashboard of SLO %s (%s) changed; it is pushed to Grafana", d.slo.Name, uid),
		}, SLODashboardChange{SLO: d.slo.Name, UID: uid, Digest: d.digest})
		if err != nil {
			return err
		}
		events = append(events, ev)
	}
	if len(events) > 0 {
		// Written before the baseline moves, so a failed write is tried
		// again at the next tick.
		if err := s.Store.WriteEvents(ctx, events); err != nil {
			return fmt.Errorf("cannot record changed SLO dashboards: %w", err)
		}
		if s.Publisher != nil {
			s.Publisher.Publish(events...)
		}
	}
	s.last, s.seen, s.read = digests, current, true
	return nil
}

// Pusher is the dispatcher's subscriber that pushes changed SLO
// dashboards (and their folders) to a Grafana. It pushes each dashboard
// as the SLOs in force generate it at delivery, so a batch of changes to
// one SLO is one push of its newest dashboard, and a dashboard Grafana
// already holds is left alone. Data sources are `vigil dashboards
// push`'s to write: they carry a token this process does not hold.
type Pusher struct {
	Grafana Grafana
	// Target is Grafana's address for the delivery log, without
	// credentials.
	Target  string
	Current func() []*slo.SLO
	Teams   map[string][]string
}

// Name implements dispatch.Subscriber.
func (p *Pusher) Name() string { return "grafana" }

// Types implements dispatch.Subscriber.
func (p *Pusher) Types() []string { return []string{SLODashboardChanges.Type} }

// Accepts implements dispatch.Subscriber: every change is work.
func (p *Pusher) Accepts(store.Event) bool { return true }

// Deliver implements dispatch.Subscriber. A refused token, a dashboard
// Grafana provisions from files, or any refusal other than a version
// conflict gives the batch up (a retry would meet the same answer); an
// unreachable Grafana, or a dashboard saved in Grafana between the read
// and the write (412), is retried.
func (p *Pusher) Deliver(ctx context.Context, tenant string, events []store.Event) (dispatch.Report, error) {
	report := dispatch.Report{Target: p.Target}
	wanted := map[string]string{} // uid → SLO
	for _, ev := range events {
		c, err := SLODashboardChanges.Decode(ev)
		if err != nil {
			return report, dispatch.Permanent(err)
		}
		wanted[c.UID] = c.SLO
	}
	now, err := sloDashboards(p.Current(), p.Teams)
	if err != nil {
		return report, dispatch.Permanent(err)
	}
	var set Set
	var gone []string
	folders := map[string]Folder{}
	for _, uid := range slices.Sorted(maps.Keys(wanted)) {
		d, ok := now[uid]
		if !ok || tenantOf(d.slo) != tenant {
			gone = append(gone, wanted[uid])
			continue
		}
		set.Dashboards = append(set.Dashboards, d.Dashboard)
		folders[d.Folder.UID] = d.Folder
	}
	for _, uid := range slices.Sorted(maps.Keys(folders)) {
		set.Folders = append(set.Folders, folders[uid])
	}
	var notes []string
	if len(gone) > 0 {
		notes = append(notes, "no longer defined, not pushed: "+strings.Join(gone, ", "))
	}
	if len(set.Dashboards) == 0 {
		report.Skipped, report.Note = true, strings.Join(notes, "; ")
		return report, nil
	}
	changes, err := Push(ctx, p.Grafana, set, PushOptions{})
	count := map[Action]int{}
	retry := false
	for _, c := range changes {
		count[c.Action]++
		if c.Kind == "dashboard" && c.Err == nil {
			report.Keys = append(report.Keys, c.UID)
		}
		if c.Err != nil {
			notes = append(notes, fmt.Sprintf("%s %s: %v", c.Kind, c.UID, c.Err))
			retry = retry || errors.Is(c.Err, ErrVersionConflict)
		}
	}
	notes = append([]string{fmt.Sprintf("%d created, %d updated, %d unchanged, %d refused",
		count[Create], count[Update], count[Unchanged], count[Refused])}, notes...)
	report.Note = strings.Join(notes, "; ")
	switch {
	case err == nil:
		return report, nil
	case errors.Is(err, ErrRefused) && !retry, errors.Is(err, ErrUnauthorized), errors.Is(err, ErrForbidden):
		return report, dispatch.Permanent(err)
	}
	return report, err
}

func tenantOf(s *slo.SLO) string {
	if s.Tenant == "" {
		return store.DefaultTenant
	}
	return s.Tenant
}
