package collector

import (
	"sync"

	"golang.org/x/time/rate"
)

// TenantLimiter bounds each tenant's ingest rate in items per second, with
// a burst; tenants never share a budget.
type TenantLimiter struct {
	rate  rate.Limit
	burst int

	mu       sync.Mutex
	limiters map[string]*rate.Limiter // guarded by mu
}

// NewTenantLimiter allows each tenant perSecond items a second, and bursts
// of up to burst items. perSecond <= 0 means no limit (a nil limiter).
func NewTenantLimiter(perSecond float64, burst int) *TenantLimiter {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = int(perSecond)
	}
	return &TenantLimiter{rate: rate.Limit(perSecond), burst: burst, limiters: map[string]*rate.Limiter{}}
}

// Allow reports whether the tenant may ingest n items now, and takes them
// from its budget if so. A request larger than the burst is let through
// when the bucket is full, so a limit never makes a request impossible.
func (l *TenantLimiter) Allow(tenant string, n int) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	lim, ok := l.limiters[tenant]
	if !ok {
		lim = rate.NewLimiter(l.rate, l.burst)
		l.limiters[tenant] = lim
	}
	l.mu.Unlock()
	if n > l.burst {
		n = l.burst
	}
	return lim.AllowN(timeNow(), n)
}
