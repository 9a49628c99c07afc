package auth

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// TokenInfo is an API token as people see it, in `vigil token list` and
// at /api/v1/tokens: never its secret, which is not stored, nor its hash.
type TokenInfo struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Tenant    string     `json:"tenant"`
	Role      string     `json:"role"`
	Status    string     `json:"status"` // active, expired or revoked
	Created   time.Time  `json:"created"`
	CreatedBy string     `json:"created_by"`
	Expires   *time.Time `json:"expires"`
	LastUsed  *time.Time `json:"last_used"`
	Revoked   *time.Time `json:"revoked"`
}

// DescribeToken is what may be shown of a token at now.
func DescribeToken(t store.APIToken, now time.Time) TokenInfo {
	status := "active"
	switch {
	case !t.Revoked.IsZero():
		status = "revoked"
	case !t.Expires.IsZero() && !now.Before(t.Expires):
		status = "expired"
	}
	return TokenInfo{ID: t.ID, Name: t.Name, Tenant: t.Tenant, Role: t.Role, Status: status, Created: t.Created, CreatedBy: t.CreatedBy,
		Expires: timePtr(t.Expires), LastUsed: timePtr(t.LastUsed), Revoked: timePtr(t.Revoked)}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// ParseExpiry reads how long a new token lives: "never", whole days
// ("90d", as Argo CD and GitHub count token lifetimes) or a Go duration
// ("12h"). It returns the zero time for never.
func ParseExpiry(s string, now time.Time) (time.Time, error) {
	if s == "never" {
		return time.Time{}, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 {
			return now.AddDate(0, 0, n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("expires %q: want days (90d), a duration (12h) or never", s)
}
