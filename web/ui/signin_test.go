package ui

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// signInPage loads the sign-in page, signed out, in light and dark: it
// wears the pages' stylesheet (the card's styles apply, and the colours
// follow the theme), has no serious or critical axe-core violation and
// logs no error; a screenshot of each joins the pages'.
func signInPage(t *testing.T, ctx context.Context, s *server, axe, shots string) {
	backgrounds := map[string]string{}
	for _, theme := range []string{"light", "dark"} {
		media := emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: theme}}}
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, media); err != nil {
			t.Fatal(err)
		}
		do(t, ctx, "sign-in page "+theme, chromedp.Navigate(s.url+"/login"), chromedp.WaitVisible(chromedp.CSS("main.signin #username")))
		if radius := eval[string](t, ctx, `getComputedStyle(document.querySelector("main.signin")).borderTopLeftRadius`); radius != "8px" {
			t.Errorf("the sign-in page (%s) is not styled as the pages: its card's radius is %q", theme, radius)
		}
		backgrounds[theme] = eval[string](t, ctx, `getComputedStyle(document.documentElement).backgroundColor`)
		checkAxe(t, ctx, "sign-in "+theme, axe)
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(shots, "signin-"+theme+".png"), png, 0o644)
		for _, e := range consoleOf[ctx].Take() {
			t.Errorf("sign-in (%s): %s", theme, e)
		}
	}
	if backgrounds["light"] == backgrounds["dark"] {
		t.Errorf("the sign-in page has the same background in light and dark: %s", backgrounds["light"])
	}
}
