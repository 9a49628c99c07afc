package dashboards

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

const testToken = "glsa_secret_0123456789abcdef"

// pushFixture is a small set: two folders, a handful of dashboards.
func pushFixture(t *testing.T) (Set, []DataSource) {
	t.Helper()
	set, err := Generate(Inventory{Services: []string{"chat-gateway"}, Models: []string{"gpt-4o"}, Teams: map[string][]string{"chat": {"chat-gateway"}}})
	if err != nil {
		t.Fatal(err)
	}
	sources, err := DataSources("http://vigil:8080")
	if err != nil {
		t.Fatal(err)
	}
	return set, sources
}

func pushTo(t *testing.T, url, token string, set Set, o PushOptions) ([]Change, error) {
	t.Helper()
	g, err := NewHTTPAPI(url, token, nil)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := Push(context.Background(), g, set, o)
	for _, c := range changes {
		if c.Err != nil && strings.Contains(c.Err.Error(), token) {
			t.Errorf("the token is in the error of %s %s: %v", c.Kind, c.UID, c.Err)
		}
	}
	if err != nil && strings.Contains(err.Error(), token) {
		t.Errorf("the token is in the error: %v", err)
	}
	return changes, err
}

func actions(changes []Change) map[Action]int {
	out := map[Action]int{}
	for _, c := range changes {
		out[c.Action]++
	}
	return out
}

func TestPushCreatesThenLeavesUnchanged(t *testing.T) {
	set, sources := pushFixture(t)
	f, srv := newFakeGrafana(t, testToken)
	secure := map[string]string{"httpHeaderValue1": "Bearer viewer-token"}
	changes, err := pushTo(t, srv.URL, testToken, set, PushOptions{DataSources: sources, Secure: secure})
	if err != nil {
		t.Fatal(err)
	}
	total := len(set.Folders) + len(sources) + len(set.Dashboards)
	if got := actions(changes); got[Create] != total || len(changes) != total {
		t.Fatalf("first push: %v, want %d creates", got, total)
	}
	if f.writeCount() != total {
		t.Fatalf("first push wrote %d times, want %d: %v", f.writeCount(), total, f.writes)
	}
	for _, d := range set.Dashboards {
		if f.dashFolder[d.UID] != d.Folder.UID {
			t.Errorf("dashboard %s in folder %q, want %q", d.UID, f.dashFolder[d.UID], d.Folder.UID)
		}
	}
	for _, s := range sources {
		if f.secure[s.UID]["httpHeaderValue1"] != "Bearer viewer-token" {
			t.Errorf("data source %s holds secrets %v, want the viewer token", s.UID, f.secure[s.UID])
		}
	}
	for _, c := range f.saves {
		if c.Overwrite {
			t.Errorf("a create was sent with overwrite set")
		}
	}

	changes, err = pushTo(t, srv.URL, testToken, set, PushOptions{DataSources: sources, Secure: secure})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(changes); got[Unchanged] != total {
		t.Fatalf("second push: %v, want all %d unchanged", got, total)
	}
	if f.writeCount() != total {
		t.Fatalf("second push wrote: %v", f.writes[total:])
	}
}

func TestPushUpdatesChangedDashboardWithVersionLastRead(t *testing.T) {
	set, _ := pushFixture(t)
	f, srv := newFakeGrafana(t, testToken)
	if _, err := pushTo(t, srv.URL, testToken, set, PushOptions{}); err != nil {
		t.Fatal(err)
	}
	d := set.Dashboards[0]
	f.dashes[d.UID]["title"] = "edited in the UI"
	f.dashes[d.UID]["version"] = int64(5)
	before := len(f.saves)
	changes, err := pushTo(t, srv.URL, testToken, set, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(changes); got[Update] != 1 {
		t.Fatalf("push after an edit: %v, want 1 update", got)
	}
	if len(f.saves) != before+1 {
		t.Fatalf("%d saves, want 1", len(f.saves)-before)
	}
	sent := f.saves[before].Dashboard.(map[string]any)
	if sent["version"] != float64(5) {
		t.Errorf("sent version %v, want the 5 last read", sent["version"])
	}
	if f.dashes[d.UID]["title"] != d.Title {
		t.Errorf("title in Grafana %v, want %q", f.dashes[d.UID]["title"], d.Title)
	}
}

func TestPushDryRunWritesNothing(t *testing.T) {
	set, sources := pushFixture(t)
	f, srv := newFakeGrafana(t, testToken)
	changes, err := pushTo(t, srv.URL, testToken, set, PushOptions{DryRun: true, DataSources: sources})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(changes); got[Create] != len(changes) || len(changes) == 0 {
		t.Fatalf("dry run: %v, want every object to be created", got)
	}
	if f.writeCount() != 0 {
		t.Fatalf("dry run wrote: %v", f.writes)
	}
}

func TestPushFolderAndDataSourceCreateThenUpdate(t *testing.T) {
	set, sources := pushFixture(t)
	f, srv := newFakeGrafana(t, testToken)
	if _, err := pushTo(t, srv.URL, testToken, set, PushOptions{DataSources: sources, Secure: map[string]string{"httpHeaderValue1": "Bearer v1"}}); err != nil {
		t.Fatal(err)
	}
	folder := set.Folders[0]
	f.folders[folder.UID].Title = "renamed in the UI"
	moved, err := DataSources("https://vigil.example:8443")
	if err != nil {
		t.Fatal(err)
	}
	changes, err := pushTo(t, srv.URL, testToken, set, PushOptions{DataSources: moved})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Action{"folder/" + folder.UID: Update, "datasource/" + PrometheusUID: Update, "datasource/" + JaegerUID: Update}
	for _, c := range changes {
		if a, ok := want[c.Kind+"/"+c.UID]; ok && c.Action != a {
			t.Errorf("%s %s: %s, want %s", c.Kind, c.UID, c.Action, a)
		}
	}
	if got := f.folders[folder.UID]; got.Title != folder.Title || got.Version != 2 {
		t.Errorf("folder in Grafana %q version %d, want %q version 2", got.Title, got.Version, folder.Title)
	}
	for _, s := range moved {
		got := f.sources[s.UID]
		if got.URL != s.URL || got.Version != 2 {
			t.Errorf("data source %s: %s version %d, want %s version 2", s.UID, got.URL, got.Version, s.URL)
		}
		if f.secure[s.UID]["httpHeaderValue1"] != "Bearer v1" {
			t.Errorf("data source %s lost its token on an update without one: %v", s.UID, f.secure[s.UID])
		}
	}
}

func TestPushVersionConflict(t *testing.T) {
	set, _ := pushFixture(t)
	f, srv := newFakeGrafana(t, testToken)
	d := set.Dashboards[0]
	f.dashes[d.UID] = map[string]any{"uid": d.UID, "title": "someone else's", "id": int64(3), "version": int64(3)}
	f.dashFolder[d.UID] = d.Folder.UID
	f.bumpAfterRead = true // someone saves between Push's read and its write

	changes, err := pushTo(t, srv.URL, testToken, set, PushOptions{})
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("a stale version pushed: error %v, want ErrRefused", err)
	}
	var refused []Change
	for _, c := range changes {
		if c.Action == Refused {
			refused = append(refused, c)
		}
	}
	if len(refused) != 1 || refused[0].UID != d.UID || !errors.Is(refused[0].Err, ErrVersionConflict) {
		t.Fatalf("refused %v, want %s with a version conflict", refused, d.UID)
	}
	if msg := refused[0].Err.Error(); !strings.Contains(msg, "re-run") || !strings.Contains(msg, "--force") {
		t.Errorf("the conflict does not say what to do: %s", msg)
	}
	if f.dashes[d.UID]["title"] != "someone else's" {
		t.Errorf("the conflicting dashboard was overwritten")
	}
	if got := actions(changes); got[Create] != len(changes)-1 {
		t.Errorf("the other objects were not pushed after the conflict: %v", got)
	}

	if _, err := pushTo(t, srv.URL, testToken, set, PushOptions{Force: true}); err != nil {
		t.Fatalf("--force: %v", err)
	}
	if f.dashes[d.UID]["title"] != d.Title {
		t.Errorf("--force did not overwrite: title %v", f.dashes[d.UID]["title"])
	}
}

func TestPushProvisionedDashboardIsReportedNotOverwritten(t *testing.T) {
	for _, hide := range []bool{false, true} {
		t.Run(fmt.Sprintf("meta hidden %v", hide), func(t *testing.T) {
			set, _ := pushFixture(t)
			f, srv := newFakeGrafana(t, testToken)
			f.hideProvisioned = hide
			d := set.Dashboards[0]
			f.dashes[d.UID] = map[string]any{"uid": d.UID, "title": "from files", "version": int64(1)}
			f.provisioned[d.UID] = true
			changes, err := pushTo(t, srv.URL, testToken, set, PushOptions{Force: true})
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("a provisioned dashboard: error %v, want ErrRefused", err)
			}
			found := false
			for _, c := range changes {
				if c.UID == d.UID {
					found = c.Action == Refused && errors.Is(c.Err, ErrProvisioned)
				}
			}
			if !found {
				t.Fatalf("%s not reported as provisioned: %+v", d.UID, changes)
			}
			if f.dashes[d.UID]["title"] != "from files" {
				t.Error("the provisioned dashboard was overwritten")
			}
		})
	}
}

func TestPushUnauthorizedAndForbidden(t *testing.T) {
	set, sources := pushFixture(t)
	for _, tc := range []struct {
		name   string
		forbid bool
		token  string
		want   error
	}{
		{"401", false, "glsa_wrong_token_fedcba9876", ErrUnauthorized},
		{"403", true, testToken, ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeGrafana(t, testToken)
			f.forbid = tc.forbid
			changes, err := pushTo(t, srv.URL, tc.token, set, PushOptions{DataSources: sources})
			if !errors.Is(err, tc.want) || errors.Is(err, ErrRefused) {
				t.Fatalf("error %v, want only %v", err, tc.want)
			}
			if len(changes) != 0 {
				t.Errorf("went on after a refused token: %v", changes)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("the token is in the error: %v", err)
			}
		})
	}
}

func TestNewHTTPAPIRefusesBadInput(t *testing.T) {
	for _, tc := range []struct{ url, token string }{
		{"grafana:3000", "t"},
		{"http://admin:" + testToken + "@grafana:3000", "t"},
		{"http://grafana:3000", ""},
	} {
		_, err := NewHTTPAPI(tc.url, tc.token, nil)
		if err == nil {
			t.Errorf("NewHTTPAPI(%q) accepted", tc.url)
			continue
		}
		if strings.Contains(err.Error(), testToken) {
			t.Errorf("the secret in the URL is in the error: %v", err)
		}
	}
}

// TestPushRealGrafana pushes to a real Grafana when VIGIL_GRAFANA_URL and
// VIGIL_GRAFANA_TOKEN (an Editor service account's token; Admin to write
// the data sources) are set: a push, then a second that must change
// nothing, which is what shows that Grafana stores a dashboard as sent and
// the comparison holds. It writes the folders "Vigil" and "Vigil ·
// vigil-push-test", the dashboards of the service vigil-push-test, cost and
// Vigil itself, and Vigil's two data sources pointing at
// VIGIL_GRAFANA_VIGIL_URL (default http://vigil:8080).
func TestPushRealGrafana(t *testing.T) {
	url, token := os.Getenv("VIGIL_GRAFANA_URL"), os.Getenv("VIGIL_GRAFANA_TOKEN")
	if url == "" || token == "" {
		t.Skip("set VIGIL_GRAFANA_URL and VIGIL_GRAFANA_TOKEN to push to a real Grafana")
	}
	vigilURL := os.Getenv("VIGIL_GRAFANA_VIGIL_URL")
	if vigilURL == "" {
		vigilURL = "http://vigil:8080"
	}
	set, err := Generate(Inventory{Services: []string{"vigil-push-test"}, Teams: map[string][]string{"vigil-push-test": {"vigil-push-test"}}})
	if err != nil {
		t.Fatal(err)
	}
	sources, err := DataSources(vigilURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pushTo(t, url, token, set, PushOptions{DataSources: sources}); err != nil {
		t.Fatal(err)
	}
	changes, err := pushTo(t, url, token, set, PushOptions{DataSources: sources})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		if c.Action != Unchanged {
			t.Errorf("second push: %s %s %s, want unchanged (Grafana changed what it was sent?)", c.Kind, c.UID, c.Action)
		}
	}
}
