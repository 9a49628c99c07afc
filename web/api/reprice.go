package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/vigil-dev/vigil/cost"
	"github.com/vigil-dev/vigil/store"
)

// repriceRequest is the body of POST /api/v1/cost/reprice and
// /api/v1/admin/cost/reprice: vigil cost reprice's flags, with the price
// files' bytes, so the server prices with the table the caller built and
// not with its own --cost.price-file.
type repriceRequest struct {
	From       time.Time        `json:"from"`
	To         time.Time        `json:"to"`
	DryRun     bool             `json:"dry_run"`
	PriceFiles []cost.PriceFile `json:"price_files"`
}

// maxRepriceBytes bounds a repricing request: price files are at most a
// few MiB (LiteLLM's whole table is about one).
const maxRepriceBytes = 64 << 20

// reprice prices the model spans in a range again, in the request's tenant
// or, everyTenant, in every tenant (a route that needs admin of every
// tenant).
func (a *API) reprice(everyTenant bool) func(r *http.Request, org string) (any, error) {
	return func(r *http.Request, org string) (any, error) {
		var in repriceRequest
		dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxRepriceBytes))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return nil, badRequest("cannot read the repricing request: %v", err)
		}
		switch {
		case in.From.IsZero() || in.To.IsZero():
			return nil, badRequest("from and to are required (RFC 3339 times)")
		case !in.To.After(in.From):
			return nil, badRequest("to %s is not after from %s", in.To.Format(time.RFC3339), in.From.Format(time.RFC3339))
		}
		prices, err := cost.DefaultPriceTable(in.PriceFiles...)
		if err != nil {
			return nil, badRequest("price_files: %v", err)
		}
		q := store.RepriceQuery{Tenant: org, Start: in.From.UTC(), End: in.To.UTC()}
		if everyTenant {
			q.Tenant = ""
		}
		return cost.Reprice(r.Context(), a.Store, prices, q, in.DryRun)
	}
}
