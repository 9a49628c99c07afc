package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/store/embedded"
)

// pinger is a store whose readiness is set by the test; it reads nothing.
type pinger struct {
	store.Store // nil: only Ping answers
	err         error
}

func (p pinger) Ping(context.Context) error { return p.err }

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, string(body)
}

func TestHealthReadyMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_test_total", Help: "x"})
	reg.MustRegister(c)
	c.Inc()
	for _, tc := range []struct {
		store       error
		readyCode   int
		readySubstr string
	}{{nil, 200, "ready"}, {errors.New("connection refused"), 503, "connection refused"}} {
		s := &Server{opts: Options{Store: pinger{err: tc.store}, Gatherer: reg, Logger: slog.Default(), Guard: auth.Disabled()}}
		h := s.Handler()
		if code, body := get(t, h, "/healthz"); code != 200 || body != "ok\n" {
			t.Errorf("/healthz = %d %q", code, body)
		}
		if code, body := get(t, h, "/readyz"); code != tc.readyCode || !strings.Contains(body, tc.readySubstr) {
			t.Errorf("/readyz with store error %v = %d %q", tc.store, code, body)
		}
		if code, body := get(t, h, "/metrics"); code != 200 || !strings.Contains(body, "vigil_test_total 1") {
			t.Errorf("/metrics = %d %q", code, body)
		}
	}
}

// TestHomePage: signed out, / sends a browser to /login; with a
// credential, to the services page, which is the UI's with its strict
// policy; with auth disabled, straight to the services page.
func TestHomePage(t *testing.T) {
	st, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tok, _, err := auth.CreateToken(context.Background(), st, auth.TokenSpec{Tenant: "acme", Role: auth.Editor}, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{opts: Options{Store: st, Gatherer: prometheus.NewRegistry(), Logger: slog.Default(), Guard: auth.New(auth.Options{Store: st})}}
	h := s.Handler()
	r := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 303 || w.Header().Get("Location") != "/login" {
		t.Errorf("signed out: %d %v", w.Code, w.Header())
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 303 || w.Header().Get("Location") != "/services" {
		t.Errorf("signed in: %d %v", w.Code, w.Header())
	}
	r = httptest.NewRequest("GET", "/services", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if body := w.Body.String(); w.Code != 200 || !strings.Contains(body, "<h1>Services</h1>") ||
		!strings.Contains(w.Header().Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("services page: %d %v\n%s", w.Code, w.Header(), body)
	}
	off := &Server{opts: Options{Store: st, Gatherer: prometheus.NewRegistry(), Logger: slog.Default(), Guard: auth.Disabled()}}
	if code, _ := get(t, off.Handler(), "/"); code != 303 {
		t.Errorf("auth disabled: %d", code)
	}
}
