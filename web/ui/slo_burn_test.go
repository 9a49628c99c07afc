package ui

import (
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/slo"
)

// TestSLOBurnOfAQuietShortWindow: ten minutes after the fixture's last
// request the 5-minute windows are empty while the long ones are not, and
// the burn-rate table shows each long rate and a dash for each short one,
// as the API's null does, not a dash for both.
func TestSLOBurnOfAQuietShortWindow(t *testing.T) {
	st := fixtureStore(t)
	slos := fixtureSLOList(t)
	later := fixedNow.Add(10 * time.Minute)
	u := New(Options{Store: st, SLOs: func() []*slo.SLO { return slos }, Now: func() time.Time { return later }, PanelTimeout: time.Second})
	w := serve(Browser(muxOf(u)), httptest.NewRequest("GET", "/slos/chat-availability", nil))
	if w.Code != 200 {
		t.Fatalf("status %d:\n%s", w.Code, w.Body)
	}
	// Severity, long and short window, threshold, long burn, short burn.
	row := regexp.MustCompile(`<tr>\s*<td>page</td><td>1h</td><td>5m</td><td class="n">[^<]*</td>\s*<td class="n[^"]*">([^<]*)</td>\s*<td class="n[^"]*">([^<]*)</td>`)
	m := row.FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatalf("no 1h/5m page row in the burn-rate table:\n%s", w.Body)
	}
	if long, short := m[1], m[2]; long == "–" || short != "–" {
		t.Errorf("long burn %q, short burn %q: want the long window's rate and a dash for the empty short window", long, short)
	}
}
