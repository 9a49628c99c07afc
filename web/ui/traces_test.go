package ui

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestTracePickersFromTheRange: the search form's services and
// operations are those with spans in the range; a service or operation
// quiet in the range is still the one searched (200, selected), and only
// one that no span ever named is a 404.
func TestTracePickersFromTheRange(t *testing.T) {
	h := fixtureUI(t, fixtureStore(t))
	const quiet = "&from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z" // before any span
	for _, tc := range []struct {
		url      string
		code     int
		want, no []string
	}{
		{"/traces?service=chat-gateway", 200, []string{"<option selected>chat-gateway</option>", "<option>llm-proxy</option>", `<option value="POST /chat">`}, nil},
		{"/traces?service=chat-gateway&operation=POST+%2Fchat" + quiet, 200, []string{"<option selected>chat-gateway</option>", `<option value="POST /chat">`},
			[]string{"<option>llm-proxy</option>", "There is no"}},
		{"/traces?service=nope" + quiet, 404, []string{"There is no service named &#34;nope&#34;."}, nil},
		{"/traces?service=chat-gateway&operation=nope" + quiet, 404, []string{"chat-gateway has no operation named &#34;nope&#34;."}, nil},
	} {
		w := serve(h, httptest.NewRequest("GET", tc.url, nil))
		body := w.Body.String()
		if w.Code != tc.code {
			t.Errorf("%s: %d, want %d", tc.url, w.Code, tc.code)
		}
		for _, s := range tc.want {
			if !strings.Contains(body, s) {
				t.Errorf("%s: no %s", tc.url, s)
			}
		}
		for _, s := range tc.no {
			if strings.Contains(body, s) {
				t.Errorf("%s: %s", tc.url, s)
			}
		}
	}
}
