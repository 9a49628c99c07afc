package drift

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeYAML(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadMonitors(t *testing.T) {
	dir := t.TempDir()
	writeYAML(t, dir, "drift.yaml", `drift:
  - name: chat-output-length
    filter: {service: chat-gateway, operation: "POST /chat", model: gpt-4o}
    watch: output_tokens
    reference: {offset: 7d}
    current: 1h
  - name: ranker-score
    tenant: acme
    watch: attribute:ranker.score
    reference:
      from: 2026-01-01T00:00:00Z
      to: 2026-01-08T00:00:00Z
    current: 24h
    method: psi
    threshold: 0.25
    bins: 10
    min_samples: 100
`)
	// Files without a drift: list are someone else's.
	writeYAML(t, dir, "slos.yaml", "slos: []\n")
	ms, problems, err := LoadMonitors([]string{dir})
	if err != nil || len(problems) != 0 {
		t.Fatalf("err %v, problems %v", err, problems)
	}
	if len(ms) != 2 {
		t.Fatalf("%d monitors", len(ms))
	}
	chat, ranker := ms[0], ms[1]
	if chat.Name != "chat-output-length" || chat.Filter.Model != "gpt-4o" || chat.Watch.Kind != WatchOutputTokens ||
		chat.Reference.Offset != 7*24*time.Hour || chat.Current != time.Hour || chat.Options.Method != MethodAuto ||
		chat.File != filepath.Join(dir, "drift.yaml")+":2" {
		t.Errorf("chat %+v", chat)
	}
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	rf, rt, cf, ct := chat.Windows(now)
	week := 7 * 24 * time.Hour
	if !ct.Equal(now) || !cf.Equal(now.Add(-time.Hour)) || !rt.Equal(now.Add(-week)) || !rf.Equal(now.Add(-week-time.Hour)) {
		t.Errorf("rolling windows %v %v %v %v", rf, rt, cf, ct)
	}
	if ranker.Watch.String() != "attribute:ranker.score" || ranker.Tenant != "acme" ||
		ranker.Options != (Options{Method: MethodPSI, Threshold: 0.25, Bins: 10, MinSamples: 100}) {
		t.Errorf("ranker %+v", ranker)
	}
	rf, rt, _, _ = ranker.Windows(now)
	if !rf.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || !rt.Equal(time.Date(2026, 1, 8, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("fixed windows %v %v", rf, rt)
	}
}

func TestLoadMonitorsProblems(t *testing.T) {
	dir := t.TempDir()
	writeYAML(t, dir, "bad.yaml", `drift:
  - name: a
    watch: latency
    reference: {offset: 30m}
    current: 1h
  - name: b
    watch: duration
    reference: {offset: 1h, from: 2026-01-01T00:00:00Z}
    current: 1h
  - name: c
    watch: input_tokens
    type: categorical
    reference: {offset: 1d}
    current: soon
    method: kl
  - name: d
    watch: attribute:class
    reference: {offset: 1d}
    current: 1h
    method: ks
    threshold: 5
  - name: a
    watch: duration
    reference: {offset: 1d}
    current: 1h
  - name: e
    watch: duration
    refrence: {offset: 1d}
    current: 1h
  - watch: duration
    reference:
      from: 2026-01-08T00:00:00Z
      to: 2026-01-01T00:00:00Z
    current: 1h
`)
	writeYAML(t, dir, "notalist.yaml", "drift: {name: x}\n")
	ms, problems, err := LoadMonitors([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, strings.TrimPrefix(p.String(), dir+"/"))
	}
	want := []string{
		`bad.yaml:3: drift[0].watch: unknown value "latency": want duration, input_tokens, output_tokens, attribute:<key> or metric:<selector>`,
		`bad.yaml:4: drift[0].reference.offset: 30m is shorter than the current window (1h): the two windows would overlap`,
		`bad.yaml:8: drift[1].reference: give either from and to (a fixed range) or offset (a rolling window), not both`,
		`bad.yaml:12: drift[2].type: input_tokens is a number; only an attribute can be categorical`,
		`bad.yaml:14: drift[2].current: want a positive duration such as 90m, 168h or 7d, up to 100 years; got "soon"`,
		`bad.yaml:15: drift[2].method: unknown drift method "kl" (want one of auto, ks, chisquare, ztest, psi, jensenshannon, wasserstein, hellinger, linf)`,
		`bad.yaml:21: drift[3].threshold: ks is judged by its p-value: want a threshold below 1, got 5`,
		`bad.yaml:22: drift[4].name: monitor "a" is also defined at ` + filepath.Join(dir, "bad.yaml") + `:2`,
		`bad.yaml:28: drift[5]: field refrence not found`,
		`bad.yaml:30: drift[6].name: required`,
		`bad.yaml:33: drift[6].reference.to: 2026-01-01T00:00:00Z is not after from (2026-01-08T00:00:00Z)`,
		`notalist.yaml:1: drift: want a list of monitors`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Every monitor is broken; the second "a" only by its name, which
	// clashes with a definition that is itself broken.
	if len(ms) != 0 {
		t.Errorf("loaded %d broken monitors", len(ms))
	}
}

func TestParseDuration(t *testing.T) {
	for s, want := range map[string]time.Duration{"90m": 90 * time.Minute, "168h": 168 * time.Hour, "7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour} {
		if d, err := parseDuration(s); err != nil || d != want {
			t.Errorf("%s: %v %v", s, d, err)
		}
	}
	for _, s := range []string{"", "0s", "-1h", "xd", "1.5d", "week"} {
		if _, err := parseDuration(s); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
}

func TestParseDurationBounds(t *testing.T) {
	for in, ok := range map[string]bool{"90m": true, "7d": true, "2w": true, "36500d": true, "300000d": false, "106751991167300d": false, "1000000w": false, "-1d": false, "0d": false, "876000h": true, "876001h": false} {
		if _, err := parseDuration(in); (err == nil) != ok {
			t.Errorf("%s: %v", in, err)
		}
	}
}
