package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/store"
)

// auditRecord is one line of /api/v1/audit.
type auditRecord struct {
	Time   time.Time   `json:"time"`
	Action auth.Action `json:"action"`
	Actor  string      `json:"actor"`
	Addr   string      `json:"addr"`
	Target string      `json:"target"`
	Detail string      `json:"detail"`
}

// maxAudit bounds one answer of /api/v1/audit.
const maxAudit = 1000

// audit answers the tenant's audit log over [from, to) (default: the last
// day), newest first, at most limit records (default and most: 1000).
// Records that concern no tenant (logins, password changes) are the
// default tenant's.
func (a *API) audit(r *http.Request, org string) (any, error) {
	from, to, err := a.window(r, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	limit := maxAudit
	if s := r.URL.Query().Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > maxAudit {
			return nil, badRequest("limit %q: want a whole number from 1 to %d", s, maxAudit)
		}
	}
	recs, err := auth.Audits.Read(r.Context(), a.Store, store.EventQuery{Tenant: org, Start: from, End: to, Limit: limit})
	out := make([]auditRecord, 0, len(recs))
	for _, d := range recs {
		v := d.Value
		out = append(out, auditRecord{Time: d.Event.Time, Action: v.Action, Actor: v.Actor, Addr: v.Addr, Target: v.Target, Detail: v.Detail})
	}
	return out, err
}
