package dashboards

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store"
)

// Inventory is what the dashboards are generated from.
type Inventory struct {
	SLOs     []*slo.SLO
	Services []string // each gets a service dashboard (the SLOs' services are added)
	Models   []string // each gets a model dashboard
	// Teams maps a team to the services it owns: each team gets a folder
	// holding its services' and SLOs' dashboards, and a row in the cost
	// dashboard. Services of no team go to the Vigil folder.
	Teams map[string][]string
	// Budgets are the names of the config directory's budgets: with any,
	// the cost dashboard has a row of their spend against their limits.
	Budgets []string
}

// Kind is a kind of dashboard; it is part of the uid.
type Kind string

// The kinds of dashboard.
const (
	KindSLO     Kind = "slo"
	KindService Kind = "service"
	KindModel   Kind = "model"
	KindCost    Kind = "cost"
	KindSelf    Kind = "self"
)

// Folder is a Grafana folder with a fixed uid.
type Folder struct {
	UID   string
	Title string
}

// VigilFolder holds the dashboards of no team: cost, Vigil itself, the
// models, and services no team owns.
var VigilFolder = Folder{UID: "vigil", Title: "Vigil"}

// TeamFolder is a team's folder.
func TeamFolder(team string) Folder {
	return Folder{UID: UID("team", team), Title: "Vigil · " + team}
}

// maxUID is Grafana's limit on a dashboard or folder uid.
const maxUID = 40

var uidUnsafe = regexp.MustCompile(`[^a-zA-Z0-9_-]+`)

// UID is the stable uid of a dashboard or folder: vigil-<kind>-<name>.
// A name that does not fit Grafana's uid alphabet or its 40 characters is
// shortened and suffixed with 8 hex digits of its hash, so two names that
// would shorten alike keep different uids.
func UID(kind Kind, name string) string {
	base := "vigil-" + string(kind)
	if name == "" {
		return base
	}
	clean := uidUnsafe.ReplaceAllString(name, "-")
	uid := base + "-" + clean
	if clean == name && len(uid) <= maxUID {
		return uid
	}
	sum := sha256.Sum256([]byte(name))
	suffix := "-" + hex.EncodeToString(sum[:4])
	if len(uid) > maxUID-len(suffix) {
		uid = strings.TrimRight(uid[:maxUID-len(suffix)], "-")
	}
	return uid + suffix
}

// sloUID names an SLO's dashboard; an SLO of a tenant other than the
// default one has its tenant in the uid, since names are per tenant.
func sloUID(s *slo.SLO) string {
	if s.Tenant == "" || s.Tenant == store.DefaultTenant {
		return UID(KindSLO, s.Name)
	}
	return UID(KindSLO, s.Tenant+"-"+s.Name)
}

// normalized is the inventory sorted and deduplicated, with the SLOs'
// services among the services, and a check that no service has two teams.
func (inv Inventory) normalized() (Inventory, map[string]string, error) {
	out := Inventory{Teams: map[string][]string{}}
	out.SLOs = slices.Clone(inv.SLOs)
	slices.SortFunc(out.SLOs, func(a, b *slo.SLO) int {
		return strings.Compare(a.Tenant+"\x00"+a.Name, b.Tenant+"\x00"+b.Name)
	})
	services := slices.Clone(inv.Services)
	for _, s := range out.SLOs {
		if svc := s.TelemetryService(); svc != "" {
			services = append(services, svc)
		}
	}
	out.Services = sortedUnique(services)
	out.Models = sortedUnique(inv.Models)
	out.Budgets = sortedUnique(inv.Budgets)
	teamOf := map[string]string{}
	for team, svcs := range inv.Teams {
		if team == "" {
			return out, nil, fmt.Errorf("a team has no name")
		}
		out.Teams[team] = sortedUnique(svcs)
		for _, s := range svcs {
			if other, ok := teamOf[s]; ok && other != team {
				a, b := min(other, team), max(other, team)
				return out, nil, fmt.Errorf("service %q belongs to two teams, %q and %q", s, a, b)
			}
			teamOf[s] = team
		}
	}
	for _, s := range out.Services {
		if s == "" {
			return out, nil, fmt.Errorf("a service has no name")
		}
	}
	for _, m := range out.Models {
		if m == "" {
			return out, nil, fmt.Errorf("a model has no name")
		}
	}
	return out, teamOf, nil
}

func sortedUnique(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}
