package healthcheck_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"

	"github.com/resdll/resdll/healthcheck"
)

// R25: callers asking while a fresh check runs share its one run; a caller
// whose context ends stops waiting, and the run goes on.
func TestFreshShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var f healthcheck.Fresh
		var runs atomic.Int32
		release := make(chan struct{})
		check := func() (any, error) { runs.Add(1); <-release; return "ok", nil }
		results := make(chan any, 3)
		for range 3 {
			go func() { v, _ := f.Do(context.Background(), check); results <- v }()
		}
		ctx, cancel := context.WithCancel(context.Background())
		gaveUp := make(chan error, 1)
		go func() { _, err := f.Do(ctx, check); gaveUp <- err }()
		synctest.Wait()
		cancel()
		assert.ErrorIs(t, <-gaveUp, context.Canceled)
		close(release)
		for range 3 {
			assert.Equal(t, "ok", <-results)
		}
		assert.Equal(t, int32(1), runs.Load())
		v, _ := f.Do(context.Background(), check) // a later call runs again
		assert.Equal(t, "ok", v)
		assert.Equal(t, int32(2), runs.Load())
	})
}
