package auth

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// JWTOptions accept the JWTs of one issuer as bearer credentials on every
// port, as a service mesh, a CI system or Kubernetes issues them to
// workloads: the token proves who the caller is, the auth: section says
// what it may do.
type JWTOptions struct {
	// Issuer is the iss every token must carry; its discovery document
	// (Issuer + /.well-known/openid-configuration) names its keys unless
	// JWKSURL does.
	Issuer string
	// Audience is an aud every token must carry: tokens the issuer made
	// for another service are refused.
	Audience string
	// JWKSURL, when set, is where the issuer's keys are, for issuers that
	// serve no discovery document.
	JWKSURL string
	// GroupsClaim names the claim listing the caller's groups; "" is
	// "groups".
	GroupsClaim string
}

// signingAlgs are the algorithms a JWT may be signed with: the asymmetric
// ones, whose keys an issuer publishes.
var signingAlgs = []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512, oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA}

// JWTs authenticates bearer JWTs of the configured issuer, verified
// against its published keys, its audience and expiry checked. The
// identity's grants are its subject's and its groups' in the auth:
// section.
type JWTs struct {
	opts      JWTOptions
	policy    func() *Policy
	now       func() time.Time
	discovery *discovery
	mu        sync.Mutex
	verifier  *oidc.IDTokenVerifier // once the keys are found; guarded by mu
}

// NewJWTs returns the authenticator of opts' issuer; policy returns the
// auth: section in force.
func NewJWTs(opts JWTOptions, policy func() *Policy, now func() time.Time) *JWTs {
	if opts.GroupsClaim == "" {
		opts.GroupsClaim = "groups"
	}
	a := &JWTs{opts: opts, policy: policy, now: now, discovery: &discovery{issuer: opts.Issuer}}
	if opts.JWKSURL != "" {
		keys := oidc.NewRemoteKeySet(context.Background(), opts.JWKSURL)
		a.verifier = oidc.NewVerifier(opts.Issuer, keys, a.config())
	}
	return a
}

func (a *JWTs) config() *oidc.Config {
	return &oidc.Config{ClientID: a.opts.Audience, SupportedSigningAlgs: signingAlgs, Now: a.now}
}

// Authenticate implements Authenticator.
func (a *JWTs) Authenticate(ctx context.Context, c Credentials) (*Identity, error) {
	if !isJWT(c.Bearer) {
		return nil, ErrNoCredential
	}
	v, err := a.verifierOf(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := v.Verify(ctx, c.Bearer)
	if err != nil {
		// go-oidc's reasons name claims and times, never the token.
		return nil, unauthenticated("invalid JWT: " + strings.TrimPrefix(err.Error(), "oidc: "))
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, unauthenticated("invalid JWT: its claims are not a JSON object")
	}
	p := a.policy()
	groups := stringsOf(claims[a.opts.GroupsClaim])
	var own Grants
	if p != nil {
		own = p.Subjects[tok.Subject]
	}
	g := p.GrantsOf(groups, own)
	if len(g) == 0 {
		return nil, &Error{Code: CodeForbidden, Msg: fmt.Sprintf("the JWT of %q holds no role in Vigil: map its subject (subjects:) or one of its groups (groups:) to roles in the auth: section", tok.Subject)}
	}
	return &Identity{Kind: KindJWT, Name: tok.Subject, Grants: g}, nil
}

// verifierOf is the verifier, once the issuer's keys are known.
func (a *JWTs) verifierOf(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.verifier != nil {
		return a.verifier, nil
	}
	p, err := a.discovery.provider(ctx)
	if err != nil {
		return nil, err
	}
	a.verifier = p.VerifierContext(context.Background(), a.config())
	return a.verifier, nil
}

// isJWT reports a compact JWS: three base64url parts, a JSON header first.
func isJWT(s string) bool {
	return strings.HasPrefix(s, "eyJ") && strings.Count(s, ".") == 2
}

// stringsOf reads a claim that lists names: an array of strings, or one
// string (some providers send a single group so).
func stringsOf(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, s := range v {
			if s, ok := s.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// discovery finds an OpenID provider's endpoints and keys once, when
// first needed, so Vigil starts while its provider is down and works once
// it answers.
type discovery struct {
	issuer string
	mu     sync.Mutex
	p      *oidc.Provider // once found; guarded by mu
}

// discoveryTimeout bounds one attempt to read the discovery document.
const discoveryTimeout = 10 * time.Second

func (d *discovery) provider(ctx context.Context) (*oidc.Provider, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.p != nil {
		return d.p, nil
	}
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	p, err := oidc.NewProvider(ctx, d.issuer)
	if err != nil {
		return nil, &Error{Code: CodeUnavailable, Msg: fmt.Sprintf("cannot reach the OpenID provider %s now: %v; retry later", d.issuer, err)}
	}
	d.p = p
	return p, nil
}
