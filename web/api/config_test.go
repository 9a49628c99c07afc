package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/slo"
	"github.com/vigil-dev/vigil/store/embedded"
)

// TestCurrentConfig: SLOs and budgets are those the config holds at each
// request, so a reload reaches the next request.
func TestCurrentConfig(t *testing.T) {
	s, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mk := func(name string) *slo.SLO {
		return &slo.SLO{Name: name, Service: "chat", Objective: 0.99, Window: slo.TimeWindow{Duration: time.Hour, Rolling: true}, Method: "Occurrences"}
	}
	cfg := Config{SLOs: []*slo.SLO{mk("first")}}
	mux := auth.NewMux(auth.Disabled())
	(&API{Store: s, SLOs: []*slo.SLO{mk("static")}, Current: func() Config { return cfg }}).Register(mux)
	names := func(path string) []string {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		var out []struct{ Name string }
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 {
			t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		var got []string
		for _, o := range out {
			got = append(got, o.Name)
		}
		return got
	}
	if got := names("/api/v1/slos"); !reflect.DeepEqual(got, []string{"first"}) {
		t.Errorf("slos %v", got)
	}
	cfg = Config{SLOs: []*slo.SLO{mk("first"), mk("second")}, Budgets: []*cost.Budget{{Name: "gpu", Period: "month", Amount: decimal.RequireFromString("10"), Currency: "USD", Cost: "effective"}}}
	if got := names("/api/v1/slos"); !reflect.DeepEqual(got, []string{"first", "second"}) {
		t.Errorf("slos after a reload %v", got)
	}
	if got := names("/api/v1/budgets"); !reflect.DeepEqual(got, []string{"gpu"}) {
		t.Errorf("budgets after a reload %v", got)
	}
}
