package prom

import (
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
)

// buildInfo is Prometheus's status/buildinfo. Its version is that of the
// Prometheus whose engine Vigil embeds, so that clients (Grafana picks
// features by it) expect what the engine does.
type buildInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	Branch    string `json:"branch"`
	BuildUser string `json:"buildUser"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
}

var engineBuild = sync.OnceValue(func() buildInfo {
	b := buildInfo{GoVersion: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			b.Revision = s.Value
		}
	}
	for _, m := range info.Deps {
		if m.Path == "github.com/prometheus/prometheus" {
			b.Version = releaseOf(m.Version)
		}
	}
	return b
})

// releaseOf turns the Go module version of Prometheus into its release:
// v0.316.0 is 3.16.0 (the module's minor is the major and minor).
func releaseOf(module string) string {
	parts := strings.SplitN(strings.TrimPrefix(module, "v0."), ".", 2)
	n, err := strconv.Atoi(parts[0])
	if err != nil || len(parts) != 2 {
		return module
	}
	return strconv.Itoa(n/100) + "." + strconv.Itoa(n%100) + "." + parts[1]
}

func (a *API) buildInfo(*http.Request, string) result { return result{data: engineBuild()} }
