package dashboards

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// Grafana is what Push needs of a Grafana: to read a folder, data source
// or dashboard by uid, and to write one. The interfaces are Vigil's own so
// that Grafana's newer /apis/dashboard.grafana.app API can stand in for the
// legacy /api one (HTTPAPI) without Push changing.
//
// A getter returns found false and no error when the uid is unknown. A
// writer's error wraps one of the Err* values below (with Grafana's
// message) when Grafana refused for that reason, or a *StatusError, so
// Push can tell the user what to do. No error may contain the token.
type Grafana interface {
	FolderStore
	DataSourceStore
	DashboardStore
}

// FolderStore holds folders by uid.
type FolderStore interface {
	Folder(ctx context.Context, uid string) (f RemoteFolder, found bool, err error)
	CreateFolder(ctx context.Context, f Folder) error
	// UpdateFolder renames a folder; version is the one last read, and
	// overwrite ignores it.
	UpdateFolder(ctx context.Context, f Folder, version int64, overwrite bool) error
}

// DataSourceStore holds data sources by uid.
type DataSourceStore interface {
	DataSource(ctx context.Context, uid string) (d RemoteDataSource, found bool, err error)
	CreateDataSource(ctx context.Context, d DataSource, secure map[string]string) error
	// UpdateDataSource replaces a data source of the version last read;
	// a nil secure keeps the secrets Grafana holds.
	UpdateDataSource(ctx context.Context, d DataSource, secure map[string]string, version int64) error
}

// DashboardStore holds dashboards by uid.
type DashboardStore interface {
	Dashboard(ctx context.Context, uid string) (d RemoteDashboard, found bool, err error)
	// SaveDashboard creates a dashboard (version 0) or replaces the one
	// of that version, in d.Folder; overwrite ignores the version.
	SaveDashboard(ctx context.Context, d Dashboard, version int64, overwrite bool) error
}

// RemoteFolder is a folder as Grafana holds it.
type RemoteFolder struct {
	Title   string
	Version int64
}

// RemoteDataSource is a data source as Grafana holds it; Secure names the
// secrets it holds, never their values.
type RemoteDataSource struct {
	DataSource
	Access  string
	Secure  map[string]bool
	Version int64
}

// RemoteDashboard is a dashboard as Grafana holds it.
type RemoteDashboard struct {
	JSON        []byte
	FolderUID   string
	Version     int64
	Provisioned bool
}

// Errors a Grafana returns, each wrapped with Grafana's own message.
var (
	// ErrUnauthorized: Grafana did not accept the token (401).
	ErrUnauthorized = errors.New("Grafana refused the token (401): give a valid service-account token with --grafana-token-file or GRAFANA_TOKEN")
	// ErrForbidden: the token's service account may not do this (403).
	ErrForbidden = errors.New("the service account may not do this (403): it needs the Editor role for folders and dashboards and Admin for data sources")
	// ErrVersionConflict: the object changed in Grafana since it was
	// read, or another of that name exists (412).
	ErrVersionConflict = errors.New("changed in Grafana since it was read, or another has its name (412): re-run push, or use --force to overwrite")
	// ErrProvisioned: the dashboard comes from Grafana's file
	// provisioning and cannot be saved through the API (400).
	ErrProvisioned = errors.New("provisioned from files in Grafana, so not overwritten: change the files, or remove the provisioning to manage it with push")
	// ErrRefused is Push's error when it went through every object and
	// Grafana refused some (each Change says why).
	ErrRefused = errors.New("Grafana refused some objects")
)

// Action is what a push does, or would do, to one object.
type Action string

// The actions of a push.
const (
	Create    Action = "create"
	Update    Action = "update"
	Unchanged Action = "unchanged"
	Refused   Action = "refused" // Grafana refused the write; see Change.Err
)

// Change is one object's outcome.
type Change struct {
	Kind   string // folder, datasource or dashboard
	UID    string
	Title  string
	Action Action
	Err    error // set when Action is Refused
}

// PushOptions say how to push.
type PushOptions struct {
	DryRun bool // read only, report what would change
	Force  bool // overwrite objects changed in Grafana since they were read
	// DataSources are written as well when given (see DataSources).
	DataSources []DataSource
	// Secure are the data sources' secrets (the Authorization header's
	// value). Grafana never shows a secret back, so they are sent when a
	// data source is created, when Grafana holds none, or with Force.
	Secure map[string]string
}

// Push makes Grafana hold the set's folders, the data sources and the
// dashboards: each is read by uid first, created when missing, updated
// when it differs, and left alone (no new version) when it is the same.
// An object Grafana refuses (a version conflict, a provisioned dashboard)
// is reported in its Change and the push goes on; a refused token
// (ErrUnauthorized, ErrForbidden) or an unreachable Grafana ends it.
// The error wraps ErrRefused when anything was refused.
func Push(ctx context.Context, g Grafana, set Set, o PushOptions) ([]Change, error) {
	var changes []Change
	refused := 0
	record := func(c Change, err error) error {
		if err != nil {
			if errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrForbidden) || !isRefusal(err) {
				return fmt.Errorf("cannot push %s %s: %w", c.Kind, c.UID, err)
			}
			c.Action, c.Err = Refused, err
			refused++
		}
		changes = append(changes, c)
		return nil
	}
	for _, f := range set.Folders {
		c, err := pushFolder(ctx, g, f, o)
		if err := record(c, err); err != nil {
			return changes, err
		}
	}
	for _, d := range o.DataSources {
		c, err := pushDataSource(ctx, g, d, o)
		if err := record(c, err); err != nil {
			return changes, err
		}
	}
	for _, d := range set.Dashboards {
		c, err := pushDashboard(ctx, g, d, o)
		if err := record(c, err); err != nil {
			return changes, err
		}
	}
	if refused > 0 {
		return changes, fmt.Errorf("%w: %d of %d", ErrRefused, refused, len(changes))
	}
	return changes, nil
}

// isRefusal says whether Grafana refused one object for a reason of its
// own, as opposed to failing for every object.
func isRefusal(err error) bool {
	return errors.Is(err, ErrVersionConflict) || errors.Is(err, ErrProvisioned) || errors.As(err, new(*StatusError))
}

// StatusError is any other status Grafana answered a write with.
type StatusError struct {
	Code    int
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("Grafana answered %d: %s", e.Code, e.Message)
}

func pushFolder(ctx context.Context, g FolderStore, f Folder, o PushOptions) (Change, error) {
	c := Change{Kind: "folder", UID: f.UID, Title: f.Title}
	have, found, err := g.Folder(ctx, f.UID)
	switch {
	case err != nil:
		return c, err
	case !found:
		c.Action = Create
		if !o.DryRun {
			err = g.CreateFolder(ctx, f)
		}
	case have.Title == f.Title:
		c.Action = Unchanged
	default:
		c.Action = Update
		if !o.DryRun {
			err = g.UpdateFolder(ctx, f, have.Version, o.Force)
		}
	}
	return c, err
}

func pushDataSource(ctx context.Context, g DataSourceStore, d DataSource, o PushOptions) (Change, error) {
	c := Change{Kind: "datasource", UID: d.UID, Title: d.Name}
	have, found, err := g.DataSource(ctx, d.UID)
	if err != nil {
		return c, err
	}
	if !found {
		c.Action = Create
		if !o.DryRun {
			err = g.CreateDataSource(ctx, d, o.Secure)
		}
		return c, err
	}
	// Grafana shows which secrets it holds, never their values: send
	// ours only where it holds none, or when told to.
	var secure map[string]string
	for k := range o.Secure {
		if !have.Secure[k] || o.Force {
			secure = o.Secure
		}
	}
	if secure == nil && sameDataSource(have, d) {
		c.Action = Unchanged
		return c, nil
	}
	c.Action = Update
	if !o.DryRun {
		err = g.UpdateDataSource(ctx, d, secure, have.Version)
	}
	return c, err
}

// sameDataSource compares what Vigil sets; jsonData is compared as JSON
// so that numbers and nesting read back from Grafana compare equal.
func sameDataSource(have RemoteDataSource, want DataSource) bool {
	if have.Name != want.Name || have.Type != want.Type || have.URL != want.URL || (have.Access != "" && have.Access != "proxy") {
		return false
	}
	a, errA := canonical(have.JSONData)
	b, errB := canonical(want.JSONData)
	return errA == nil && errB == nil && reflect.DeepEqual(a, b)
}

func pushDashboard(ctx context.Context, g DashboardStore, d Dashboard, o PushOptions) (Change, error) {
	c := Change{Kind: "dashboard", UID: d.UID, Title: d.Title}
	have, found, err := g.Dashboard(ctx, d.UID)
	if err != nil {
		return c, err
	}
	if !found {
		c.Action = Create
		if !o.DryRun {
			err = g.SaveDashboard(ctx, d, 0, o.Force)
		}
		return c, err
	}
	same, err := sameDashboard(have.JSON, d.JSON)
	if err != nil {
		return c, fmt.Errorf("cannot read dashboard %s from Grafana: %w", d.UID, err)
	}
	if same && have.FolderUID == d.Folder.UID {
		c.Action = Unchanged
		return c, nil
	}
	// Saving a provisioned dashboard is refused by Grafana with a 400;
	// knowing it from the read saves the attempt and says why.
	if have.Provisioned {
		return c, ErrProvisioned
	}
	c.Action = Update
	if !o.DryRun {
		err = g.SaveDashboard(ctx, d, have.Version, o.Force)
	}
	return c, err
}

// sameDashboard compares a dashboard read from Grafana with a generated
// one, leaving out what Grafana assigns on save (id, version).
func sameDashboard(have, want []byte) (bool, error) {
	var a, b map[string]any
	if err := json.Unmarshal(have, &a); err != nil {
		return false, err
	}
	if err := json.Unmarshal(want, &b); err != nil {
		return false, err
	}
	for _, m := range []map[string]any{a, b} {
		delete(m, "id")
		delete(m, "version")
	}
	return reflect.DeepEqual(a, b), nil
}

// canonical is v as encoding/json would read it back, so values built in
// Go and values decoded from Grafana compare alike.
func canonical(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(raw, &out)
	return out, err
}
