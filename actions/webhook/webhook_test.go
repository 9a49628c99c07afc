package webhook

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/actions"
	"github.com/vigil-dev/vigil/alert"
)

// The action arrives signed, with its id as the idempotency key, and the
// receiver's answer is the result.
func TestPostsSignedAction(t *testing.T) {
	var got http.Header
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header
		body, _ = io.ReadAll(r.Body)
		if err := alert.Verify("s3cret", r.Header, body, time.Now(), time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.Write([]byte("flag chat-v2 off"))
	}))
	defer srv.Close()
	x := &Executor{Env: func(k string) string { return map[string]string{"HOOK_SECRET": "s3cret"}[k] }}
	req := actions.Request{Tenant: "acme", Action: "a1", Do: actions.Do{Executor: actions.Webhook, Operation: actions.OpPost, SecretEnv: "HOOK_SECRET",
		Target: actions.Target{Executor: actions.Webhook, URL: srv.URL + "/hooks/secret-path"}}}
	p, err := x.Plan(context.Background(), req)
	if err != nil || !strings.HasPrefix(p.Diff(), "POST http://127.0.0.1") || strings.Contains(p.Diff(), "secret-path") {
		t.Fatalf("plan %q %v", p.Diff(), err)
	}
	res, err := x.Apply(context.Background(), p)
	if err != nil || !strings.Contains(res, "flag chat-v2 off") {
		t.Fatalf("result %q %v", res, err)
	}
	if got.Get("Idempotency-Key") != "a1" || !strings.Contains(string(body), `"action":"a1"`) {
		t.Errorf("headers %v body %s", got, body)
	}
	x.Env = func(string) string { return "wrong" }
	if _, err := x.Apply(context.Background(), p); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("a bad signature: %v", err)
	}
}
