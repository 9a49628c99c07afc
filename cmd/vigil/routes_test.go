package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/vigil-dev/vigil/auth"
	"github.com/vigil-dev/vigil/collector/elastic"
	"github.com/vigil-dev/vigil/collector/jaeger"
	"github.com/vigil-dev/vigil/collector/otlp"
	"github.com/vigil-dev/vigil/collector/promrw"
	"github.com/vigil-dev/vigil/collector/splunk"
	"github.com/vigil-dev/vigil/store/embedded"
	"github.com/vigil-dev/vigil/web"
	"github.com/vigil-dev/vigil/web/keda"
)

// allowedBy lists, for each role a route may need, the roles that meet
// it: written out here, apart from auth's own logic, so the table test
// holds the guard to the policy rather than to itself.
var allowedBy = map[auth.Role][]auth.Role{
	auth.Viewer:   {auth.Viewer, auth.Editor, auth.Operator, auth.Admin},
	auth.Editor:   {auth.Editor, auth.Operator, auth.Admin},
	auth.Operator: {auth.Operator, auth.Admin},
	auth.Admin:    {auth.Admin},
	auth.Ingest:   {auth.Ingest, auth.Admin},
}

// credential is one caller of the table test: a role in one tenant, or
// none.
type credential struct {
	tenant string
	role   auth.Role // 0: no credential
	token  string
}

func (c credential) String() string {
	if c.token == "" {
		return "no credential"
	}
	return c.role.String() + "@" + c.tenant
}

// wantReached says whether a caller gets past the guard to a route.
func wantReached(c credential, need auth.Role, scope auth.Scope) bool {
	switch {
	case need == auth.Public:
		return true
	case c.token == "":
		return false
	case scope == auth.ServerScope && c.tenant != auth.AllTenants:
		return false
	}
	return slices.Contains(allowedBy[need], c.role)
}

// portRoutes are the route tables of the HTTP ports, as the real ports
// build them.
func portRoutes(t *testing.T, guard *auth.Guard, publicMetrics bool) map[string][]auth.Route {
	st := openStore(t)
	srv, err := web.New(web.Options{ListenAddr: "127.0.0.1:0", Store: st, Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler),
		Guard: guard, PublicMetrics: publicMetrics})
	if err != nil {
		t.Fatal(err)
	}
	srv.Shutdown(context.Background())
	return map[string][]auth.Route{
		"web":    srv.Handler().Routes(),
		"ingest": ingestMux(guard, &otlp.Receiver{}, &promrw.Receiver{}, &jaeger.Receiver{}, &elastic.Receiver{}, &splunk.Receiver{}).Routes(),
	}
}

func openStore(t *testing.T) *embedded.Store {
	st, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// callers are a token for every role in tenant acme and in every tenant,
// and no credential.
func callers(t *testing.T, st auth.Store) []credential {
	out := []credential{{}}
	for _, tenant := range []string{"acme", auth.AllTenants} {
		for _, r := range auth.Grantable {
			tok, _, err := auth.CreateToken(context.Background(), st, auth.TokenSpec{Tenant: tenant, Role: r}, "test", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, credential{tenant: tenant, role: r, token: tok})
		}
	}
	return out
}

// pathOf is a request path the pattern matches.
func pathOf(pattern string) string {
	return regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(strings.TrimSuffix(pattern, "{$}"), "x")
}

// TestRouteRoles sends every route of every HTTP port every caller, with
// auth on and off, and checks who gets through: generated from the route
// tables, so a new route is covered the moment it is registered (and one
// without a role cannot be registered at all).
func TestRouteRoles(t *testing.T) {
	st := openStore(t)
	// With an OpenID provider, so its sign-in routes are in the table too.
	on := auth.New(auth.Options{Store: st, OIDC: &auth.OIDCOptions{Issuer: "http://127.0.0.1:1", ClientID: "vigil", RedirectURL: "https://vigil.example.com/login/oidc/callback"}})
	who := callers(t, st)
	tables := portRoutes(t, on, false)
	if n := len(tables["web"]) + len(tables["ingest"]); n < 40 {
		t.Fatalf("only %d routes in the tables", n)
	}
	for port, routes := range tables {
		checkPolicy(t, port, routes)
		for _, guard := range []*auth.Guard{on, auth.Disabled()} {
			// The declared routes, each answering 204 when reached.
			mux := auth.NewMux(guard)
			for _, rt := range routes {
				rt.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
				mux.Handle(rt)
			}
			for _, rt := range routes {
				method := rt.Method
				if method == "" {
					method = "GET"
				}
				for _, c := range who {
					r := httptest.NewRequest(method, pathOf(rt.Pattern), nil)
					if c.token != "" {
						r.Header.Set("Authorization", "Bearer "+c.token)
					}
					rec := httptest.NewRecorder()
					mux.ServeHTTP(rec, r)
					want := !guard.Enabled() || wantReached(c, rt.Role, rt.Scope)
					if got := rec.Code == http.StatusNoContent; got != want {
						t.Errorf("%s %s (needs %s) as %s, auth on %v: %d %s", port, rt, rt.Role, c, guard.Enabled(), rec.Code, rec.Body)
					}
					if !want && c.token == "" && rec.Code != 401 || !want && c.token != "" && rec.Code != 403 {
						t.Errorf("%s %s as %s: %d, want %d", port, rt, c, rec.Code, map[bool]int{true: 401, false: 403}[c.token == ""])
					}
				}
			}
		}
	}
	// --web.public-metrics opens /metrics and the profiles, and nothing else.
	open := portRoutes(t, on, true)["web"]
	for i, rt := range tables["web"] {
		opened := rt.Role != auth.Public && open[i].Role == auth.Public
		if own := rt.Pattern == "/metrics" || strings.HasPrefix(rt.Pattern, "/debug/pprof/"); opened != own {
			t.Errorf("--web.public-metrics: %s is %s, was %s", rt, open[i].Role, rt.Role)
		}
	}
}

// checkPolicy holds a port's table to the rules: a route that changes
// something needs at least editor (ingest routes ingest), only health and
// sign-in are open, and only Vigil's own routes are server-wide (its
// metrics, profiles and config directory, the actions' kill switch,
// which holds in every tenant, and repricing every tenant's spans).
func checkPolicy(t *testing.T, port string, routes []auth.Route) {
	open := []string{"GET /healthz", "GET /readyz", "GET /{$}", "GET /login", "POST /login", "POST /logout", "GET /login/oidc", "GET /login/oidc/callback", "GET /api/v1/openapi.json", "GET /static/{file}", "GET /favicon.ico"}
	server := regexp.MustCompile(`^(GET (/metrics|/debug/pprof/.*|/api/v1/config/status)|POST /api/v1/actions/(pause|resume)|POST /api/v1/admin/cost/reprice)$`)
	// The Prometheus API takes long queries as form POSTs: reads.
	promRead := regexp.MustCompile(`^POST (/prometheus)?/api/v1/(query|query_range|query_exemplars|series|labels|label/\{name\}/values|format_query|parse_query)$`)
	for _, rt := range routes {
		name := rt.String()
		switch {
		case rt.Role == auth.Public && !slices.Contains(open, name) && !(rt.Pattern == "/metrics" || strings.HasPrefix(rt.Pattern, "/debug/pprof/")):
			t.Errorf("%s: %s is open to anyone", port, name)
		case port == "ingest" && rt.Role != auth.Ingest:
			t.Errorf("%s: %s needs %s, want ingest", port, name, rt.Role)
		case rt.Method != "GET" && rt.Role != auth.Public && rt.Role != auth.Ingest && !allowed(auth.Editor, rt.Role) && !promRead.MatchString(name):
			t.Errorf("%s: %s changes something but needs only %s", port, name, rt.Role)
		case (rt.Scope == auth.ServerScope) != server.MatchString(name) && rt.Role != auth.Public:
			t.Errorf("%s: %s has the wrong scope", port, name)
		}
	}
}

// allowed reports whether have is at least need on the viewer-to-admin
// ladder.
func allowed(need, have auth.Role) bool { return slices.Contains(allowedBy[need], have) }

// TestGRPCMethodRoles does for the gRPC ports what TestRouteRoles does for
// the HTTP ones: every declared method, every caller, through the guard's
// interceptors; and every method the real servers register is declared.
func TestGRPCMethodRoles(t *testing.T) {
	gs := grpc.NewServer()
	(&otlp.Receiver{}).RegisterGRPC(gs)
	var registered []string
	for svc, info := range gs.GetServiceInfo() {
		for _, m := range info.Methods {
			registered = append(registered, "/"+svc+"/"+m.Name)
		}
	}
	for _, m := range registered {
		if _, ok := otlp.GRPCMethods()[m]; !ok {
			t.Errorf("OTLP gRPC method %s declares no role", m)
		}
	}
	if len(keda.Methods()) != 5 {
		t.Errorf("KEDA methods: %v", keda.Methods())
	}

	st := openStore(t)
	// With an OpenID provider, so its sign-in routes are in the table too.
	on := auth.New(auth.Options{Store: st, OIDC: &auth.OIDCOptions{Issuer: "http://127.0.0.1:1", ClientID: "vigil", RedirectURL: "https://vigil.example.com/login/oidc/callback"}})
	who := callers(t, st)
	for name, methods := range map[string]auth.Methods{"otlp": otlp.GRPCMethods(), "keda": keda.Methods()} {
		for _, guard := range []*auth.Guard{on, auth.Disabled()} {
			conn := probeServer(t, guard, methods)
			for method, need := range methods {
				for _, c := range who {
					ctx := context.Background()
					if c.token != "" {
						ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.token)
					}
					err := invoke(ctx, conn, method)
					want := !guard.Enabled() || wantReached(c, need, auth.TenantScope)
					code := status.Code(err)
					switch {
					case want && err != nil, !want && c.token == "" && code != codes.Unauthenticated, !want && c.token != "" && code != codes.PermissionDenied:
						t.Errorf("%s %s (needs %s) as %s, auth on %v: %v", name, method, need, c, guard.Enabled(), err)
					}
				}
			}
		}
	}
}

// probeServer serves the methods behind the guard, each answering an
// empty message when reached; methods named Stream* are server streams.
func probeServer(t *testing.T, guard *auth.Guard, methods auth.Methods) *grpc.ClientConn {
	s := grpc.NewServer(guard.GRPC(methods)...)
	descs := map[string]*grpc.ServiceDesc{}
	for full := range methods {
		svc, method, _ := strings.Cut(strings.TrimPrefix(full, "/"), "/")
		d := descs[svc]
		if d == nil {
			d = &grpc.ServiceDesc{ServiceName: svc, HandlerType: (*any)(nil)}
			descs[svc] = d
		}
		if strings.HasPrefix(method, "Stream") {
			d.Streams = append(d.Streams, grpc.StreamDesc{StreamName: method, ServerStreams: true,
				Handler: func(any, grpc.ServerStream) error { return nil }})
			continue
		}
		d.Methods = append(d.Methods, grpc.MethodDesc{MethodName: method, Handler: func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
			in := new(emptypb.Empty)
			if err := dec(in); err != nil {
				return nil, err
			}
			return ic(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: full}, func(context.Context, any) (any, error) { return new(emptypb.Empty), nil })
		}})
	}
	for _, d := range descs {
		s.RegisterService(d, struct{}{})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// invoke calls a method with an empty message, as a unary call or as a
// server stream read to its end.
func invoke(ctx context.Context, conn *grpc.ClientConn, method string) error {
	if !strings.Contains(method, "/Stream") {
		return conn.Invoke(ctx, method, new(emptypb.Empty), new(emptypb.Empty))
	}
	s, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, method)
	if err == nil {
		err = s.SendMsg(new(emptypb.Empty))
	}
	if err == nil {
		err = s.CloseSend()
	}
	if err == nil {
		err = s.RecvMsg(new(emptypb.Empty))
	}
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
