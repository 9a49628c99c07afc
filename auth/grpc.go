package auth

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/vigil-dev/vigil/store"
	"github.com/vigil-dev/vigil/tenant"
)

// Methods declare the role of each method of a gRPC server, by full
// method name (/package.Service/Method): the gRPC form of the route table.
// A method not declared is refused.
type Methods map[string]Role

// GRPC returns the server options that put the guard in front of every
// call: a unary and a stream interceptor. Credentials come from the
// authorization metadata (Bearer), the tenant from x-scope-orgid.
func (g *Guard) GRPC(methods Methods) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			ctx, err := g.call(ctx, info.FullMethod, methods)
			if err != nil {
				return nil, err
			}
			return h(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			ctx, err := g.call(ss.Context(), info.FullMethod, methods)
			if err != nil {
				return err
			}
			return h(srv, &guardedStream{ServerStream: ss, ctx: ctx})
		}),
		grpc.StatsHandler(inBytes{}),
	}
}

type guardedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *guardedStream) Context() context.Context { return s.ctx }

// call decides one gRPC call and returns the context its handler runs in.
func (g *Guard) call(ctx context.Context, method string, methods Methods) (context.Context, error) {
	need, ok := methods[method]
	if !ok {
		return nil, status.Errorf(codes.PermissionDenied, "method %s declares no role", method)
	}
	if g.opts.Disabled {
		return ctx, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	c := Credentials{}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		c.Addr = clientAddr(p.Addr.String())
		if info, ok := p.AuthInfo.(credentials.TLSInfo); ok {
			c.Certificate = verifiedLeaf(&info.State)
		}
	}
	if scheme, tok, ok := strings.Cut(first(md, "authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		c.Bearer = strings.TrimSpace(tok)
	}
	requested := first(md, strings.ToLower(tenant.Header))
	id, t, err := g.decide(ctx, c, requested, need, TenantScope)
	if err == nil {
		// A unary call's request is received by now and charged; a
		// stream's messages are not.
		if _, e := g.limit(id, t, received(ctx)); e != nil {
			err = e
		}
	}
	if err != nil {
		return nil, g.refuseGRPC(ctx, method, c, id, requested, err)
	}
	ctx = context.WithValue(NewContext(ctx, id), grantKey{}, grant{guard: g, need: need, addr: c.Addr, method: method})
	return tenant.NewContext(ctx, t), nil
}

func first(md metadata.MD, key string) string {
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (g *Guard) refuseGRPC(ctx context.Context, method string, c Credentials, id *Identity, requested string, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		g.storeFailed(method, err)
		return status.Error(codes.Unavailable, storeDown)
	}
	switch e.Code {
	case CodeForbidden:
		g.forbidden(ctx, id, c.Addr, method, requested, e.Msg)
	case CodeUnavailable:
		g.storeFailed(method, err)
	}
	return e.GRPCStatus().Err()
}

type grantKey struct{}

// grant is what the guard let a call do, kept for Narrow.
type grant struct {
	guard  *Guard
	need   Role
	addr   string
	method string
}

// Narrow resolves a tenant that a call names in its message rather than
// in x-scope-orgid (KEDA's trigger metadata), by the rules the guard
// applies to the header: it must be a tenant the caller holds the call's
// role in. With auth disabled it is the tenant named, or the default.
func Narrow(ctx context.Context, requested string) (string, error) {
	gr, ok := ctx.Value(grantKey{}).(grant)
	if !ok {
		if err := tenant.Validate(requested); err != nil {
			return "", status.Error(codes.InvalidArgument, err.Error())
		}
		if requested == "" {
			return store.DefaultTenant, nil
		}
		return requested, nil
	}
	if requested == "" {
		return tenant.FromGRPC(ctx)
	}
	id := FromContext(ctx)
	t, err := id.Tenant(requested)
	if err == nil && !id.Grants.Allows(t, gr.need) {
		err = &Error{Code: CodeForbidden, Msg: "this needs the " + gr.need.String() + " role in tenant \"" + t + "\""}
	}
	if err != nil {
		return "", gr.guard.refuseGRPC(ctx, gr.method, Credentials{Addr: gr.addr}, id, requested, err)
	}
	return t, nil
}
