package wrapper

import (
	"runtime"
	"testing"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/healthcheck"
)

// Wrappers with the same clock, logger, checker, gate and schema share one
// env, which the check time-outs put on the checker's heap; the env is
// forgotten once no wrapper has it (issue 10).
func TestEnvInternedAndForgotten(t *testing.T) {
	key := func() env { // the wrappers are unreachable once it returns
		clk := clock.NewMock()
		checker := healthcheck.New(healthcheck.Options{Clock: clk})
		opts := Options{Clock: clk, Checker: checker}
		w1, err := New(healthy{}, opts)
		if err != nil {
			t.Fatal(err)
		}
		w2, err := New(healthy{}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if w1.env != w2.env {
			t.Fatal("two wrappers of one host have two envs")
		}
		if w1.env.timeouts != checker {
			t.Fatal("check time-outs are not on the checker's heap")
		}
		other, err := New(healthy{}, Options{Clock: clock.NewMock(), Checker: checker})
		if err != nil {
			t.Fatal(err)
		}
		if other.env == w1.env || other.env.timeouts == checker {
			t.Fatal("a wrapper on another clock shares the env, or times out on a heap of another clock")
		}
		return *w1.env
	}()
	for i := 0; i < 100 && envKnown(key); i++ {
		runtime.GC() // the cleanup runs after a collection found the env unreachable
		runtime.Gosched()
	}
	if envKnown(key) {
		t.Fatal("the env is still known after its wrappers were collected")
	}
}

func envKnown(e env) bool {
	envs.Lock()
	defer envs.Unlock()
	_, ok := envs.m[e]
	return ok
}
