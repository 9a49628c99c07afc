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

func TestAlertmanager(t *testing.T) {
	var got []Alert
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/alerts" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "wrong request", 400)
			return
		}
		json.NewDecoder(r.Body).Decode(&got)
	}))
	defer srv.Close()
	am := &Alertmanager{URL: srv.URL + "/"}
	start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	status, err := am.Notify(context.Background(), []Alert{{Labels: map[string]string{"alertname": "SLOBurnRateHigh"}, StartsAt: start}})
	if err != nil || status != 200 || len(got) != 1 || !got[0].StartsAt.Equal(start) || am.Name() != "alertmanager" || am.Target() != srv.URL {
		t.Errorf("status %d, err %v, got %+v", status, err, got)
	}
	// One call is one attempt; the answer says whether another may help.
	for _, tc := range []struct {
		status    int
		retryable bool
	}{{400, false}, {404, false}, {429, true}, {502, true}, {503, true}} {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			http.Error(w, "invalid label", tc.status)
		}))
		status, err := (&Alertmanager{URL: srv.URL}).Notify(context.Background(), []Alert{{}})
		srv.Close()
		if err == nil || status != tc.status || Retryable(status) != tc.retryable || calls.Load() != 1 || !strings.Contains(err.Error(), "invalid label") {
			t.Errorf("%d: status %d, err %v, %d calls", tc.status, status, err, calls.Load())
		}
	}
	if !Retryable(0) {
		t.Error("no answer at all must be retryable")
	}
}

// A network error names the receiver without the secret in its URL.
func TestErrorsHideSecrets(t *testing.T) {
	for _, url := range []string{
		"http://127.0.0.1:1/services/T0SECRET/B0SECRET/XXXX?token=hunter2",
		"http://user:SECRET@127.0.0.1:1/hook?token=hunter2",
		"http://127.0.0.1:1/\x7f/SECRET%zz?token=hunter2", // unparseable
	} {
		s := &Slack{URL: url}
		status, err := s.Notify(context.Background(), []Alert{{Labels: map[string]string{"alertname": "x"}}})
		if err == nil || status != 0 || strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error %v", url, err)
		}
		if strings.Contains(s.Target(), "SECRET") || strings.Contains(s.Target(), "hunter2") {
			t.Errorf("target %s", s.Target())
		}
	}
	if got := redact("https://hooks.slack.com/services/T0/B0/XXXX"); got != "https://hooks.slack.com" {
		t.Errorf("slack URL shown as %s", got)
	}
}
