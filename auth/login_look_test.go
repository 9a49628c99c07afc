package auth

import (
	"strings"
	"testing"
)

// TestLoginLook: without a look the sign-in page is plain and follows
// the browser's theme; with the UI's look it links the pages' stylesheet
// and icon, and renders the theme the pages' cookie chose, server-side.
func TestLoginLook(t *testing.T) {
	f := newFixture(t, Options{})
	code, body, _ := f.do("GET", "/login", "")
	if code != 200 || strings.Contains(body, `rel="stylesheet"`) || !strings.Contains(body, `data-theme="system"`) || !strings.Contains(body, `content="light dark"`) {
		t.Fatalf("a plain sign-in page: %d\n%s", code, body)
	}
	f.guard.SetLoginLook(LoginLook{Stylesheet: "/static/app.0123456789.css", Icon: "/static/favicon.abcdef0123.svg"})
	for _, tc := range []struct{ cookie, theme, scheme string }{
		{"", "system", "light dark"},
		{ThemeCookie + "=dark", "dark", "dark"},
		{ThemeCookie + "=light", "light", "light"},
		{ThemeCookie + "=<script>", "system", "light dark"},
	} {
		kv := []string{}
		if tc.cookie != "" {
			kv = append(kv, "Cookie", tc.cookie)
		}
		code, body, _ := f.do("GET", "/login", "", kv...)
		for _, want := range []string{`<link rel="stylesheet" href="/static/app.0123456789.css">`, `<link rel="icon" href="/static/favicon.abcdef0123.svg"`,
			`data-theme="` + tc.theme + `"`, `<meta name="color-scheme" content="` + tc.scheme + `">`, `<main id="main" class="signin">`} {
			if code != 200 || !strings.Contains(body, want) {
				t.Errorf("cookie %q: %d, no %s in\n%s", tc.cookie, code, want, body)
			}
		}
	}
}
