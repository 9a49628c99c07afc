package cost

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func validDim(name string) error {
	switch {
	case name == "provider", name == "service", strings.HasPrefix(name, "tag:"):
		return nil
	}
	return fmt.Errorf("unknown cost dimension %q", name)
}

func TestLoadCostConfig(t *testing.T) {
	dir := t.TempDir()
	good := `# budgets and anomalies
budgets:
  - name: gpu-monthly
    amount: "5000"
    filter: {provider: AWS, "tag:team": search}
    forecast: true
cost_anomalies:
  - name: daily-by-service
    group_by: [service]
    min_daily_spend: "10"
slos: []   # another domain's key, not ours
`
	bad := `budgets:
  - name: a
    amount: lots
  - name: b
    amount: "10"
    period: fortnight
  - name: c
    amont: "10"
  - name: d
    amount: "10"
    filter: {colour: red}
cost_anomalies:
  - name: e
    window_days: 1
`
	os.WriteFile(filepath.Join(dir, "good.yaml"), []byte(good), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte(bad), 0o644)
	cfg, problems, err := LoadCostConfig([]string{dir}, validDim)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Budgets) != 1 || len(cfg.Anomalies) != 1 {
		t.Fatalf("%d budgets, %d anomalies", len(cfg.Budgets), len(cfg.Anomalies))
	}
	b := cfg.Budgets[0]
	if b.Period != "month" || b.Cost != "effective" || b.Currency != "USD" || fmt.Sprint(b.Thresholds) != "[50 80 100]" || b.Filter["tag:team"] != "search" || !strings.HasSuffix(b.File, "good.yaml:3") {
		t.Errorf("defaults: %+v", b)
	}
	var got []string
	for _, p := range problems {
		got = append(got, strings.TrimPrefix(p.String(), dir+"/"))
	}
	want := []string{
		`bad.yaml:3: budgets[0].amount: "lots" is not a number`,
		`bad.yaml:6: budgets[1].period: "fortnight" is not month, week or day`,
		`bad.yaml:8: budgets[2]: field amont not found`,
		`bad.yaml:11: budgets[3].filter: unknown cost dimension "colour"`,
		`bad.yaml:14: cost_anomalies[0].window_days: 1 is not between 2 and 366`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
