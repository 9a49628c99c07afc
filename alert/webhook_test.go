package alert

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func sample() []Alert {
	return []Alert{
		{Labels: map[string]string{"alertname": "SLOBurnRateHigh", "slo": "chat", "severity": "page"}, Annotations: map[string]string{"summary": "chat burns 20x"}, StartsAt: t0, EndsAt: t0.Add(3 * time.Minute)},
		{Labels: map[string]string{"alertname": "SLOBurnRateHigh", "slo": "search", "severity": "ticket"}, Annotations: map[string]string{"summary": "search burns 4x"}, StartsAt: t0.Add(-time.Hour), EndsAt: t0},
	}
}

// receiver records what it is sent.
func receiver(t *testing.T) (*httptest.Server, *[]*http.Request, *[][]byte) {
	var reqs []*http.Request
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reqs, bodies = append(reqs, r), append(bodies, b)
	}))
	t.Cleanup(srv.Close)
	return srv, &reqs, &bodies
}

func TestAlertmanagerFormatWebhook(t *testing.T) {
	srv, _, bodies := receiver(t)
	w := &Webhook{URL: srv.URL, Receiver: "oncall", ExternalURL: "http://vigil:8080", Now: func() time.Time { return t0 }}
	if _, err := w.Notify(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	json.Unmarshal((*bodies)[0], &raw)
	for _, k := range []string{"version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels", "commonLabels", "commonAnnotations", "externalURL", "alerts"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("payload lacks %s", k)
		}
	}
	var m WebhookMessage
	json.Unmarshal((*bodies)[0], &m)
	if m.Version != "4" || m.Status != "firing" || m.Receiver != "oncall" || m.GroupLabels["alertname"] != "SLOBurnRateHigh" ||
		m.CommonLabels["alertname"] != "SLOBurnRateHigh" || m.CommonLabels["slo"] != "" || m.GroupKey != `{}:{alertname="SLOBurnRateHigh"}` {
		t.Errorf("message %+v", m)
	}
	firing, resolved := m.Alerts[0], m.Alerts[1]
	if firing.Status != "firing" || !firing.EndsAt.IsZero() || resolved.Status != "resolved" || !resolved.EndsAt.Equal(t0) || firing.Fingerprint != Fingerprint(firing.Labels) {
		t.Errorf("alerts %+v", m.Alerts)
	}
	if !strings.Contains(string((*bodies)[0]), `"endsAt":"0001-01-01T00:00:00Z"`) {
		t.Errorf("a firing alert's endsAt must be the zero time: %s", (*bodies)[0])
	}
}

func TestSignedWebhook(t *testing.T) {
	srv, reqs, bodies := receiver(t)
	w := &Webhook{URL: srv.URL, Secret: "s3cret", Now: func() time.Time { return t0 }}
	if _, err := w.Notify(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	h, body := (*reqs)[0].Header, (*bodies)[0]
	if !strings.HasPrefix(h.Get(SignatureHeader), "sha256=") {
		t.Fatalf("headers %v", h)
	}
	if err := Verify("s3cret", h, body, t0.Add(time.Minute), 5*time.Minute); err != nil {
		t.Errorf("a fresh, intact request: %v", err)
	}
	if err := Verify("wrong", h, body, t0, 5*time.Minute); err == nil {
		t.Error("the wrong secret verified")
	}
	if err := Verify("s3cret", h, append(body, ' '), t0, 5*time.Minute); err == nil {
		t.Error("a changed body verified")
	}
	if err := Verify("s3cret", h, body, t0.Add(time.Hour), 5*time.Minute); err == nil || !strings.Contains(err.Error(), "replay") {
		t.Errorf("an hour-old request: %v", err)
	}
}

func TestSlack(t *testing.T) {
	srv, _, bodies := receiver(t)
	if _, err := (&Slack{URL: srv.URL, Now: func() time.Time { return t0 }}).Notify(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	var m struct{ Text string }
	json.Unmarshal((*bodies)[0], &m)
	want := ":large_green_circle: *RESOLVED* [ticket] search burns 4x\n:red_circle: *FIRING* [page] chat burns 20x"
	if m.Text != want {
		t.Errorf("got  %q\nwant %q", m.Text, want)
	}
}
