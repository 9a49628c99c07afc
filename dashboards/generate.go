package dashboards

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil/slo"
)

// Dashboard is one generated dashboard: Grafana's dashboard JSON model
// (schemaVersion 42), indented, the same bytes for the same inventory.
type Dashboard struct {
	UID    string
	Title  string
	Kind   Kind
	Folder Folder
	JSON   []byte
}

// Set is every dashboard of an inventory, with the folders they go in.
type Set struct {
	Folders    []Folder    // sorted by uid
	Dashboards []Dashboard // sorted by folder, then uid
	// Skipped says which SLOs have no dashboard and why (their SLI has no
	// PromQL form), one line each, as `vigil slo export` reports them.
	Skipped []string
}

// Generate builds the dashboards of an inventory: one per SLO whose SLI
// PromQL can read, per service, per model, the cost dashboard and Vigil
// itself. Every dashboard is checked as Check checks a file, so what it
// returns decodes strictly and validates.
func Generate(inv Inventory) (Set, error) {
	inv, teamOf, err := inv.normalized()
	if err != nil {
		return Set{}, fmt.Errorf("cannot generate dashboards: %w", err)
	}
	specs, skipped, err := sloSpecs(inv.SLOs, teamOf)
	if err != nil {
		return Set{}, err
	}
	for _, svc := range inv.Services {
		specs = append(specs, serviceDashboard(svc, folderOf(teamOf, svc)))
	}
	for _, m := range inv.Models {
		specs = append(specs, modelDashboard(m))
	}
	specs = append(specs, costDashboard(inv.Teams, len(inv.Budgets) > 0), selfDashboard())
	set, err := buildSet(specs)
	set.Skipped = skipped
	return set, err
}

// folderOf is the folder of a service's dashboards: its team's, or Vigil's.
func folderOf(teamOf map[string]string, service string) Folder {
	if team, ok := teamOf[service]; ok {
		return TeamFolder(team)
	}
	return VigilFolder
}

// sloSpecs are the dashboards of the SLOs whose SLI PromQL can read, and
// why each other has none.
func sloSpecs(slos []*slo.SLO, teamOf map[string]string) ([]spec, []string, error) {
	var specs []spec
	var skipped []string
	for _, s := range slos {
		sp, err := sloDashboard(s, folderOf(teamOf, sloService(s)))
		var skip errSkipped
		if errors.As(err, &skip) {
			skipped = append(skipped, fmt.Sprintf("%s (%s): %s", s.Name, s.File, skip.reason))
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		specs = append(specs, sp)
	}
	return specs, skipped, nil
}

// buildSet builds and checks the dashboards, refusing two with one uid.
func buildSet(specs []spec) (Set, error) {
	var set Set
	seen := map[string]string{}
	folders := map[string]Folder{}
	for _, sp := range specs {
		if other, ok := seen[sp.uid]; ok {
			return Set{}, fmt.Errorf("cannot generate dashboards: %q and %q would share the uid %s", other, sp.title, sp.uid)
		}
		seen[sp.uid] = sp.title
		d, err := sp.build()
		if err != nil {
			return Set{}, fmt.Errorf("cannot build dashboard %s: %w", sp.uid, err)
		}
		raw, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return Set{}, fmt.Errorf("cannot encode dashboard %s: %w", sp.uid, err)
		}
		raw = append(raw, '\n')
		if _, err := Check(raw); err != nil {
			return Set{}, fmt.Errorf("generated dashboard %s does not check: %w", sp.uid, err)
		}
		folders[sp.folder.UID] = sp.folder
		set.Dashboards = append(set.Dashboards, Dashboard{UID: sp.uid, Title: sp.title, Kind: sp.kind, Folder: sp.folder, JSON: raw})
	}
	for _, f := range folders {
		set.Folders = append(set.Folders, f)
	}
	slices.SortFunc(set.Folders, func(a, b Folder) int { return strings.Compare(a.UID, b.UID) })
	slices.SortFunc(set.Dashboards, func(a, b Dashboard) int {
		return strings.Compare(a.Folder.UID+"/"+a.UID, b.Folder.UID+"/"+b.UID)
	})
	return set, nil
}

// sloService is the service an SLO's dashboard is filed under.
func sloService(s *slo.SLO) string {
	if svc := s.TelemetryService(); svc != "" {
		return svc
	}
	return s.Service
}
