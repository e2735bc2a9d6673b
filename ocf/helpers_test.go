package ocf

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
)

// world is the real world the fake resources of one test live in: what
// runs, by resource name. Every Open (every agent invocation, a fresh
// program in production) sees the same world, so state between actions
// is the world's, as it is for a real agent.
type world struct {
	mu      sync.Mutex
	running map[string]properties.Values // name → the values it runs with
	calls   []string                     // entry points called, "Online svc", in order
	opens   int                          // resources opened
	closes  int                          // resources closed (their Close ran)

	// Behaviours, set before the agent runs.
	openErr      error // the factory fails
	onlineErr    error
	offlineErr   error
	isAliveErr   error // IsAlive fails with it (not "not running")
	terminateErr error
	applyErr     error
	offlineLies  bool            // Offline returns nil and leaves the instance running
	hang         map[string]bool // entry points that block until their context ends
	kind         resKind         // which optional interfaces the resources have

	// entered receives the name of each entry point that hangs, once it has
	// been entered: the test's sync point before it moves the clock.
	entered chan string
	// release is closed when the test ends: hung calls return then.
	release chan struct{}
}

// resKind selects the optional interfaces of the world's resources.
type resKind uint8

const (
	kindFull       resKind = iota // Terminator, Detacher, PropertyOwner, io.Closer
	kindNoDetach                  // a Terminator without Detacher: refused
	kindBare                      // neither: closed as it is
	kindNoReloader                // Terminator and Detacher, no PropertyOwner
)

func newWorld(t *testing.T) *world {
	w := &world{
		running: make(map[string]properties.Values),
		hang:    make(map[string]bool),
		entered: make(chan string, 16),
		release: make(chan struct{}),
	}
	t.Cleanup(func() { close(w.release) })
	return w
}

func (w *world) record(call string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, call)
}

// called returns the entry points called so far.
func (w *world) called() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.calls)
}

// runs reports whether name runs, and with which values.
func (w *world) runs(name string) (properties.Values, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	v, ok := w.running[name]
	return v, ok
}

func (w *world) set(name string, vals properties.Values) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.running[name] = vals
}

func (w *world) stop(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.running, name)
}

// counts returns the opens and closes so far.
func (w *world) counts() (opens, closes int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.opens, w.closes
}

// block runs the hang of entry point op, if it hangs: it announces itself
// and waits for its context or the test's end.
func (w *world) block(ctx context.Context, op string) (bool, error) {
	if !w.hang[op] {
		return false, nil
	}
	w.entered <- op
	select {
	case <-ctx.Done():
		return true, ctx.Err()
	case <-w.release:
		return true, errors.New("released at the end of the test")
	}
}

// fakeRes is a resource of the world. Like the Process type, it owns the
// instance it started or found (adopted), and its Close stops an instance
// it owns unless detached.
type fakeRes struct {
	w    *world
	name string
	vals properties.Values

	mu       sync.Mutex
	owns     bool
	detached bool
}

func (r *fakeRes) Online(ctx context.Context) error {
	r.w.record("Online " + r.name)
	if hung, err := r.w.block(ctx, "Online"); hung {
		return err
	}
	if r.w.onlineErr != nil {
		return r.w.onlineErr
	}
	r.w.set(r.name, r.vals)
	r.mu.Lock()
	r.owns = true
	r.mu.Unlock()
	return nil
}

func (r *fakeRes) Offline(ctx context.Context) error {
	r.w.record("Offline " + r.name)
	if hung, err := r.w.block(ctx, "Offline"); hung {
		return err
	}
	if r.w.offlineErr != nil {
		return r.w.offlineErr
	}
	if !r.w.offlineLies {
		r.w.stop(r.name)
	}
	return nil
}

func (r *fakeRes) IsAlive(ctx context.Context) error {
	r.w.record("IsAlive " + r.name)
	if hung, err := r.w.block(ctx, "IsAlive"); hung {
		return err
	}
	if r.w.isAliveErr != nil {
		return r.w.isAliveErr
	}
	if _, ok := r.w.runs(r.name); !ok {
		return fmt.Errorf("fake %q: no instance: %w", r.name, resource.ErrNotRunning)
	}
	r.mu.Lock()
	r.owns = true
	r.mu.Unlock()
	return nil
}

func (r *fakeRes) Terminate(ctx context.Context) error {
	r.w.record("Terminate " + r.name)
	r.mu.Lock()
	detached := r.detached
	r.mu.Unlock()
	if detached {
		return nil // the Detacher contract: a detached resource leaves the instance alone
	}
	if hung, err := r.w.block(ctx, "Terminate"); hung {
		return err
	}
	if r.w.terminateErr != nil {
		return r.w.terminateErr
	}
	r.w.stop(r.name)
	return nil
}

func (r *fakeRes) Detach() {
	r.w.record("Detach " + r.name)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.detached = true
}

func (r *fakeRes) ApplyProperties(_ context.Context, vals properties.Values) error {
	r.w.record("ApplyProperties " + r.name)
	if r.w.applyErr != nil {
		return r.w.applyErr
	}
	if _, ok := r.w.runs(r.name); ok {
		r.w.set(r.name, vals)
	}
	return nil
}

func (r *fakeRes) Close() error {
	r.w.record("Close " + r.name)
	r.mu.Lock()
	kill := r.owns && !r.detached && r.w.terminateErr == nil // what Terminate cannot stop, Close cannot either
	r.mu.Unlock()
	if kill {
		r.w.stop(r.name) // as Process.Close kills what it runs
	}
	r.w.mu.Lock()
	r.w.closes++
	r.w.mu.Unlock()
	return nil
}

// noDetachRes has a Terminator but no Detacher.
type noDetachRes struct{ r *fakeRes }

func (n noDetachRes) Online(ctx context.Context) error    { return n.r.Online(ctx) }
func (n noDetachRes) Offline(ctx context.Context) error   { return n.r.Offline(ctx) }
func (n noDetachRes) IsAlive(ctx context.Context) error   { return n.r.IsAlive(ctx) }
func (n noDetachRes) Terminate(ctx context.Context) error { return n.r.Terminate(ctx) }
func (n noDetachRes) Close() error                        { return n.r.Close() }

// bareRes has only the three required entry points.
type bareRes struct{ r *fakeRes }

func (b bareRes) Online(ctx context.Context) error  { return b.r.Online(ctx) }
func (b bareRes) Offline(ctx context.Context) error { return b.r.Offline(ctx) }
func (b bareRes) IsAlive(ctx context.Context) error { return b.r.IsAlive(ctx) }

// noReloaderRes has a Terminator, a Detacher and a Close, but no
// PropertyOwner.
type noReloaderRes struct{ r *fakeRes }

func (n noReloaderRes) Online(ctx context.Context) error    { return n.r.Online(ctx) }
func (n noReloaderRes) Offline(ctx context.Context) error   { return n.r.Offline(ctx) }
func (n noReloaderRes) IsAlive(ctx context.Context) error   { return n.r.IsAlive(ctx) }
func (n noReloaderRes) Terminate(ctx context.Context) error { return n.r.Terminate(ctx) }
func (n noReloaderRes) Detach()                             { n.r.Detach() }
func (n noReloaderRes) Close() error                        { return n.r.Close() }

// fakeSchema has a property of every kind, reloadable ones, a read-only
// one, bounds and allowed values.
var fakeSchema = properties.MustSchema(
	properties.Property{Name: "Name", Kind: properties.String, Required: true, Unique: true,
		Description: "The instance's name.", Help: "What the instance calls itself."},
	properties.Property{Name: "Port", Kind: properties.Uint32, Default: uint32(8080), Min: uint32(1), Max: uint32(65535),
		Description: "The port it listens on."},
	properties.Property{Name: "Args", Kind: properties.MultiString, Description: "Its arguments."},
	properties.Property{Name: "Verbose", Kind: properties.Bool, Default: false, Reloadable: true},
	properties.Property{Name: "Level", Kind: properties.String, Default: "info", Allowed: []any{"debug", "info", "warn"},
		Reloadable: true, Description: "How much it logs."},
	properties.Property{Name: "Grace", Kind: properties.Duration, Default: 2 * time.Second, Max: time.Hour},
	properties.Property{Name: "Offset", Kind: properties.Int64, Min: int64(-5)},
	properties.Property{Name: "Quota", Kind: properties.Uint64},
	properties.Property{Name: "Key", Kind: properties.Binary},
	properties.Property{Name: "Serial", Kind: properties.String, ReadOnly: true, Default: "S-1"},
)

// plainSchema has no reloadable property.
var plainSchema = properties.MustSchema(
	properties.Property{Name: "Name", Kind: properties.String, Required: true},
)

// fakeType returns a resource type whose resources live in w.
func fakeType(t *testing.T, w *world, schema *properties.Schema) *resource.Type {
	t.Helper()
	typ, err := resource.NewType("Fake", schema, func(_ context.Context, name string, vals properties.Values) (resource.Resource, error) {
		if w.openErr != nil {
			return nil, w.openErr
		}
		w.mu.Lock()
		w.opens++
		w.mu.Unlock()
		r := &fakeRes{w: w, name: name, vals: vals}
		switch w.kind {
		case kindNoDetach:
			return noDetachRes{r}, nil
		case kindBare:
			return bareRes{r}, nil
		case kindNoReloader:
			return noReloaderRes{r}, nil
		}
		return r, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return typ
}

// newAgent returns an agent for the world's fake type with opts.
func newAgent(t *testing.T, w *world, schema *properties.Schema, opts Options) *Agent {
	t.Helper()
	a, err := New(fakeType(t, w, schema), opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// result is what one invocation answered.
type result struct {
	code           ExitCode
	stdout, stderr string
}

// reason returns the exit reason line's text, or "" when there is none.
func (r result) reason() string {
	for line := range strings.Lines(r.stderr) {
		if s, ok := strings.CutPrefix(line, defaultReasonPrefix); ok {
			return strings.TrimSuffix(s, "\n")
		}
	}
	return ""
}

// invoke runs one action of a with env.
func invoke(ctx context.Context, a *Agent, env []string, args ...string) result {
	var out, errs strings.Builder
	code := a.Run(ctx, args, env, &out, &errs)
	return result{code: code, stdout: out.String(), stderr: errs.String()}
}

// svcEnv is the environment of an invocation for the resource "svc" with
// the parameter Name set, and a 20 s time-out, plus extra variables.
func svcEnv(extra ...string) []string {
	return append([]string{
		"OCF_ROOT=/usr/lib/ocf",
		"OCF_RESOURCE_INSTANCE=svc",
		"OCF_RESKEY_Name=web",
		"OCF_RESKEY_CRM_meta_timeout=20000",
		"OCF_RESKEY_crm_feature_set=3.16.1",
	}, extra...)
}
