package ui

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVendoredVersions holds every vendored file to its VERSIONS line
// (file, package, version, sha256), as scripts/ui-vendor writes them, and
// every file of the folder to a line: nothing vendored goes unrecorded.
func TestVendoredVersions(t *testing.T) {
	for _, dir := range []string{"static/vendor", "testdata"} {
		f, err := os.Open(filepath.Join(dir, "VERSIONS"))
		if err != nil {
			t.Fatal(err)
		}
		listed := map[string]bool{"VERSIONS": true}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) != 4 {
				t.Errorf("%s/VERSIONS: %q is not: file package version sha256", dir, sc.Text())
				continue
			}
			body, err := os.ReadFile(filepath.Join(dir, fields[0]))
			if err != nil {
				t.Errorf("%s: %v", dir, err)
				continue
			}
			sum := sha256.Sum256(body)
			if got := hex.EncodeToString(sum[:]); got != fields[3] {
				t.Errorf("%s/%s (%s %s): sha256 %s, VERSIONS says %s", dir, fields[0], fields[1], fields[2], got, fields[3])
			}
			listed[fields[0]] = true
		}
		f.Close()
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !e.IsDir() && !listed[e.Name()] && dir == "static/vendor" {
				t.Errorf("%s/%s is not in VERSIONS", dir, e.Name())
			}
		}
	}
}

// jsBudget is what all the JavaScript a page loads may weigh, gzipped.
const jsBudget = 60 << 10

// TestJavaScriptBudget measures every script the pages load, gzipped as
// they are served, against the budget, and logs the sizes.
func TestJavaScriptBudget(t *testing.T) {
	a := loadAssets()
	total := 0
	for name, hashed := range a.byName {
		if !strings.HasSuffix(name, ".js") {
			continue
		}
		n := len(a.files[hashed].gzipped)
		t.Logf("%-20s %6d bytes gzipped (%d raw)", name, n, len(a.files[hashed].body))
		total += n
	}
	t.Logf("all JavaScript: %d bytes gzipped, budget %d", total, jsBudget)
	if total > jsBudget {
		t.Errorf("the pages' JavaScript weighs %d bytes gzipped, over the budget of %d", total, jsBudget)
	}
}

// TestStaticServing: a static file is served under its content's hash,
// cached forever, compressed when asked, and an unknown name is 404.
func TestStaticServing(t *testing.T) {
	a := loadAssets()
	url := a.url("app.js")
	if !regexp.MustCompile(`^/static/app\.[0-9a-f]{10}\.js$`).MatchString(url) {
		t.Errorf("app.js is served at %s", url)
	}
	h := fixtureUI(t, fixtureStore(t))
	r := httptest.NewRequest("GET", url, nil)
	r.Header.Set("Accept-Encoding", "gzip")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 || w.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" || w.Header().Get("Content-Encoding") != "gzip" ||
		!strings.HasPrefix(w.Header().Get("Content-Type"), "text/javascript") {
		t.Errorf("%s: %d %v", url, w.Code, w.Header())
	}
	zr, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(zr)
	if want, _ := os.ReadFile("static/app.js"); string(body) != string(want) {
		t.Errorf("%s does not serve app.js", url)
	}
	if w := serve(h, httptest.NewRequest("GET", "/static/app.0000000000.js", nil)); w.Code != 404 {
		t.Errorf("an unknown static file: %d", w.Code)
	}
}

// TestNoInlineScriptOrStyle: the policy forbids inline script and style,
// so no golden page may hold any: only scripts with a src, JSON data
// blocks, and no style or on* attributes.
func TestNoInlineScriptOrStyle(t *testing.T) {
	scriptTag := regexp.MustCompile(`<script[^>]*>`)
	forbidden := regexp.MustCompile(`\s(style|on[a-z]+)=`)
	pages, _ := filepath.Glob("testdata/golden/*.html")
	if len(pages) == 0 {
		t.Fatal("no golden pages")
	}
	for _, p := range pages {
		body, _ := os.ReadFile(p)
		for _, tag := range scriptTag.FindAllString(string(body), -1) {
			if !strings.Contains(tag, "src=") && !strings.Contains(tag, `type="application/json"`) {
				t.Errorf("%s: inline script %s", p, tag)
			}
		}
		if m := forbidden.FindString(string(body)); m != "" {
			t.Errorf("%s: inline %s attribute", p, strings.TrimSpace(m))
		}
	}
}
