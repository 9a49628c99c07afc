package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/vigil-dev/vigil/auth"
)

// TokenRequest is a new token's tenant, role and lifetime (90d, 12h or
// never), as POST /api/v1/tokens takes them.
type TokenRequest struct {
	Name    string `json:"name,omitempty"`
	Tenant  string `json:"tenant,omitempty"`
	Role    string `json:"role"`
	Expires string `json:"expires,omitempty"`
}

// CreatedToken is a new token and its secret, shown once.
type CreatedToken struct {
	Token string `json:"token"`
	auth.TokenInfo
}

// Tokens lists the tokens the caller manages (GET /api/v1/tokens); a
// tenant other than "" keeps that tenant's.
func (c *Client) Tokens(ctx context.Context, tenant string) ([]auth.TokenInfo, error) {
	q := url.Values{}
	if tenant != "" {
		q.Set("tenant", tenant)
	}
	var out []auth.TokenInfo
	return out, c.Get(ctx, "/api/v1/tokens", q, &out)
}

// CreateToken makes a token (POST /api/v1/tokens).
func (c *Client) CreateToken(ctx context.Context, req TokenRequest) (CreatedToken, error) {
	var out CreatedToken
	return out, c.Post(ctx, "/api/v1/tokens", nil, req, &out)
}

// RevokeToken revokes a token (DELETE /api/v1/tokens/{id}).
func (c *Client) RevokeToken(ctx context.Context, id string) (auth.TokenInfo, error) {
	var out auth.TokenInfo
	return out, c.do(ctx, http.MethodDelete, "/api/v1/tokens/"+url.PathEscape(id), nil, nil, nil, &out)
}
