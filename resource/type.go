package resource

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	"github.com/resdll/resdll/properties"
)

// Factory opens one resource of a type (R40): it is given the resource's
// name and its private property values (the schema's defaults filled in) and
// returns the author's Resource, or an error, in which case nothing of the
// resource may remain.
type Factory func(ctx context.Context, name string, vals properties.Values) (Resource, error)

// SharedFactory is a Factory of a type with shared state (R41): it is also
// handed the state the type loaded on its first Open.
type SharedFactory[S any] func(ctx context.Context, shared S, name string, vals properties.Values) (Resource, error)

// Shared declares the state a type shares between all its open resources
// (R41; EXRES loads its helper DLLs this way): Load runs on the first Open,
// Unload after the last release.
type Shared[S any] struct {
	// Load creates the shared state. Required. If it fails, the Open that
	// called it fails, and the next Open tries again.
	Load func(ctx context.Context) (S, error)
	// Unload releases it; nil when there is nothing to release.
	Unload func(S) error
}

// Release is the function [Type.Open] hands back with a resource: the
// engine calls it once, after the resource's Close has run (R41). Calls
// after the first do nothing and return nil. It returns the error of the
// shared state's Unload, when this release was the last.
type Release func() error

// Type is a named resource type: its private-property schema, its factory,
// and its optional reference-counted shared state (R40–R42). A Type is safe
// for concurrent use.
type Type struct {
	name   string
	schema *properties.Schema
	open   func(ctx context.Context, shared any, name string, vals properties.Values) (Resource, error)
	load   func(ctx context.Context) (any, error) // nil: the type has no shared state
	unload func(any) error                        // nil: nothing to unload

	// sem serialises changes of refs and shared, including the Load and
	// Unload calls themselves, so no Open sees a half-loaded state. It is a
	// channel rather than a mutex so a waiting Open can give up with its
	// context.
	sem    chan struct{}
	refs   int // open resources, guarded by sem
	shared any // the loaded state while refs > 0, guarded by sem

	hook atomic.Pointer[properties.SyncHook] // nil: no sync hook
}

// SetSyncHook gives the type the hook that pushes its resources' stored
// property values into the application's own configuration, and, when it
// is a properties.SyncReader, reads them back for drift (R53–R55; EXSETDATA's
// role). Hosts that store properties use it. Safe for concurrent use.
func (t *Type) SetSyncHook(h properties.SyncHook) {
	if h == nil {
		t.hook.Store(nil)
		return
	}
	t.hook.Store(&h)
}

// SyncHook returns the type's sync hook, or nil.
func (t *Type) SyncHook() properties.SyncHook {
	if p := t.hook.Load(); p != nil {
		return *p
	}
	return nil
}

// NewType returns a type without shared state. The name must be non-empty
// and printable; the factory non-nil; a nil schema means no private
// properties.
func NewType(name string, schema *properties.Schema, open Factory) (*Type, error) {
	var errs []error
	if err := checkTypeName(name); err != nil {
		errs = append(errs, err)
	}
	if open == nil {
		errs = append(errs, fmt.Errorf("resource type %q: the factory is nil: %w", name, ErrInvalidOption))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Type{
		name:   name,
		schema: schema,
		open: func(ctx context.Context, _ any, name string, vals properties.Values) (Resource, error) {
			return open(ctx, name, vals)
		},
		sem: make(chan struct{}, 1),
	}, nil
}

// NewSharedType returns a type whose resources share state of type S (R41):
// shared.Load runs on the first Open, shared.Unload after the last release,
// and the reference count stays exact under concurrent Open and release.
func NewSharedType[S any](name string, schema *properties.Schema, shared Shared[S], open SharedFactory[S]) (*Type, error) {
	var errs []error
	if err := checkTypeName(name); err != nil {
		errs = append(errs, err)
	}
	if open == nil {
		errs = append(errs, fmt.Errorf("resource type %q: the factory is nil: %w", name, ErrInvalidOption))
	}
	if shared.Load == nil {
		errs = append(errs, fmt.Errorf("resource type %q: Shared.Load is nil: %w", name, ErrInvalidOption))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	t := &Type{
		name:   name,
		schema: schema,
		open: func(ctx context.Context, s any, name string, vals properties.Values) (Resource, error) {
			return open(ctx, s.(S), name, vals)
		},
		load: func(ctx context.Context) (any, error) { return shared.Load(ctx) },
		sem:  make(chan struct{}, 1),
	}
	if shared.Unload != nil {
		t.unload = func(s any) error { return shared.Unload(s.(S)) }
	}
	return t, nil
}

func checkTypeName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("resource type name is empty: allowed is 1 to 256 printable characters: %w", ErrInvalidOption)
	case len(name) > 256 || strings.TrimSpace(name) != name || strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return fmt.Errorf("resource type name %.40q: allowed is 1 to 256 printable characters without leading or trailing spaces: %w", name, ErrInvalidOption)
	}
	return nil
}

// Name returns the type's name.
func (t *Type) Name() string { return t.name }

// Schema returns the type's private-property schema; nil for none.
func (t *Type) Schema() *properties.Schema { return t.schema }

// Refs returns the number of resources of the type that are open (opened and
// not yet released).
func (t *Type) Refs() int {
	t.sem <- struct{}{}
	defer func() { <-t.sem }()
	return t.refs
}

// Open opens a resource of the type named name with the given property
// values (the schema's defaults fill in the rest). On the first Open of a
// type with shared state it loads that state first (R41).
//
// It returns the author's Resource itself, not a wrapper around it, so type
// assertions still find its optional interfaces, and the [Release] the
// engine calls once after the resource's Close (R41). If the factory fails
// or panics, Open releases what it took and returns the error: nothing of
// the resource remains (R40). A panic in the factory or in Load is returned
// as a *[PanicError].
func (t *Type) Open(ctx context.Context, name string, vals properties.Values) (Resource, Release, error) {
	if t == nil || t.sem == nil {
		return nil, nil, fmt.Errorf("open %q: nil resource type (use NewType): %w", name, ErrInvalidOption)
	}
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("open %q of type %q: %w", name, t.name, ctx.Err())
	}
	if t.refs == 0 && t.load != nil {
		var s any
		err := Recover(OpOpen, func() (err error) {
			s, err = t.load(ctx)
			return err
		})
		if err != nil {
			<-t.sem
			return nil, nil, fmt.Errorf("open %q: loading the shared state of type %q: %w", name, t.name, err)
		}
		t.shared = s
	}
	t.refs++
	shared := t.shared
	<-t.sem

	release := t.releaser()
	var res Resource
	err := Recover(OpOpen, func() (err error) {
		res, err = t.open(ctx, shared, name, t.schema.Defaults().Merge(vals))
		return err
	})
	if err == nil && res == nil {
		err = fmt.Errorf("the factory returned no resource and no error: %w", ErrInvalidOption)
	}
	if err != nil {
		if rerr := release(); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, nil, fmt.Errorf("open %q of type %q: %w", name, t.name, err)
	}
	return res, release, nil
}

// releaser returns a Release for one reference, effective once.
func (t *Type) releaser() Release {
	// A ref and its method value: 32 bytes per open resource, where a
	// sync.Once and a closure over it were 40 (issue 10 counts the bytes
	// per hosted resource).
	return (&ref{t: t}).release
}

// ref is one reference to a Type's shared state, released at most once.
type ref struct {
	t        *Type
	released atomic.Bool
}

func (r *ref) release() (err error) {
	if r.released.Swap(true) {
		return nil // calls after the first do nothing
	}
	t := r.t
	t.sem <- struct{}{}
	defer func() { <-t.sem }()
	t.refs--
	if t.refs > 0 || t.load == nil {
		return nil
	}
	s := t.shared
	t.shared = nil
	if t.unload != nil {
		err = Recover(OpClose, func() error { return t.unload(s) })
		if err != nil {
			err = fmt.Errorf("unloading the shared state of type %q: %w", t.name, err)
		}
	}
	return err
}

// Registry holds resource types by name, for hosts that open resources by
// type name (the monitor, the OCF and WSFC hosts). The zero Registry is
// empty and ready to use; it is safe for concurrent use.
type Registry struct {
	mu    sync.RWMutex
	types map[string]*Type // guarded by mu
}

// Register adds t. It refuses a nil type and a name already registered
// (compared without regard to case, as Windows compares type names).
func (r *Registry) Register(t *Type) error {
	if t == nil || t.sem == nil {
		return fmt.Errorf("register: nil resource type (use NewType): %w", ErrInvalidOption)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for name := range r.types {
		if strings.EqualFold(name, t.name) {
			return fmt.Errorf("register: resource type %q is already registered as %q: %w", t.name, name, ErrInvalidOption)
		}
	}
	if r.types == nil {
		r.types = make(map[string]*Type)
	}
	r.types[t.name] = t
	return nil
}

// Lookup returns the type registered under name.
func (r *Registry) Lookup(name string) (*Type, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.types[name]
	return t, ok
}

// Names returns the registered type names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.types))
	for name := range r.types {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
