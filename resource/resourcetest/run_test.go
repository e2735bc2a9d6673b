package resourcetest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
)

// recT records what the suite reports.
type recT struct {
	mu     sync.Mutex
	errors []string
}

func (r *recT) Helper() {}
func (r *recT) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recT) Logf(string, ...any) {}
func (r *recT) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errors, "\n")
}

// daemon is a well-behaved resource: a goroutine while Online, stopped by
// Offline, Terminate and Close.
type daemon struct {
	mu     sync.Mutex
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

func (d *daemon) Online(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stop != nil {
		return nil
	}
	d.stop, d.done = make(chan struct{}), make(chan struct{})
	go func(stop, done chan struct{}) { <-stop; close(done) }(d.stop, d.done)
	return ctx.Err()
}

func (d *daemon) halt() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stop != nil {
		close(d.stop)
		<-d.done
		d.stop = nil
	}
}

func (d *daemon) Offline(context.Context) error   { d.halt(); return nil }
func (d *daemon) Terminate(context.Context) error { d.halt(); return nil }
func (d *daemon) IsAlive(context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stop == nil {
		return resource.ErrNotRunning
	}
	return nil
}
func (d *daemon) Close() error { d.halt(); d.closed = true; return nil }

func TestRunPassesGoodResource(t *testing.T) {
	r := &recT{}
	rt.Run(r, func(rt.T) resource.Resource { return &daemon{} }, rt.RunOptions{Grace: time.Second})
	assert.Empty(t, r.text())
	rt.Run(t, func(rt.T) resource.Resource { return &daemon{} }, rt.RunOptions{}) // and on a real *testing.T
}

// deaf's Online never finishes, and ignores its context being cancelled
// until the test releases it.
type deaf struct {
	daemon
	release chan struct{}
}

func (d *deaf) Online(ctx context.Context) error {
	<-ctx.Done()
	<-d.release
	return ctx.Err()
}

// sloppyClose fails its second Close.
type sloppyClose struct{ daemon }

func (s *sloppyClose) Close() error {
	if s.closed {
		return errors.New("already closed")
	}
	return s.daemon.Close()
}

// leaky starts a goroutine it never stops.
type leaky struct {
	daemon
	forever chan struct{}
}

func (l *leaky) Online(ctx context.Context) error {
	go func() { <-l.forever }()
	return l.daemon.Online(ctx)
}

// The suite fails, naming the rule and the fix, on bad resources.
func TestRunFailsBadResources(t *testing.T) {
	release := make(chan struct{})
	forever := make(chan struct{})
	defer close(forever)
	tests := []struct {
		name string
		open func() resource.Resource
		want []string
	}{
		{"ignores cancellation", func() resource.Resource { return &deaf{release: release} },
			[]string{"R11 cancellation", "Online did not return within", "watch ctx.Done()"}},
		{"Close not idempotent", func() resource.Resource { return &sloppyClose{} },
			[]string{"R42 Close twice", "a second Close returned already closed", "make Close idempotent"}},
		{"leaks a goroutine", func() resource.Resource { return &leaky{forever: forever} },
			[]string{"goroutine(s) still running after Close", "leaky).Online", "stop every goroutine"}},
		{"IsAlive after Offline is healthy", func() resource.Resource { return &alwaysAlive{} },
			[]string{"R7 IsAlive after Offline", "resource.ErrNotRunning"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recT{}
			rt.Run(r, func(rt.T) resource.Resource { return tt.open() }, rt.RunOptions{Grace: 100 * time.Millisecond, Timeout: 100 * time.Millisecond})
			for _, w := range tt.want {
				assert.Contains(t, r.text(), w)
			}
		})
	}
	close(release)
}

type alwaysAlive struct{ daemon }

func (*alwaysAlive) IsAlive(context.Context) error { return nil }
