package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// LoginLimit bounds failed logins for one key: Burst failures at once,
// then one more every Every. Only failures count, so a person who types
// the password right is never slowed by their own logins.
type LoginLimit struct {
	Burst int
	Every time.Duration
}

// LoginLimits bound failed logins per user name and per client address:
// the first stops guessing one account from many addresses, the second
// one address guessing many accounts.
type LoginLimits struct {
	User LoginLimit
	Addr LoginLimit
}

// DefaultLoginLimits: five failures per user, then one every 20 s;
// twenty per address, then one every 3 s.
var DefaultLoginLimits = LoginLimits{User: LoginLimit{Burst: 5, Every: 20 * time.Second}, Addr: LoginLimit{Burst: 20, Every: 3 * time.Second}}

// maxLimiterKeys bounds the keys remembered: full limiters (no failure
// left to forgive) are forgotten first, then any. User names are keys only
// when the user exists, so a flood of made-up names cannot push a real
// account's limiter out; addresses can be many, and are forgotten.
const maxLimiterKeys = 10000

type loginLimiter struct {
	user, addr *keyLimiter
}

func newLoginLimiter(l LoginLimits, now func() time.Time) *loginLimiter {
	if l.User.Burst <= 0 || l.Addr.Burst <= 0 {
		l = DefaultLoginLimits
	}
	return &loginLimiter{user: newKeyLimiter(l.User, now), addr: newKeyLimiter(l.Addr, now)}
}

// wait is how long a login for user (an existing user's name, or "")
// from addr must wait; 0: go ahead.
func (l *loginLimiter) wait(user, addr string) time.Duration {
	return max(l.user.wait(user), l.addr.wait(addr))
}

// failed counts a failed login for user (an existing user's name, or "")
// from addr.
func (l *loginLimiter) failed(user, addr string) {
	if user != "" {
		l.user.take(user)
	}
	l.addr.take(addr)
}

type keyLimiter struct {
	limit LoginLimit
	now   func() time.Time
	mu    sync.Mutex
	byKey map[string]*rate.Limiter // guarded by mu
}

func newKeyLimiter(l LoginLimit, now func() time.Time) *keyLimiter {
	return &keyLimiter{limit: l, now: now, byKey: map[string]*rate.Limiter{}}
}

// getLocked returns the key's limiter; the caller holds mu.
func (k *keyLimiter) getLocked(key string) *rate.Limiter {
	lim, ok := k.byKey[key]
	if !ok {
		if len(k.byKey) >= maxLimiterKeys {
			k.forgetFullLocked()
		}
		lim = rate.NewLimiter(rate.Every(k.limit.Every), k.limit.Burst)
		k.byKey[key] = lim
	}
	return lim
}

func (k *keyLimiter) forgetFullLocked() {
	now := k.now()
	for key, lim := range k.byKey {
		if lim.TokensAt(now) >= float64(k.limit.Burst) {
			delete(k.byKey, key)
		}
	}
	for key := range k.byKey { // map order is random: a tenth, any
		if len(k.byKey) < maxLimiterKeys*9/10 {
			break
		}
		delete(k.byKey, key)
	}
}

func (k *keyLimiter) wait(key string) time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	lim, ok := k.byKey[key]
	if !ok {
		return 0
	}
	tokens := lim.TokensAt(k.now())
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) * float64(k.limit.Every))
}

func (k *keyLimiter) take(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.getLocked(key).AllowN(k.now(), 1)
}
