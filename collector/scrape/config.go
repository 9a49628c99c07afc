// Package scrape pulls metrics from targets that only expose them
// (client_golang's /metrics), in the Prometheus text format, OpenMetrics 1.0
// or delimited protobuf, and writes them like any other ingested sample.
package scrape

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/tenant"
)

// Config is the scrape configuration file, a subset of Prometheus' own
// scrape_configs so an existing file's jobs carry over.
type Config struct {
	ScrapeConfigs []Job `yaml:"scrape_configs"`
}

// Job is one scrape job.
type Job struct {
	JobName        string         `yaml:"job_name"`
	ScrapeInterval Duration       `yaml:"scrape_interval"`
	ScrapeTimeout  Duration       `yaml:"scrape_timeout"`
	MetricsPath    string         `yaml:"metrics_path"`
	Scheme         string         `yaml:"scheme"`
	Tenant         string         `yaml:"tenant"` // Vigil's addition: the tenant samples are written to
	StaticConfigs  []StaticConfig `yaml:"static_configs"`
}

// StaticConfig lists targets and labels added to their series.
type StaticConfig struct {
	Targets []string          `yaml:"targets"`
	Labels  map[string]string `yaml:"labels"`
}

// Duration reads Go durations ("15s", "1m") from YAML.
type Duration time.Duration

// UnmarshalYAML parses a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: cannot parse duration %q: %v", n.Line, n.Value, err)
	}
	*d = Duration(v)
	return nil
}

// LoadFile reads and checks a scrape configuration file; errors name the
// file and line.
func LoadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig reads a configuration, fills defaults (interval 1m, timeout 10s or
// the interval if shorter, path /metrics, scheme http, default tenant) and
// checks it.
func ParseConfig(data []byte) (*Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for i := range cfg.ScrapeConfigs {
		j := &cfg.ScrapeConfigs[i]
		where := fmt.Sprintf("scrape_configs[%d]", i)
		if j.JobName == "" {
			return nil, fmt.Errorf("%s.job_name: missing", where)
		}
		if names[j.JobName] {
			return nil, fmt.Errorf("%s.job_name: %q is used twice", where, j.JobName)
		}
		names[j.JobName] = true
		if j.ScrapeInterval == 0 {
			j.ScrapeInterval = Duration(time.Minute)
		}
		if j.ScrapeTimeout == 0 {
			j.ScrapeTimeout = Duration(min(10*time.Second, time.Duration(j.ScrapeInterval)))
		}
		if j.ScrapeTimeout > j.ScrapeInterval {
			return nil, fmt.Errorf("%s.scrape_timeout: %s is longer than scrape_interval %s", where, time.Duration(j.ScrapeTimeout), time.Duration(j.ScrapeInterval))
		}
		if j.MetricsPath == "" {
			j.MetricsPath = "/metrics"
		}
		if j.Scheme == "" {
			j.Scheme = "http"
		}
		if j.Scheme != "http" && j.Scheme != "https" {
			return nil, fmt.Errorf("%s.scheme: want http or https, got %q", where, j.Scheme)
		}
		if err := tenant.Validate(j.Tenant); err != nil {
			return nil, fmt.Errorf("%s.tenant: %w", where, err)
		}
		if j.Tenant == "" {
			j.Tenant = store.DefaultTenant
		}
		for k, sc := range j.StaticConfigs {
			for _, t := range sc.Targets {
				if _, err := url.Parse(j.Scheme + "://" + t + j.MetricsPath); err != nil || t == "" {
					return nil, fmt.Errorf("%s.static_configs[%d].targets: %q is not host:port", where, k, t)
				}
			}
		}
	}
	return &cfg, nil
}
