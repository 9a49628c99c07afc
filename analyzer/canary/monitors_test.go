package canary

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadMonitors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "canaries.yaml"), []byte(`canaries:
  - name: chat-rollout
    service: chat-gateway
    canary: canary
    baseline: stable
    window: 15m
    every: 5m
    min_samples: 100
  - name: same
    service: chat-gateway
    canary: stable
    baseline: stable
    window: 15m
  - name: no-window
    service: chat-gateway
    canary: canary
    baseline: stable
  - name: bad-by
    service: chat-gateway
    by: region
    canary: canary
    baseline: stable
    window: 1h
    alpha: 2
  - name: chat-rollout
    service: search
    canary: canary
    baseline: stable
    window: 15m
`), 0o644)
	monitors, problems, err := LoadMonitors([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(monitors) != 1 {
		t.Fatalf("monitors: %+v", monitors)
	}
	m := monitors[0]
	if m.Name != "chat-rollout" || m.Window != 15*time.Minute || m.Every != 5*time.Minute || m.Spec.Tenant != "default" ||
		m.Spec.Config.MinSamples != 100 || m.Spec.Canary != "canary" || m.Spec.Baseline != "stable" {
		t.Errorf("monitor: %+v", m)
	}
	var got []string
	for _, p := range problems {
		got = append(got, strings.TrimPrefix(p.String(), dir+"/"))
	}
	want := []string{
		`canaries.yaml:11: canaries[1].canary: canary and baseline are both "stable"`,
		`canaries.yaml:14: canaries[2].window: "" is not a positive duration such as 15m`,
		`canaries.yaml:24: canaries[3].alpha: 2 is not a significance level in (0,1)`,
		`canaries.yaml:20: canaries[3].by: by "region": want deployment or model_version`,
		`canaries.yaml:25: canaries[4].name: canary monitor "chat-rollout" is also defined at`,
	}
	if len(got) != len(want) {
		t.Fatalf("problems:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
}
