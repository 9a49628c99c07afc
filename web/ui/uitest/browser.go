// Package uitest starts headless Chromium (Debian's chromium) for the
// tests that drive Vigil's pages: the UI's own browser tests and the
// demo's end-to-end story in cmd/vigil. It is a test helper, as
// net/http/httptest is; nothing in the server imports it.
package uitest

import (
	"context"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium finds the browser; without one the test skips, or fails when
// VIGIL_TEST_STRICT is set (CI installs it with scripts/deps). Browser
// tests are not short.
func Chromium(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("VIGIL_TEST_STRICT") != "" {
		t.Fatal("chromium is not installed and VIGIL_TEST_STRICT is set: run scripts/deps as root")
	}
	t.Skip("chromium is not installed (scripts/deps installs it)")
	return ""
}

// Browser starts the Chromium at path with the flags the tests need and
// a fresh profile, at 1440×900, for at most within, collecting every
// console error and exception. It stops when the test ends.
func Browser(t testing.TB, path string, within time.Duration) (context.Context, *Console) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1440, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	ctx, cancelTimeout := context.WithTimeout(ctx, within)
	t.Cleanup(cancelTimeout)
	log := &Console{}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				log.add(m.String() + " (" + m.URL + ")")
			}
		}
	}()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1440, 900)); err != nil {
		t.Fatal(err)
	}
	return ctx, log
}

// Console holds the page errors a browser saw.
type Console struct {
	mu   sync.Mutex
	errs []string // guarded by mu
}

func (c *Console) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, s)
}

// Take returns the errors since the last Take.
func (c *Console) Take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.errs
	c.errs = nil
	return out
}

// Void runs an action for its effect, dropping its value, so that a
// Poll or an Evaluate can go in a chromedp.Do sequence.
func Void[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}
