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
// testdata/config, two services beyond theirs, two models, two teams
// and two budgets.
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
		Budgets:  []string{"llm-monthly", "gpu-daily"},
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

// TestCheckSeesEveryQuery guards against the SDK's strict decoder losing
// panels or targets: the self dashboard has 10 panels and 12 targets
// besides its variable, the service dashboard two Jaeger searches.
func TestCheckSeesEveryQuery(t *testing.T) {
	set, err := Generate(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string][3]int{} // variables, PromQL targets, Jaeger queries
	for _, d := range set.Dashboards {
		dash, err := Check(d.JSON)
		if err != nil {
			t.Fatal(err)
		}
		qs, err := Queries(dash)
		if err != nil {
			t.Fatal(err)
		}
		var c [3]int
		for _, q := range qs {
			switch {
			case q.Variable != "":
				c[0]++
			case q.Jaeger != nil:
				c[2]++
			default:
				c[1]++
			}
		}
		counts[d.UID] = c
	}
	for uid, want := range map[string][3]int{"vigil-self": {1, 12, 0}, "vigil-service-chat-gateway": {3, 13, 2}, "vigil-slo-chat-availability": {0, 15, 1}} {
		if counts[uid] != want {
			t.Errorf("%s: variables, PromQL targets, Jaeger queries = %v, want %v", uid, counts[uid], want)
		}
	}
}

// TestCheckRefuses: what Check exists to catch is caught, each with a
// message naming it.
func TestCheckRefuses(t *testing.T) {
	set, err := Generate(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	var self []byte
	for _, d := range set.Dashboards {
		if d.UID == "vigil-self" {
			self = d.JSON
		}
	}
	for _, c := range []struct{ name, from, to, want string }{
		{"unknown field", `"refresh": "1m"`, `"refrsh": "1m"`, "refrsh"},
		{"empty enum", `"mode": "multi"`, `"mode": ""`, "empty string"},
		{"rate over $__interval", `[$__rate_interval]`, `[$__interval]`, "use $__rate_interval"},
		{"fixed data source", `"uid": "${datasource}"`, `"uid": "prom-1"`, "${datasource}"},
		{"bad PromQL", `sum by (signal) (vigil_collector_queue_items`, `sum by (signal) (vigil_collector_queue_items)(`, "cannot parse PromQL"},
		{"unknown variable", `instance=~\"$instance\"`, `instance=~\"$inst\"`, "$inst"},
	} {
		bad := bytes.Replace(self, []byte(c.from), []byte(c.to), 1)
		if bytes.Equal(bad, self) {
			t.Fatalf("%s: %q not found", c.name, c.from)
		}
		if _, err := Check(bad); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %q", c.name, err, c.want)
		}
	}
}
