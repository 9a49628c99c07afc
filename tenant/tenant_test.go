package tenant

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc/metadata"
)

func TestValidate(t *testing.T) {
	for _, ok := range []string{"", "acme", "team-a_b.c*(1)'!"} {
		if err := Validate(ok); err != nil {
			t.Errorf("Validate(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"a/b", "..", "with space", strings.Repeat("a", 151)} {
		if err := Validate(bad); err == nil {
			t.Errorf("Validate(%q) accepted", bad)
		}
	}
}

func TestFrom(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	if got, err := FromHTTP(r); got != "default" || err != nil {
		t.Errorf("no header: %q, %v", got, err)
	}
	r.Header.Set(Header, "acme")
	if got, err := FromHTTP(r); got != "acme" || err != nil {
		t.Errorf("header: %q, %v", got, err)
	}
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("x-scope-orgid", "globex"))
	if got, err := FromGRPC(ctx); got != "globex" || err != nil {
		t.Errorf("grpc: %q, %v", got, err)
	}
}
