package main

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// TestServeOpenAPI fetches the API's OpenAPI document from a running
// `vigil serve`, on the web port, as a client generator would.
func TestServeOpenAPI(t *testing.T) {
	v := startServe(t, "")
	defer v.stop(t)
	resp, err := http.Get("http://" + v.web + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api/v1/openapi.json: %d %q %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var doc struct {
		OpenAPI string                     `json:"openapi"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi %q, want 3.0.3", doc.OpenAPI)
	}
	for _, p := range []string{"/api/v1/slos", "/api/v1/cost", "/api/v1/openapi.json"} {
		if _, ok := doc.Paths[p]; !ok {
			t.Errorf("the document lists no %s", p)
		}
	}
}
