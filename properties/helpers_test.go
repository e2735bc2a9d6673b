package properties_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/properties"
)

// testSchema declares the private properties of an SMTP virtual server:
// every kind, bounds, allowed values, flags and a validator (R50).
func testSchema() *properties.Schema {
	return properties.MustSchema(
		properties.Property{Name: "VirtualServer", Kind: properties.String, Required: true, MaxSize: 64,
			Description: "the SMTP virtual server", Help: "Name of the virtual server this resource switches."},
		properties.Property{Name: "Port", Kind: properties.Uint32, Default: uint32(25), Min: uint32(1), Max: uint32(65535), Unique: true},
		properties.Property{Name: "Protocols", Kind: properties.MultiString, Default: []string{"smtp"}},
		properties.Property{Name: "Instance", Kind: properties.Int64, Min: int64(-5)},
		properties.Property{Name: "MaxMessage", Kind: properties.Uint64},
		properties.Property{Name: "Verbose", Kind: properties.Bool, Default: false, Reloadable: true},
		properties.Property{Name: "Timeout", Kind: properties.Duration, Default: 30 * time.Second, Min: time.Second, Max: time.Hour, Reloadable: true},
		properties.Property{Name: "Mode", Kind: properties.String, Allowed: []any{"active", "passive"}},
		properties.Property{Name: "Certificate", Kind: properties.Binary, ReadOnly: true},
		properties.Property{Name: "Hostname", Kind: properties.String, Validate: func(v any) error {
			if strings.ContainsAny(v.(string), " \t") {
				return &properties.PropertyError{Problem: "host name " + v.(string) + " has white space", Allowed: "a DNS host name"}
			}
			return nil
		}},
	)
}

// vals builds Values or fails the test.
func vals(t testing.TB, m map[string]any) properties.Values {
	t.Helper()
	v, err := properties.NewValues(m)
	require.NoError(t, err)
	return v
}

// app is a fake application configuration: a SyncReader whose values an
// administrator can also change directly, and whose pushes can fail.
type app struct {
	mu     sync.Mutex
	vals   map[string]properties.Values // guarded by mu
	fail   error                        // guarded by mu; Push returns it
	pushes []properties.Values          // guarded by mu
	onPush func(resource string)        // called by Push before anything else; set before use
}

func newApp() *app { return &app{vals: make(map[string]properties.Values)} }

func (a *app) Push(ctx context.Context, resource string, v properties.Values) error {
	if a.onPush != nil {
		a.onPush(resource)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	a.vals[resource] = v.Clone()
	a.pushes = append(a.pushes, v.Clone())
	return nil
}

func (a *app) Pull(ctx context.Context, resource string) (properties.Values, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return properties.Values{}, a.fail
	}
	return a.vals[resource].Clone(), nil
}

func (a *app) setFail(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fail = err
}

// edit changes the application's value directly, as its own console does.
func (a *app) edit(resource, name string, v any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	x := a.vals[resource].Clone()
	if v == nil {
		x.Delete(name)
	} else if err := x.Set(name, v); err != nil {
		panic(err)
	}
	a.vals[resource] = x
}

func (a *app) get(resource string) properties.Values {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.vals[resource].Clone()
}

// pushOnly is a SyncHook that cannot read back.
type pushOnly struct{}

func (pushOnly) Push(context.Context, string, properties.Values) error { return nil }

// faultyStore wraps a Store; when failCommit is set, an Update runs its
// function and then fails, as a write that fails at commit does.
type faultyStore struct {
	properties.Store
	mu         sync.Mutex
	failCommit error // guarded by mu
	updates    int   // guarded by mu; Updates that committed
}

var errDisk = errors.New("disk full")

func (s *faultyStore) Update(ctx context.Context, fn func(properties.Tx) error) error {
	s.mu.Lock()
	fail := s.failCommit
	s.mu.Unlock()
	err := s.Store.Update(ctx, func(tx properties.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return fail
	})
	if err == nil {
		s.mu.Lock()
		s.updates++
		s.mu.Unlock()
	}
	return err
}

func (s *faultyStore) setFail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failCommit = err
}

func (s *faultyStore) committed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updates
}

// snapshot returns everything a store holds for the resources named, in
// every namespace a Manager uses.
func snapshot(t testing.TB, s properties.Store, resources ...string) map[string]properties.Values {
	t.Helper()
	out := make(map[string]properties.Values)
	err := s.View(context.Background(), func(tx properties.Tx) error {
		for _, r := range resources {
			for _, ns := range []properties.Namespace{properties.Parameters, properties.Parameters.Sync(), properties.Common, properties.Common.Sync()} {
				v, err := tx.Get(r, ns)
				if err != nil {
					return err
				}
				out[r+"/"+string(ns)] = v
			}
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

func requireSameSnapshot(t testing.TB, want, got map[string]properties.Values) {
	t.Helper()
	require.Equal(t, len(want), len(got))
	for k, w := range want {
		require.True(t, w.Equal(got[k]), "%s changed: %v -> %v", k, w.Names(), got[k].Names())
	}
}

// newManager returns a Manager of testSchema on a fresh MemStore.
func newManager(t testing.TB, hook properties.SyncHook) (*properties.Manager, *faultyStore) {
	t.Helper()
	store := &faultyStore{Store: properties.NewMemStore()}
	t.Cleanup(func() { _ = store.Close() })
	m, err := properties.NewManager(properties.Options{Store: store, Schema: testSchema(), Hook: hook})
	require.NoError(t, err)
	return m, store
}

// problems returns the *PropertyErrors joined in err, by property name.
func problems(err error) map[string]*properties.PropertyError {
	out := make(map[string]*properties.PropertyError)
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if pe, ok := e.(*properties.PropertyError); ok {
			out[pe.Name] = pe
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		walk(errors.Unwrap(e))
	}
	walk(err)
	return out
}
