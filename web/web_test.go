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

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/store"
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
