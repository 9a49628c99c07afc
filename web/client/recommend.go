package client

import (
	"context"
	"net/url"
	"time"

	"github.com/vigil-dev/vigil/analyzer/rightsize"
)

// RecommendationQuery selects right-sizing recommendations; empty fields
// are not sent, and the server applies its defaults (strategy simple, the
// 14 days before now).
type RecommendationQuery struct {
	Strategy, Profile                    string
	Namespace, Kind, Workload, Container string
	From, To                             time.Time
}

// Recommendations asks GET /api/v1/recommendations.
func (c *Client) Recommendations(ctx context.Context, q RecommendationQuery) ([]rightsize.Recommendation, error) {
	v := url.Values{}
	for k, s := range map[string]string{"strategy": q.Strategy, "profile": q.Profile, "namespace": q.Namespace,
		"kind": q.Kind, "workload": q.Workload, "container": q.Container} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if !q.From.IsZero() {
		v.Set("from", q.From.UTC().Format(time.RFC3339Nano))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.UTC().Format(time.RFC3339Nano))
	}
	var out struct {
		Recommendations []rightsize.Recommendation `json:"recommendations"`
	}
	if err := c.Get(ctx, "/api/v1/recommendations", v, &out); err != nil {
		return nil, err
	}
	return out.Recommendations, nil
}
