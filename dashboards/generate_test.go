package dashboards

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/slo"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixture is the inventory of the golden files: the SLOs of
// testdata/config, two services beyond theirs, two models, two teams.
func fixture(t *testing.T) Inventory {
	t.Helper()
	slos, problems, err := slo.Load([]string{"testdata/config"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if p.Severity == "error" {
			t.Fatalf("fixture SLOs: %v", p)
		}
	}
	return Inventory{
		SLOs:     slos,
		Services: []string{"embedder", "chat-gateway"},
		Models:   []string{"gpt-4o", "claude-sonnet-4.5"},
		Teams:    map[string][]string{"chat": {"chat-gateway", "ranker"}, "platform": {"api"}},
	}
}

func TestGoldenDashboards(t *testing.T) {
	set, err := Generate(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	wantSkipped := []string{"chat-ttft", "chat-vip"}
	if len(set.Skipped) != len(wantSkipped) {
		t.Fatalf("skipped %q, want %v", set.Skipped, wantSkipped)
	}
	for i, name := range wantSkipped {
		if !strings.HasPrefix(set.Skipped[i], name+" (testdata/config/slos.yaml:") {
			t.Errorf("skipped[%d] = %q, want %s with its file and line", i, set.Skipped[i], name)
		}
	}
	dir := filepath.Join("testdata", "golden")
	if *update {
		os.RemoveAll(dir)
	}
	seen := map[string]bool{}
	for _, d := range set.Dashboards {
		path := filepath.Join(dir, d.Folder.UID, d.UID+".json")
		seen[path] = true
		if *update {
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, d.JSON, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (run go test ./dashboards -run TestGoldenDashboards -update)", d.UID, err)
			continue
		}
		if !bytes.Equal(want, d.JSON) {
			t.Errorf("%s differs from %s (run with -update and review the diff)", d.UID, path)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	for _, f := range files {
		if !seen[f] {
			t.Errorf("golden file %s is no longer generated", f)
		}
	}
}
