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
	am := &Alertmanager{URL: srv.URL + "/", Delivery: Delivery{Backoff: time.Millisecond}}
	start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	err := am.Notify(context.Background(), []Alert{{Labels: map[string]string{"alertname": "SLOBurnRateHigh"}, StartsAt: start}})
	if err != nil || calls.Load() != 3 || len(got) != 1 || !got[0].StartsAt.Equal(start) {
		t.Errorf("err %v, %d calls, got %+v", err, calls.Load(), got)
	}
	// A refusal is final; exhausted retries say how many attempts were made.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "invalid label", 400) }))
	defer bad.Close()
	if err := (&Alertmanager{URL: bad.URL, Delivery: Delivery{Backoff: time.Millisecond}}).Notify(context.Background(), []Alert{{}}); err == nil || !strings.Contains(err.Error(), "invalid label") {
		t.Errorf("400: %v", err)
	}
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "", 502) }))
	defer down.Close()
	if err := (&Alertmanager{URL: down.URL, Delivery: Delivery{Backoff: time.Millisecond, Retries: 2}}).Notify(context.Background(), []Alert{{}}); err == nil || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Errorf("502: %v", err)
	}
}

func TestDeliveryLog(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			http.Error(w, "overloaded", 503)
		}
	}))
	defer srv.Close()
	var log []Attempt
	al := Alert{Labels: map[string]string{"alertname": "SLOBurnRateHigh", "slo": "chat"}}
	wh := &Webhook{URL: srv.URL + "/hook?token=secret", Delivery: Delivery{Backoff: time.Millisecond, Observe: func(_ context.Context, a Attempt) { log = append(log, a) }}}
	if err := wh.Notify(context.Background(), []Alert{al}); err != nil {
		t.Fatal(err)
	}
	if len(log) != 3 {
		t.Fatalf("%d attempts logged, want 3: %+v", len(log), log)
	}
	for i, want := range []struct {
		status int
		final  bool
		failed bool
	}{{503, false, true}, {503, false, true}, {200, true, false}} {
		a := log[i]
		if a.Try != i+1 || a.Status != want.status || a.Final != want.final || (a.Error != "") != want.failed || a.Receiver != "webhook" ||
			a.URL != srv.URL || len(a.Fingerprints) != 1 || a.Fingerprints[0] != Fingerprint(al.Labels) || a.At.IsZero() || a.Latency <= 0 {
			t.Errorf("attempt %d: %+v", i, a)
		}
	}
	if got := redact("https://hooks.slack.com/services/T0/B0/XXXX"); got != "https://hooks.slack.com" {
		t.Errorf("slack URL logged as %s", got)
	}
}

// A network error names the receiver without the secret in its URL.
func TestDeliveryErrorsHideSecrets(t *testing.T) {
	var log []Attempt
	s := &Slack{URL: "http://127.0.0.1:1/services/T0SECRET/B0SECRET/XXXX?token=hunter2", Delivery: Delivery{Backoff: time.Millisecond, Retries: 1,
		Observe: func(_ context.Context, a Attempt) { log = append(log, a) }}}
	err := s.Notify(context.Background(), []Alert{{Labels: map[string]string{"alertname": "x"}}})
	if err == nil || strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error: %v", err)
	}
	for _, a := range log {
		if strings.Contains(a.Error, "SECRET") || strings.Contains(a.Error, "hunter2") || strings.Contains(a.URL, "SECRET") {
			t.Errorf("attempt logged with a secret: %+v", a)
		}
	}
	if len(log) != 2 {
		t.Errorf("%d attempts logged, want 2", len(log))
	}
}
