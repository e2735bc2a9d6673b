package healthcheck

import (
	"context"

	"golang.org/x/sync/singleflight"
)

// Fresh shares one run of an on-demand check among the callers that ask
// for it while it runs (R25), the way golang.org/x/sync/singleflight
// shares a call. The zero Fresh is ready to use; it is safe for concurrent
// use.
type Fresh struct {
	g singleflight.Group
}

// Do runs check, or joins the run already in progress, and returns its
// result. The run is not tied to ctx: if ctx ends first, Do returns ctx's
// error and the run goes on for the other callers (check must bound
// itself, as a check under CheckTimeout does).
func (f *Fresh) Do(ctx context.Context, check func() (any, error)) (any, error) {
	ch := f.g.DoChan("", check)
	select {
	case r := <-ch:
		return r.Val, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
