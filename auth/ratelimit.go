package auth

import (
	"context"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
	"google.golang.org/grpc/stats"
)

// rateLimiter keeps the token buckets of the auth: section's limits: one
// per tenant, and one per credential within a tenant. The guard takes
// from them after authorizing a request, so a request refused for want of
// a role costs nothing, and a tenant's limit cannot be spent by a caller
// that does not hold it. The collector's backpressure (pending items, the
// spool) is separate: it protects the store, these protect the tenants
// from each other.
type rateLimiter struct {
	now     func() time.Time
	limited *prometheus.CounterVec
	mu      sync.Mutex
	buckets map[bucketKey]*bucket // guarded by mu
}

// bucketKey is a tenant's bucket (credential "") or one credential's in it.
type bucketKey struct{ tenant, credential string }

// bucket is one Rate's limiters; nil where the rate sets no limit.
type bucket struct {
	rate            Rate
	requests, bytes *rate.Limiter
}

// maxBuckets bounds the credentials remembered, as the login limiter
// bounds its keys: full buckets (nothing spent) are forgotten first.
const maxBuckets = 10000

func newRateLimiter(reg prometheus.Registerer, now func() time.Time) *rateLimiter {
	limited := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_auth_rate_limited_total",
		Help: "Requests refused with 429 / RESOURCE_EXHAUSTED by the auth: section's rate limits, by tenant, by the limit spent (tenant or token) and its unit (requests or bytes)."},
		[]string{"tenant", "limit", "unit"})
	if reg != nil {
		reg.MustRegister(limited)
	}
	return &rateLimiter{now: now, limited: limited, buckets: map[bucketKey]*bucket{}}
}

func newBucket(r Rate) *bucket {
	b := &bucket{rate: r}
	if r.RequestsPerSecond > 0 {
		b.requests = rate.NewLimiter(rate.Limit(r.RequestsPerSecond), burstOf(int64(r.RequestsBurst), r.RequestsPerSecond))
	}
	if r.BytesPerSecond > 0 {
		b.bytes = rate.NewLimiter(rate.Limit(r.BytesPerSecond), burstOf(int64(r.BytesBurst), float64(r.BytesPerSecond)))
	}
	return b
}

// burstOf is a burst as set, or one second's worth.
func burstOf(burst int64, perSecond float64) int {
	if burst > 0 {
		return int(burst)
	}
	return max(1, int(math.Ceil(perSecond)))
}

// take spends one request of n bytes from the tenant's bucket and the
// credential's, or spends nothing and says how long to wait.
func (rl *rateLimiter) take(tenant, credential string, l Limits, n int64) *Error {
	now := rl.now()
	rl.mu.Lock()
	defer rl.mu.Unlock()
	var taken []*rate.Reservation
	for _, c := range []struct {
		key   bucketKey
		rate  Rate
		limit string
	}{{bucketKey{tenant, ""}, l.Tenant, "tenant"}, {bucketKey{tenant, credential}, l.Token, "token"}} {
		if c.rate == (Rate{}) {
			continue
		}
		b := rl.bucketLocked(c.key, c.rate)
		for _, u := range []struct {
			lim  *rate.Limiter
			n    int64
			unit string
		}{{b.requests, 1, "requests"}, {b.bytes, n, "bytes"}} {
			if u.lim == nil || u.n <= 0 {
				continue
			}
			// A request larger than the burst passes when the bucket is
			// full, rather than never.
			res := u.lim.ReserveN(now, int(min(u.n, int64(u.lim.Burst()))))
			if wait := res.DelayFrom(now); wait > 0 {
				res.CancelAt(now)
				for _, t := range taken {
					t.CancelAt(now)
				}
				rl.limited.WithLabelValues(tenant, c.limit, u.unit).Inc()
				return rateLimited(tenant, c.limit, u.unit, wait)
			}
			taken = append(taken, res)
		}
	}
	return nil
}

// owe spends n bytes read after the request was let in (a body of unknown
// length): the buckets go into debt, and the next requests wait.
func (rl *rateLimiter) owe(tenant, credential string, l Limits, n int64) {
	now := rl.now()
	rl.mu.Lock()
	defer rl.mu.Unlock()
	for _, c := range []struct {
		key  bucketKey
		rate Rate
	}{{bucketKey{tenant, ""}, l.Tenant}, {bucketKey{tenant, credential}, l.Token}} {
		if c.rate.BytesPerSecond == 0 {
			continue
		}
		if b := rl.bucketLocked(c.key, c.rate); b.bytes != nil {
			b.bytes.ReserveN(now, int(min(n, int64(b.bytes.Burst()))))
		}
	}
}

// bucketLocked returns the key's bucket, made anew when its rate changed
// with the config; the caller holds mu.
func (rl *rateLimiter) bucketLocked(key bucketKey, r Rate) *bucket {
	b, ok := rl.buckets[key]
	if ok && b.rate == r {
		return b
	}
	if !ok && len(rl.buckets) >= maxBuckets {
		rl.forgetLocked()
	}
	b = newBucket(r)
	rl.buckets[key] = b
	return b
}

// forgetLocked drops the buckets with nothing spent, then any, down to
// nine tenths of maxBuckets.
func (rl *rateLimiter) forgetLocked() {
	now := rl.now()
	full := func(l *rate.Limiter) bool { return l == nil || l.TokensAt(now) >= float64(l.Burst()) }
	for k, b := range rl.buckets {
		if full(b.requests) && full(b.bytes) {
			delete(rl.buckets, k)
		}
	}
	for k := range rl.buckets { // map order is random
		if len(rl.buckets) < maxBuckets*9/10 {
			break
		}
		delete(rl.buckets, k)
	}
}

func rateLimited(tenant, limit, unit string, wait time.Duration) *Error {
	who := fmt.Sprintf("tenant %q", tenant)
	if limit == "token" {
		who = fmt.Sprintf("this credential in tenant %q", tenant)
	}
	return &Error{Code: CodeRateLimited, RetryAfter: wait,
		Msg: fmt.Sprintf("rate limit: %s sent more %s per second than the auth: section allows; retry after %s", who, unit, wait.Round(time.Millisecond))}
}

// limit applies the rate limits to a request the guard let in, of n
// bytes (-1: not known yet).
func (g *Guard) limit(id *Identity, tenant string, n int64) (Limits, *Error) {
	l := g.policy().LimitsOf(tenant)
	if l == (Limits{}) {
		return l, nil
	}
	return l, g.limits.take(tenant, id.Subject(), l, max(n, 0))
}

// owingBody charges the bytes of a body of unknown length as they are
// read.
type owingBody struct {
	io.ReadCloser
	owe func(n int64)
}

func (b owingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.owe(int64(n))
	}
	return n, err
}

// inBytes is a gRPC stats handler that counts the bytes a call received:
// gRPC decodes a unary call's request, and reports its size to the stats
// handlers, before the interceptors run, so the guard can charge them.
type inBytes struct{}

type inBytesKey struct{}

func (inBytes) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, inBytesKey{}, new(atomic.Int64))
}

func (inBytes) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if p, ok := s.(*stats.InPayload); ok {
		if n, ok := ctx.Value(inBytesKey{}).(*atomic.Int64); ok {
			n.Add(int64(p.WireLength))
		}
	}
}

func (inBytes) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (inBytes) HandleConn(context.Context, stats.ConnStats)                       {}

// received is what inBytes counted for the call of ctx.
func received(ctx context.Context) int64 {
	if n, ok := ctx.Value(inBytesKey{}).(*atomic.Int64); ok {
		return n.Load()
	}
	return 0
}
