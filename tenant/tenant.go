// Package tenant owns how a request names its tenant: the X-Scope-OrgID
// header (x-scope-orgid gRPC metadata), as Mimir, Loki and Tempo use it,
// with the same validity rules. With auth on, the tenant comes from the
// caller's identity and the header may only narrow it (package auth); the
// guard puts the result in the request's context, where FromHTTP and
// FromGRPC read it first.
package tenant

import (
	"context"
	"fmt"
	"net/http"

	"google.golang.org/grpc/metadata"

	"github.com/vigil-dev/vigil/store"
)

// Header selects the tenant.
const Header = "X-Scope-OrgID"

// maxLen follows Mimir's limit on tenant ids.
const maxLen = 150

// InvalidError says why a tenant id was refused; it is the client's fault.
type InvalidError struct{ msg string }

func (e *InvalidError) Error() string { return e.msg }

// Validate checks a tenant id the way Mimir does: at most 150 of
// [a-zA-Z0-9!-_.*'()], and not "." or "..". The empty id is valid: it
// means the default tenant.
func Validate(t string) error {
	if len(t) > maxLen {
		return &InvalidError{fmt.Sprintf("tenant id is longer than %d characters", maxLen)}
	}
	if t == "." || t == ".." {
		return &InvalidError{fmt.Sprintf("tenant id %q is not allowed", t)}
	}
	for _, r := range t {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '!' || r == '-' || r == '_' || r == '.' || r == '*' || r == '\'' || r == '(' || r == ')'
		if !ok {
			return &InvalidError{fmt.Sprintf("tenant id %q has the character %q, allowed are letters, digits and !-_.*'()", t, r)}
		}
	}
	return nil
}

func orDefault(t string) string {
	if t == "" {
		return store.DefaultTenant
	}
	return t
}

type contextKey struct{}

// NewContext returns ctx carrying the tenant a request acts in, as the
// auth guard resolved it from the caller's identity.
func NewContext(ctx context.Context, t string) context.Context {
	return context.WithValue(ctx, contextKey{}, t)
}

func fromContext(ctx context.Context) (string, bool) {
	t, ok := ctx.Value(contextKey{}).(string)
	return t, ok
}

// FromHTTP returns the request's tenant: the one the auth guard resolved,
// or with auth disabled the X-Scope-OrgID header's.
func FromHTTP(r *http.Request) (string, error) {
	if t, ok := fromContext(r.Context()); ok {
		return t, nil
	}
	t := r.Header.Get(Header)
	return orDefault(t), Validate(t)
}

// FromGRPC returns the call's tenant: the one the auth guard resolved, or
// with auth disabled the x-scope-orgid metadata's.
func FromGRPC(ctx context.Context) (string, error) {
	if t, ok := fromContext(ctx); ok {
		return t, nil
	}
	var t string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("x-scope-orgid"); len(v) > 0 {
			t = v[0]
		}
	}
	return orDefault(t), Validate(t)
}
