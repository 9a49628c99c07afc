package demo

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// configFS is the demo's config directory, as `vigil lint demo/config`
// checks it.
//
//go:embed config/*.yaml
var configFS embed.FS

// ControlURL is the control endpoint the policies of demo/config post to.
const ControlURL = "http://127.0.0.1:8091"

// SecretEnv names the variable holding the control endpoint's webhook
// secret, which the policies' secret_env names.
const SecretEnv = "VIGIL_DEMO_CONTROL_SECRET"

// WriteConfig writes the demo's config directory into dir, the policies
// posting to controlURL instead of ControlURL when the control endpoint
// listens elsewhere.
func WriteConfig(dir, controlURL string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return fs.WalkDir(configFS, "config", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := configFS.ReadFile(path)
		if err != nil {
			return err
		}
		text := strings.ReplaceAll(string(data), ControlURL+"/", strings.TrimSuffix(controlURL, "/")+"/")
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(path)), []byte(text), 0o644); err != nil {
			return fmt.Errorf("cannot write the demo's config directory: %w", err)
		}
		return nil
	})
}

// ScrapeConfig is the scrape configuration that has Vigil scrape the
// gateway's and the GPU model server's /metrics, at those host:ports,
// into tenant.
func ScrapeConfig(gateway, gpu, tenant string) string {
	return fmt.Sprintf(`scrape_configs:
  - job_name: llm-gateway
    scrape_interval: 15s
    tenant: %[3]s
    static_configs:
      - targets: [%[1]q]
  - job_name: gpu-model-server
    scrape_interval: 15s
    tenant: %[3]s
    static_configs:
      - targets: [%[2]q]
`, gateway, gpu, tenant)
}
