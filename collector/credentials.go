package collector

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// ShipperCredentials lets log shippers present a Vigil API token the ways
// they can send one, by rewriting it as the bearer token the guard reads,
// before the guard decides:
//
//   - "Authorization: Splunk <token>": Splunk HEC's scheme (Fluent Bit's
//     splunk output, the OpenTelemetry collector's splunk_hec exporter);
//   - "Authorization: Basic": the token as the password, any user name
//     (rsyslog's omelasticsearch uid/pwd, syslog-ng's user()/password(),
//     Filebeat's and Logstash's username/password, Fluent Bit's
//     HTTP_User/HTTP_Passwd);
//   - "Authorization: ApiKey <base64 of id:token>" or "ApiKey <token>":
//     Elasticsearch API keys (Filebeat's api_key: "vigil:<token>",
//     Elastic's clients).
//
// A request that already carries a bearer token, or none of these, is
// passed on untouched. The token is never logged here; the guard checks
// it as any other.
func ShipperCredentials(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := shipperToken(r); tok != "" {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		next.ServeHTTP(w, r)
	})
}

func shipperToken(r *http.Request) string {
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok {
		return ""
	}
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "splunk":
		return cred
	case "basic":
		if _, pass, ok := r.BasicAuth(); ok {
			return pass
		}
	case "apikey":
		if b, err := base64.StdEncoding.DecodeString(cred); err == nil {
			if _, tok, ok := strings.Cut(string(b), ":"); ok {
				return tok
			}
		}
		return cred
	}
	return ""
}
