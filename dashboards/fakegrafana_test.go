package dashboards

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/grafana/grafana-openapi-client-go/models"
)

// fakeGrafana answers the part of Grafana's /api that HTTPAPI uses, as
// Grafana does: it decodes every request body with the client's own
// model types (so a body the real API would not read fails the test),
// keeps a version per object, refuses a stale version with 412 unless
// overwrite is set, and a save of a provisioned dashboard with 400.
type fakeGrafana struct {
	t     *testing.T
	token string
	// forbid answers every request with 403 (a token without the role).
	forbid bool
	// bumpAfterRead saves a dashboard "from the UI" between Push's read
	// and its write, so the write carries a stale version.
	bumpAfterRead bool
	// hideProvisioned leaves meta.provisioned out of a read, as if Push
	// could not know, so only the save's 400 tells.
	hideProvisioned bool

	mu          sync.Mutex // guards what follows
	folders     map[string]*models.Folder
	sources     map[string]*models.DataSource
	secure      map[string]map[string]string // data source uid → secrets as sent
	dashes      map[string]map[string]any    // uid → dashboard JSON, with id and version
	dashFolder  map[string]string
	provisioned map[string]bool
	writes      []string // "METHOD path" of every write
	saves       []models.SaveDashboardCommand
}

func newFakeGrafana(t *testing.T, token string) (*fakeGrafana, *httptest.Server) {
	f := &fakeGrafana{
		t: t, token: token,
		folders: map[string]*models.Folder{}, sources: map[string]*models.DataSource{},
		secure: map[string]map[string]string{}, dashes: map[string]map[string]any{},
		dashFolder: map[string]string{}, provisioned: map[string]bool{},
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeGrafana) writeCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.writes)
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func message(code int, w http.ResponseWriter, msg, status string) {
	reply(w, code, map[string]any{"message": msg, "status": status})
}

func (f *fakeGrafana) decode(r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		f.t.Errorf("%s %s: body does not decode as %T: %v", r.Method, r.URL.Path, v, err)
		return false
	}
	return true
}

func (f *fakeGrafana) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		message(http.StatusUnauthorized, w, "invalid API key", "")
		return
	}
	if f.forbid {
		message(http.StatusForbidden, w, "You'll need additional permissions to perform this action.", "")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p := r.URL.Path
	if r.Method != http.MethodGet {
		f.writes = append(f.writes, r.Method+" "+p)
	}
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/api/folders/"):
		if fo, ok := f.folders[strings.TrimPrefix(p, "/api/folders/")]; ok {
			reply(w, 200, fo)
			return
		}
		message(404, w, "folder not found", "not-found")
	case r.Method == http.MethodPost && p == "/api/folders":
		var c models.CreateFolderCommand
		if !f.decode(r, &c) {
			message(400, w, "bad request", "")
			return
		}
		if _, ok := f.folders[c.UID]; ok {
			message(409, w, "a folder with the same uid already exists", "")
			return
		}
		f.folders[c.UID] = &models.Folder{UID: c.UID, Title: c.Title, Version: 1}
		reply(w, 200, f.folders[c.UID])
	case r.Method == http.MethodPut && strings.HasPrefix(p, "/api/folders/"):
		var c models.UpdateFolderCommand
		if !f.decode(r, &c) {
			message(400, w, "bad request", "")
			return
		}
		fo, ok := f.folders[strings.TrimPrefix(p, "/api/folders/")]
		if !ok {
			message(404, w, "folder not found", "not-found")
			return
		}
		if c.Version != fo.Version && !c.Overwrite {
			message(412, w, "the folder has been changed by someone else", "version-mismatch")
			return
		}
		fo.Title, fo.Version = c.Title, fo.Version+1
		reply(w, 200, fo)
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/api/datasources/uid/"):
		if ds, ok := f.sources[strings.TrimPrefix(p, "/api/datasources/uid/")]; ok {
			reply(w, 200, ds)
			return
		}
		message(404, w, "Data source not found", "")
	case r.Method == http.MethodPost && p == "/api/datasources":
		var c models.AddDataSourceCommand
		if !f.decode(r, &c) {
			message(400, w, "bad request", "")
			return
		}
		f.sources[c.UID] = &models.DataSource{UID: c.UID, Name: c.Name, Type: c.Type, URL: c.URL, Access: c.Access, JSONData: c.JSONData, Version: 1, SecureJSONFields: fields(c.SecureJSONData)}
		f.secure[c.UID] = c.SecureJSONData
		reply(w, 200, map[string]any{"id": 1, "message": "Datasource added", "name": c.Name})
	case r.Method == http.MethodPut && strings.HasPrefix(p, "/api/datasources/uid/"):
		var c models.UpdateDataSourceCommand
		if !f.decode(r, &c) {
			message(400, w, "bad request", "")
			return
		}
		ds, ok := f.sources[strings.TrimPrefix(p, "/api/datasources/uid/")]
		if !ok {
			message(404, w, "Data source not found", "")
			return
		}
		if c.Version != 0 && c.Version != ds.Version {
			message(409, w, "Datasource has already been updated by someone else. Please reload and try again", "")
			return
		}
		*ds = models.DataSource{UID: ds.UID, Name: c.Name, Type: c.Type, URL: c.URL, Access: c.Access, JSONData: c.JSONData, Version: ds.Version + 1, SecureJSONFields: ds.SecureJSONFields}
		if c.SecureJSONData != nil { // Grafana keeps the secrets it has when none are sent
			ds.SecureJSONFields, f.secure[ds.UID] = fields(c.SecureJSONData), c.SecureJSONData
		}
		reply(w, 200, map[string]any{"id": 1, "message": "Datasource updated", "name": c.Name})
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/api/dashboards/uid/"):
		uid := strings.TrimPrefix(p, "/api/dashboards/uid/")
		d, ok := f.dashes[uid]
		if !ok {
			message(404, w, "Dashboard not found", "not-found")
			return
		}
		v, _ := d["version"].(int64)
		meta := &models.DashboardMeta{FolderUID: f.dashFolder[uid], Version: v, Provisioned: f.provisioned[uid] && !f.hideProvisioned}
		reply(w, 200, models.DashboardFullWithMeta{Dashboard: d, Meta: meta})
		if f.bumpAfterRead {
			d["version"] = v + 1
		}
	case r.Method == http.MethodPost && p == "/api/dashboards/db":
		var c models.SaveDashboardCommand
		if !f.decode(r, &c) {
			message(400, w, "bad request", "")
			return
		}
		f.saves = append(f.saves, c)
		sent, _ := c.Dashboard.(map[string]any)
		d := maps.Clone(sent) // saves keeps what was sent
		uid, _ := d["uid"].(string)
		old, exists := f.dashes[uid]
		if f.provisioned[uid] {
			message(400, w, "Cannot save provisioned dashboard", "")
			return
		}
		var version int64
		if exists {
			version = old["version"].(int64)
			sent, _ := d["version"].(float64)
			if int64(sent) != version && !c.Overwrite {
				message(412, w, "The dashboard has been changed by someone else", "version-mismatch")
				return
			}
		}
		version++
		d["id"], d["version"] = int64(7), version
		f.dashes[uid], f.dashFolder[uid] = d, c.FolderUID
		reply(w, 200, map[string]any{"id": 7, "uid": uid, "status": "success", "title": d["title"], "url": "/d/" + uid, "version": version})
	default:
		f.t.Errorf("unexpected request %s %s", r.Method, p)
		message(404, w, "not found", "")
	}
}

func fields(secure map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range secure {
		out[k] = true
	}
	return out
}
