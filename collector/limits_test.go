package collector

import (
	"testing"
	"time"
)

func TestTenantLimiter(t *testing.T) {
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	timeNow = func() time.Time { return now }
	defer func() { timeNow = time.Now }()
	l := NewTenantLimiter(100, 200)
	if !l.Allow("acme", 150) || l.Allow("acme", 100) {
		t.Fatal("burst of 200 not enforced")
	}
	if !l.Allow("globex", 200) {
		t.Error("tenants share a budget")
	}
	now = now.Add(time.Second) // 50 left and 100 more
	if !l.Allow("acme", 150) || l.Allow("acme", 1) {
		t.Error("refill of 100/s not enforced")
	}
	now = now.Add(10 * time.Second)
	if !l.Allow("acme", 5000) {
		t.Error("a request larger than the burst is refused even with a full bucket")
	}
	var none *TenantLimiter = NewTenantLimiter(0, 0)
	if !none.Allow("acme", 1e9) {
		t.Error("no limit refused")
	}
}
