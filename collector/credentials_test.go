package collector

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestShipperCredentials(t *testing.T) {
	cases := []struct{ header, want string }{
		{"Splunk vigil_abc", "Bearer vigil_abc"},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("rsyslog:vigil_abc")), "Bearer vigil_abc"},
		{"ApiKey " + base64.StdEncoding.EncodeToString([]byte("vigil:vigil_abc")), "Bearer vigil_abc"},
		{"ApiKey vigil_abc", "Bearer vigil_abc"},
		{"Bearer vigil_xyz", "Bearer vigil_xyz"},
		{"Basic !!!", "Basic !!!"},
		{"", ""},
	}
	for _, c := range cases {
		var got string
		h := ShipperCredentials(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.Header.Get("Authorization") }))
		req := httptest.NewRequest("POST", "/_bulk", nil)
		if c.header != "" {
			req.Header.Set("Authorization", c.header)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
		if got != c.want {
			t.Errorf("%q became %q, want %q", c.header, got, c.want)
		}
	}
}
