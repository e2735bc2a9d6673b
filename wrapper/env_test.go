package wrapper

import (
	"runtime"
	"testing"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/healthcheck"
)

// Wrappers with the same clock, logger, checker, gate and schema share one
// env, which the check time-outs put on the checker's heap; the env is
// forgotten once no wrapper has it (issue 10).
func TestEnvInternedAndForgotten(t *testing.T) {
	key := func() envKey { // the wrappers are unreachable once it returns
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
		if w1.core.env != w2.core.env {
			t.Fatal("two wrappers of one host have two envs")
		}
		if w1.core.env.timeouts != checker {
			t.Fatal("check time-outs are not on the checker's heap")
		}
		other, err := New(healthy{}, Options{Clock: clock.NewMock(), Checker: checker})
		if err != nil {
			t.Fatal(err)
		}
		if other.core.env == w1.core.env || other.core.env.timeouts == checker {
			t.Fatal("a wrapper on another clock shares the env, or times out on a heap of another clock")
		}
		return w1.core.env.envKey
	}()
	for i := 0; i < 100 && envKnown(key); i++ {
		runtime.GC() // the cleanup runs after a collection found the env unreachable
		runtime.Gosched()
	}
	if envKnown(key) {
		t.Fatal("the env is still known after its wrappers were collected")
	}
}

func envKnown(k envKey) bool {
	envs.Lock()
	defer envs.Unlock()
	_, ok := envs.m[k]
	return ok
}

// The epoch is not part of an env's key: wrappers made at different times
// of one clock share their env, and its epoch is the first one's (issue
// 10).
func TestEnvEpochNotInKey(t *testing.T) {
	clk := clock.NewMock()
	start := clk.Now()
	opts := Options{Clock: clk, Checker: healthcheck.New(healthcheck.Options{Clock: clk})}
	w1, err := New(healthy{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour)
	w2, err := New(healthy{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if w1.core.env != w2.core.env {
		t.Fatal("wrappers made an hour apart on one clock have two envs")
	}
	if w1.core.env.epoch != start {
		t.Fatalf("the epoch is %v, want the first wrapper's time %v", w1.core.env.epoch, start)
	}
}

// A stamp gives back the instant it was made of, read through any later
// reading of the clock: a mock clock's exactly (==, as the events and
// Status gave it before stamps), a real clock's with its monotonic
// reading; stamps order as their instants; the zero stamp is the zero time
// (issue 10).
func TestStamp(t *testing.T) {
	mock := &env{epoch: time.Unix(0, 0)} // clock.NewMock's start
	if got := mock.timeOf(0, mock.epoch); !got.IsZero() {
		t.Errorf("the zero stamp is %v, want the zero time", got)
	}
	const year = 365 * 24 * time.Hour
	for _, d := range []time.Duration{0, 1, -1, time.Hour, -time.Hour, 200 * year, -200 * year} {
		in := mock.epoch.Add(d)
		s := mock.stampOf(in)
		if s == 0 {
			t.Errorf("%v: the zero stamp", d)
		}
		for _, now := range []time.Time{in, mock.epoch, in.Add(time.Hour), in.Add(80 * year)} {
			if got := mock.timeOf(s, now); got != in {
				t.Errorf("%v: %#v came back through %v as %#v", d, in, now, got)
			}
		}
		if before, after := mock.stampOf(in.Add(-1)), mock.stampOf(in.Add(1)); !(before < s && s < after) {
			t.Errorf("%v: stamps %d, %d, %d of instants 1 ns apart are out of order", d, before, s, after)
		}
	}
	rc := &env{epoch: time.Now()}
	in := time.Now()
	got := rc.timeOf(rc.stampOf(in), time.Now())
	if got.Sub(in) != 0 || !got.Equal(in) {
		t.Errorf("%v came back as %v", in, got)
	}
	if got == got.Round(0) {
		t.Errorf("%v lost its monotonic reading", got)
	}
}
