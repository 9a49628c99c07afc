package demo

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/alert"
	"github.com/vigil-dev/vigil/collector/billing"
	"github.com/vigil-dev/vigil/store/embedded"
)

// The bill is FOCUS the real importer takes, every line of it, and its
// anomaly day stands out.
func TestBillImports(t *testing.T) {
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	data := Bill(day.AddDate(0, 0, -3), day.AddDate(0, 0, 1), day)
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if len(r) != len(rows[0]) {
			t.Fatalf("row %d has %d columns, the header %d", i, len(r), len(rows[0]))
		}
	}
	st, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sum, err := billing.ImportStream(context.Background(), st, "demo.csv", bytes.NewReader(data), billing.Options{Tenant: "default", Format: "focus"})
	if err != nil {
		t.Fatal(err)
	}
	if want := 4 * len(billLines(day, 1)); sum.Rows != want {
		t.Errorf("imported %+v, want %d rows", sum, want)
	}
	api := map[string]float64{}
	for _, r := range rows[1:] {
		if r[37] == "OpenAI API" {
			v, _ := strconv.ParseFloat(r[1], 64)
			api[r[12]] = v
		}
	}
	if a, b := api[day.Format(time.DateTime)], api[day.AddDate(0, 0, -1).Format(time.DateTime)]; a < 4*b {
		t.Errorf("the anomaly day's API spend %v is not far above the day before's %v", a, b)
	}
}

// The control endpoint acts only on Vigil's signature, once per key.
func TestControlNeedsSignature(t *testing.T) {
	f := &Fleet{routing: Routing{CanaryWeight: 0.25, StableVersion: "v1", CanaryVersion: "v2"}}
	c := &Control{Fleet: f, Secret: "s3cret"}
	srv := httptest.NewServer(c.Handler())
	defer srv.Close()
	body := []byte(`{"action":"a1","operation":"post"}`)
	post := func(secret string, key string) int {
		req, _ := http.NewRequest("POST", srv.URL+"/control/rollback", bytes.NewReader(body))
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set(alert.TimestampHeader, ts)
		req.Header.Set(alert.SignatureHeader, alert.Sign(secret, ts, body))
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("wrong", "k"); code != 401 || f.Routing().CanaryWeight != 0.25 {
		t.Fatalf("badly signed: %d, weight %v", code, f.Routing().CanaryWeight)
	}
	if code := post("s3cret", "k"); code != 200 || f.Routing().CanaryWeight != 0 {
		t.Fatalf("signed: %d, weight %v", code, f.Routing().CanaryWeight)
	}
	f.SetRouting(func(r *Routing) { r.CanaryWeight = 0.5 })
	if code := post("s3cret", "k"); code != 200 || f.Routing().CanaryWeight != 0.5 || len(c.State().Changes) != 1 {
		t.Fatalf("the same key again changed the fleet: %d, %+v", code, c.State())
	}
}

// The regressed canary is what the story says: most of its answers start
// after a second, few of the stable ones do.
func TestCanaryRegression(t *testing.T) {
	r := newRand(1)
	rt := Routing{StableVersion: "v1", CanaryVersion: "v2", CanaryWeight: 0.5, CanaryRegressed: true, StableReplicas: 2}
	slow := map[string]int{}
	n := map[string]int{}
	for range 20000 {
		q := NewRequest(r, time.Unix(0, 0), rt)
		if q.Deployment == "" || q.Err != "" {
			continue
		}
		n[q.Deployment]++
		if q.TTFT >= time.Second {
			slow[q.Deployment]++
		}
	}
	if s := float64(slow[Stable]) / float64(n[Stable]); s > 0.005 {
		t.Errorf("stable: %.4f slow", s)
	}
	if c := float64(slow[Canary]) / float64(n[Canary]); c < 0.6 {
		t.Errorf("canary: %.4f slow", c)
	}
}
