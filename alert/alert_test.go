package alert

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestFingerprint(t *testing.T) {
	a := Fingerprint(map[string]string{"slo": "chat", "severity": "page"})
	b := Fingerprint(map[string]string{"severity": "page", "slo": "chat"})
	c := Fingerprint(map[string]string{"severity": "ticket", "slo": "chat"})
	if a != b || a == c || len(a) != 16 {
		t.Errorf("%s %s %s", a, b, c)
	}
}

func TestAlertmanagerRetries(t *testing.T) {
	var calls atomic.Int32
	var got []Alert
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/alerts" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "wrong request", 400)
			return
		}
		if calls.Add(1) < 3 { // two failures, then success
			http.Error(w, "overloaded", 503)
			return
		}
		json.NewDecoder(r.Body).Decode(&got)
	}))
	defer srv.Close()
	am := &Alertmanager{URL: srv.URL + "/", Backoff: time.Millisecond}
	start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	err := am.Notify(context.Background(), []Alert{{Labels: map[string]string{"alertname": "SLOBurnRateHigh"}, StartsAt: start}})
	if err != nil || calls.Load() != 3 || len(got) != 1 || !got[0].StartsAt.Equal(start) {
		t.Errorf("err %v, %d calls, got %+v", err, calls.Load(), got)
	}
	// A refusal is final; exhausted retries say how many attempts were made.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "invalid label", 400) }))
	defer bad.Close()
	if err := (&Alertmanager{URL: bad.URL, Backoff: time.Millisecond}).Notify(context.Background(), []Alert{{}}); err == nil || !strings.Contains(err.Error(), "invalid label") {
		t.Errorf("400: %v", err)
	}
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "", 502) }))
	defer down.Close()
	if err := (&Alertmanager{URL: down.URL, Backoff: time.Millisecond, Retries: 2}).Notify(context.Background(), []Alert{{}}); err == nil || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Errorf("502: %v", err)
	}
}
