package client

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/vigil-dev/vigil/collector/billing"
	"github.com/vigil-dev/vigil/cost"
)

// ImportBilling sends one bill, read from r as it uploads, to POST
// /api/v1/billing/import under name (which the summary reports, as a
// local import reports the path it was given) and returns its summary.
func (c *Client) ImportBilling(ctx context.Context, name, format string, r io.Reader) (billing.Summary, error) {
	q := url.Values{"name": {name}}
	if format != "" {
		q.Set("format", format)
	}
	var out []billing.Summary
	if err := c.PostStream(ctx, "/api/v1/billing/import", q, "application/octet-stream", r, &out); err != nil {
		return billing.Summary{}, err
	}
	if len(out) != 1 {
		return billing.Summary{}, fmt.Errorf("%s answered %d summaries for one file", c.server, len(out))
	}
	return out[0], nil
}

// RepriceRequest is what to reprice: vigil cost reprice's flags, with the
// price files' bytes (the server prices with them, not its own table).
type RepriceRequest struct {
	From       time.Time        `json:"from"`
	To         time.Time        `json:"to"`
	DryRun     bool             `json:"dry_run"`
	PriceFiles []cost.PriceFile `json:"price_files,omitempty"`
}

// Reprice asks POST /api/v1/cost/reprice (the client's tenant) or, with
// everyTenant, POST /api/v1/admin/cost/reprice.
func (c *Client) Reprice(ctx context.Context, q RepriceRequest, everyTenant bool) (*cost.RepriceReport, error) {
	path := "/api/v1/cost/reprice"
	if everyTenant {
		path = "/api/v1/admin/cost/reprice"
	}
	var rep cost.RepriceReport
	if err := c.Post(ctx, path, nil, q, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}
