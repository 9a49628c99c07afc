package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"go.yaml.in/yaml/v3"
)

// openAPIYAML is the OpenAPI 3.0.3 document of /api/v1, written by hand
// next to the handlers it describes: YAML reads better than JSON for a
// document people edit, and the tests hold it to the routes and to real
// responses.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// openAPIJSON converts the document once, on first request. An error
// means the embedded file is broken, which the package's tests catch.
var openAPIJSON = sync.OnceValues(func() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(openAPIYAML, &doc); err != nil {
		return nil, fmt.Errorf("cannot parse the embedded openapi.yaml: %w", err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("cannot convert the embedded openapi.yaml to JSON: %w", err)
	}
	return b, nil
})

// serveOpenAPI answers GET /api/v1/openapi.json. The document is the same
// for every tenant, so it reads no X-Scope-OrgID.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	b, err := openAPIJSON()
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	w.Write(b)
}
