package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
)

// reads runs a page's store reads in parallel, each under the request's
// context (so they stop when the browser goes away) and the panel
// timeout. A read that fails leaves a message for its panel; the others
// go on.
type reads struct {
	u   *UI
	ctx context.Context
	wg  sync.WaitGroup
}

func (u *UI) reads(r *http.Request) *reads { return &reads{u: u, ctx: r.Context()} }

// do runs f; when it fails, *problem says what could not be shown and why.
func (rs *reads) do(problem *string, what string, f func(ctx context.Context) error) {
	rs.wg.Add(1)
	go func() {
		defer rs.wg.Done()
		ctx, cancel := context.WithTimeout(rs.ctx, rs.u.opts.PanelTimeout)
		defer cancel()
		err := f(ctx)
		switch {
		case err == nil:
		case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded:
			*problem = fmt.Sprintf("%s did not load within %s: the store is slow now; try a shorter range.", what, rs.u.opts.PanelTimeout)
		case rs.ctx.Err() != nil:
			*problem = what + " was not loaded: the request was cancelled."
		default:
			rs.u.log.Warn("a panel's read failed", "panel", what, "err", err)
			*problem = fmt.Sprintf("%s could not load: %v", what, err)
		}
	}()
}

// wait waits for every read.
func (rs *reads) wait() { rs.wg.Wait() }
