package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// static holds the stylesheet, the islands and the vendored libraries,
// served as they are: no minifying, so what runs is what was reviewed.
//
//go:embed static/*.css static/*.js static/*.svg static/vendor/*.js static/vendor/*.css
var static embed.FS

// staticPrefix is where the static files are served.
const staticPrefix = "/static/"

// asset is one static file, named by its content.
type asset struct {
	body, gzipped []byte
	typ           string
}

// assets serves the static files under names that carry a hash of their
// content (app.3f2a1b9c0d.js), so a browser may cache each forever: a new
// version is a new name.
type assets struct {
	byName map[string]string // logical name (app.js) to the hashed one
	files  map[string]asset  // by hashed name
}

func loadAssets() *assets {
	a := &assets{byName: map[string]string{}, files: map[string]asset{}}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		name := path.Base(p)
		sum := sha256.Sum256(body)
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		a.byName[name] = hashed
		a.files[hashed] = asset{body: body, gzipped: gzipBytes(body), typ: mime.TypeByExtension(ext)}
		return nil
	})
	if err != nil {
		panic("ui: cannot read the embedded static files: " + err.Error())
	}
	return a
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// url is where a static file is served; it panics on a name that is not
// embedded, which a golden test finds.
func (a *assets) url(name string) string {
	hashed, ok := a.byName[name]
	if !ok {
		panic("ui: no static file " + name)
	}
	return staticPrefix + hashed
}

// ServeHTTP serves a static file, compressed when the browser takes gzip.
func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := a.files[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.typ)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Vary", "Accept-Encoding")
	body := f.body
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = f.gzipped
	}
	w.Write(body)
}
