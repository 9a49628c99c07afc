package dashboards

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-openapi/runtime"
	"github.com/go-openapi/strfmt"
	goapi "github.com/grafana/grafana-openapi-client-go/client"
	gdashboards "github.com/grafana/grafana-openapi-client-go/client/dashboards"
	"github.com/grafana/grafana-openapi-client-go/client/datasources"
	"github.com/grafana/grafana-openapi-client-go/client/folders"
	"github.com/grafana/grafana-openapi-client-go/models"
)

// HTTPAPI is a Grafana reached through its HTTP API under /api (folders,
// data sources, and dashboards by uid), with grafana-openapi-client-go.
type HTTPAPI struct {
	c *goapi.GrafanaHTTPAPI
}

// NewHTTPAPI is the Grafana at baseURL (http(s)://host[:port][/path]),
// authenticating with a service-account token. A nil client is the
// Grafana client's own (no retries: a push is re-run, not retried).
func NewHTTPAPI(baseURL, token string, client *http.Client) (*HTTPAPI, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("cannot use %q as Grafana's URL: want http(s)://host[:port][/path]", baseURL)
	}
	if u.User != nil {
		return nil, errors.New("cannot use Grafana's URL with credentials in it; give the token separately")
	}
	if token == "" {
		return nil, errors.New("no Grafana token: give a service-account token with --grafana-token-file or GRAFANA_TOKEN")
	}
	cfg := &goapi.TransportConfig{
		Host:     u.Host,
		BasePath: strings.TrimRight(u.Path, "/") + "/api",
		Schemes:  []string{u.Scheme},
		APIKey:   token,
		Client:   client,
		// Debug stays off: it would log requests, token included.
	}
	return &HTTPAPI{c: goapi.NewHTTPClientWithConfig(strfmt.Default, cfg)}, nil
}

var _ Grafana = (*HTTPAPI)(nil)

// Folder implements Grafana.
func (a *HTTPAPI) Folder(ctx context.Context, uid string) (RemoteFolder, bool, error) {
	ok, err := a.c.Folders.GetFolderByUIDWithParams(folders.NewGetFolderByUIDParamsWithContext(ctx).WithFolderUID(uid))
	if isNotFound(err) {
		return RemoteFolder{}, false, nil
	}
	if err != nil {
		return RemoteFolder{}, false, grafanaError("read folder", err)
	}
	return RemoteFolder{Title: ok.Payload.Title, Version: ok.Payload.Version}, true, nil
}

// CreateFolder implements Grafana.
func (a *HTTPAPI) CreateFolder(ctx context.Context, f Folder) error {
	_, err := a.c.Folders.CreateFolderWithParams(folders.NewCreateFolderParamsWithContext(ctx).
		WithBody(&models.CreateFolderCommand{UID: f.UID, Title: f.Title}))
	return grafanaError("create folder", err)
}

// UpdateFolder implements Grafana.
func (a *HTTPAPI) UpdateFolder(ctx context.Context, f Folder, version int64, overwrite bool) error {
	_, err := a.c.Folders.UpdateFolderWithParams(folders.NewUpdateFolderParamsWithContext(ctx).WithFolderUID(f.UID).
		WithBody(&models.UpdateFolderCommand{Title: f.Title, Version: version, Overwrite: overwrite}))
	return grafanaError("update folder", err)
}

// DataSource implements Grafana.
func (a *HTTPAPI) DataSource(ctx context.Context, uid string) (RemoteDataSource, bool, error) {
	ok, err := a.c.Datasources.GetDataSourceByUIDWithParams(datasources.NewGetDataSourceByUIDParamsWithContext(ctx).WithUID(uid))
	if isNotFound(err) {
		return RemoteDataSource{}, false, nil
	}
	if err != nil {
		return RemoteDataSource{}, false, grafanaError("read data source", err)
	}
	p := ok.Payload
	jd, _ := p.JSONData.(map[string]any)
	return RemoteDataSource{
		DataSource: DataSource{UID: p.UID, Name: p.Name, Type: p.Type, URL: p.URL, JSONData: jd},
		Access:     string(p.Access), Secure: p.SecureJSONFields, Version: p.Version,
	}, true, nil
}

// CreateDataSource implements Grafana.
func (a *HTTPAPI) CreateDataSource(ctx context.Context, d DataSource, secure map[string]string) error {
	_, err := a.c.Datasources.AddDataSourceWithParams(datasources.NewAddDataSourceParamsWithContext(ctx).WithBody(&models.AddDataSourceCommand{
		UID: d.UID, Name: d.Name, Type: d.Type, URL: d.URL, Access: "proxy", JSONData: d.JSONData, SecureJSONData: secure,
	}))
	return grafanaError("create data source", err)
}

// UpdateDataSource implements Grafana.
func (a *HTTPAPI) UpdateDataSource(ctx context.Context, d DataSource, secure map[string]string, version int64) error {
	_, err := a.c.Datasources.UpdateDataSourceByUIDWithParams(datasources.NewUpdateDataSourceByUIDParamsWithContext(ctx).WithUID(d.UID).WithBody(&models.UpdateDataSourceCommand{
		UID: d.UID, Name: d.Name, Type: d.Type, URL: d.URL, Access: "proxy", JSONData: d.JSONData, SecureJSONData: secure, Version: version,
	}))
	return grafanaError("update data source", err)
}

// Dashboard implements Grafana.
func (a *HTTPAPI) Dashboard(ctx context.Context, uid string) (RemoteDashboard, bool, error) {
	ok, err := a.c.Dashboards.GetDashboardByUIDWithParams(gdashboards.NewGetDashboardByUIDParamsWithContext(ctx).WithUID(uid))
	if isNotFound(err) {
		return RemoteDashboard{}, false, nil
	}
	if err != nil {
		return RemoteDashboard{}, false, grafanaError("read dashboard", err)
	}
	raw, err := json.Marshal(ok.Payload.Dashboard)
	if err != nil {
		return RemoteDashboard{}, false, fmt.Errorf("cannot encode dashboard %s read from Grafana: %w", uid, err)
	}
	d := RemoteDashboard{JSON: raw}
	if m := ok.Payload.Meta; m != nil {
		d.FolderUID, d.Version, d.Provisioned = m.FolderUID, m.Version, m.Provisioned
	}
	return d, true, nil
}

// SaveDashboard implements Grafana. The dashboard carries the version
// last read, so Grafana answers 412 if it changed since.
func (a *HTTPAPI) SaveDashboard(ctx context.Context, d Dashboard, version int64, overwrite bool) error {
	var body map[string]any
	if err := json.Unmarshal(d.JSON, &body); err != nil {
		return fmt.Errorf("cannot decode dashboard %s: %w", d.UID, err)
	}
	delete(body, "id")
	if version > 0 {
		body["version"] = version
	}
	_, err := a.c.Dashboards.PostDashboardWithParams(gdashboards.NewPostDashboardParamsWithContext(ctx).WithBody(&models.SaveDashboardCommand{
		Dashboard: body, FolderUID: d.Folder.UID, Overwrite: overwrite, Message: "pushed by vigil dashboards push",
	}))
	return grafanaError("save dashboard", err)
}

// statusCoder is what the client's error responses have in common.
type statusCoder interface{ Code() int }

// messager is what those with Grafana's error body have.
type messager interface {
	GetPayload() *models.ErrorResponseBody
}

// statusOf is the HTTP status of the client's error: a response the
// API's description names, or one it does not (runtime.APIError).
func statusOf(err error) (int, bool) {
	var s statusCoder
	if errors.As(err, &s) {
		return s.Code(), true
	}
	var u *runtime.APIError
	if errors.As(err, &u) {
		return u.Code, true
	}
	return 0, false
}

func isNotFound(err error) bool {
	code, ok := statusOf(err)
	return ok && code == http.StatusNotFound
}

// grafanaError turns the client's error into one of Push's, with
// Grafana's own message. The client's error text is not kept for a
// status: it is the whole response, and only the status and message
// matter to a user.
func grafanaError(doing string, err error) error {
	if err == nil {
		return nil
	}
	code, ok := statusOf(err)
	if !ok {
		return fmt.Errorf("cannot %s: %w", doing, err)
	}
	msg := ""
	var m messager
	if errors.As(err, &m) && m.GetPayload() != nil && m.GetPayload().Message != nil {
		msg = *m.GetPayload().Message
	}
	switch {
	case code == http.StatusUnauthorized:
		return fmt.Errorf("cannot %s: %w", doing, ErrUnauthorized)
	case code == http.StatusForbidden:
		return fmt.Errorf("cannot %s: %w: %s", doing, ErrForbidden, msg)
	case code == http.StatusPreconditionFailed:
		return fmt.Errorf("cannot %s: %w: %s", doing, ErrVersionConflict, msg)
	case code == http.StatusBadRequest && strings.Contains(strings.ToLower(msg), "provisioned"):
		return fmt.Errorf("cannot %s: %w: %s", doing, ErrProvisioned, msg)
	default:
		return fmt.Errorf("cannot %s: %w", doing, &StatusError{Code: code, Message: msg})
	}
}
