package api

import (
	"net/http"
	"time"

	"github.com/vigil-dev/vigil/config"
)

// configProblem is one problem of a reading of the config directory.
type configProblem struct {
	File     string `json:"file"`
	Line     int    `json:"line,omitempty"`
	Field    string `json:"field,omitempty"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Text     string `json:"text"` // as vigil lint prints it: file:line: field: message
}

type configStatusJSON struct {
	Dir         string          `json:"config_dir"`
	Successful  bool            `json:"successful"`
	LastReload  time.Time       `json:"last_reload"`
	LastSuccess time.Time       `json:"last_success"`
	Problems    []configProblem `json:"problems"`
}

// configStatus answers how the last reading of the config directory went:
// whether it is the config in force, when the directory was read and when
// the config in force was, and the problems of the last reading. The
// config directory is the server's, the same for every tenant.
func (a *API) configStatus(r *http.Request, org string) (any, error) {
	st := config.Status{Successful: true}
	if a.ConfigStatus != nil {
		st = a.ConfigStatus()
	}
	out := configStatusJSON{Dir: st.Dir, Successful: st.Successful, LastReload: st.LastReload.UTC(), LastSuccess: st.LastSuccess.UTC(), Problems: []configProblem{}}
	for _, p := range st.Problems {
		out.Problems = append(out.Problems, configProblem{File: p.File, Line: p.Line, Field: p.Field, Severity: string(p.Severity), Message: p.Message, Text: p.String()})
	}
	return out, nil
}
