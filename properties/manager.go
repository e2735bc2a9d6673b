package properties

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
)

// Options configure a [Manager]. Only Store is required.
type Options struct {
	// Store is where values are kept (R53, R57). Required. The Manager
	// does not close it.
	Store Store

	// Schema declares the properties; nil is an empty schema, under which
	// every name is unknown.
	Schema *Schema

	// Namespace is where the values are stored under each resource: zero
	// means [Parameters] (private properties); the monitor uses [Common]
	// for its policy values. The Manager keeps its sync state in
	// Namespace.Sync(), the name followed by ".Sync", which must pass
	// [Namespace.Check] too: so a Manager's namespace is at most 59 bytes.
	Namespace Namespace

	// Hook pushes stored values into the application's own configuration
	// after each set (EXSETDATA's role, R53, R54). A Hook that also
	// implements [SyncReader] can be asked for drift (R55). nil: there is
	// nothing to push, and a resource is never out of sync.
	Hook SyncHook

	// Peers, when not nil, lists the other resources of the same type, so
	// that a set, or a reconcile from the application, refuses a value of
	// a Unique property that one of them has stored (R50). nil: Unique is
	// not checked. It is called before the store's transaction, never
	// inside it.
	Peers func(ctx context.Context, resource string) ([]string, error)

	// Logger receives a warning when a sync hook fails; nil discards.
	Logger *slog.Logger
}

// Manager is the property path of one namespace for resources of one schema:
// validation, the all-or-nothing set, the sync hook and drift (R52–R55,
// R58), and the control-code handlers (R51). It is safe for concurrent use;
// the sets and reconciles of one resource run one at a time, so the
// application receives pushes in the order the store committed them. Two
// Managers (or two processes) on one store do not coordinate their hooks.
type Manager struct {
	store  Store
	schema *Schema
	ns     Namespace
	hook   SyncHook
	peers  func(ctx context.Context, resource string) ([]string, error)
	log    *slog.Logger
	locks  keyLock // serialises Set, Reconcile and Delete per resource
}

// NewManager checks opts and returns a Manager. A nil Store, or a bad
// Namespace (including one too long to leave room for its ".Sync" suffix,
// see [Options.Namespace]), is an error wrapping [ErrInvalid] naming the
// field.
func NewManager(opts Options) (*Manager, error) {
	if opts.Store == nil {
		return nil, fmt.Errorf("%w: properties: Options.Store is nil (allowed: a Store, such as NewMemStore() or bboltstore.Open)", ErrInvalid)
	}
	ns := opts.Namespace
	if ns == "" {
		ns = Parameters
	}
	if err := ns.Check(); err != nil {
		return nil, fmt.Errorf("properties: Options.Namespace: %w", err)
	}
	if ns.Sync().Check() != nil {
		return nil, fmt.Errorf("%w: properties: Options.Namespace %q is %d bytes: with the %q suffix, its sync namespace would be %d bytes, over the %d-byte bound (allowed: a namespace of at most %d bytes)",
			ErrInvalid, shorten(string(ns)), len(ns), syncSuffix, len(ns.Sync()), maxNamespaceLength, maxNamespaceLength-len(syncSuffix))
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{store: opts.Store, schema: opts.Schema, ns: ns, hook: opts.Hook, peers: opts.Peers, log: log}, nil
}

// Schema returns the schema the Manager checks values against.
func (m *Manager) Schema() *Schema { return m.schema }

// Namespace returns the namespace the Manager stores values in.
func (m *Manager) Namespace() Namespace { return m.ns }

// ApplyFunc tells the resource of new values (R58), as the wrapper's
// SetProperties does: nil means the running resource took them; an error
// wrapping [ErrStored] means they are stored and take effect at the next
// Online. vals are the effective values (see [Manager.Effective]).
type ApplyFunc func(ctx context.Context, vals Values) error

// SetOptions adjust one set.
type SetOptions struct {
	// Apply, when not nil, is called after the values are stored and
	// pushed, to tell the resource (R58). nil: no resource is running to
	// tell, and the set's outcome is Applied.
	Apply ApplyFunc

	// AllowReadOnly lets the set change read-only properties: for the
	// resource type itself, never for an administrator's control code.
	AllowReadOnly bool
}

// Outcome is what a set achieved beyond storing the values (R58).
type Outcome uint8

// The outcomes of a set.
const (
	// Applied: the values are stored and in effect: the resource took
	// them, or there was no resource to tell.
	Applied Outcome = iota + 1

	// StoredForNextOnline: the values are stored, but the running resource
	// did not take them; they take effect at its next Online (Windows'
	// ERROR_RESOURCE_PROPERTIES_STORED).
	StoredForNextOnline
)

// String returns "applied" or "stored".
func (o Outcome) String() string {
	switch o {
	case Applied:
		return "applied"
	case StoredForNextOnline:
		return "stored"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// SetResult is the answer to a set whose values were stored.
type SetResult struct {
	// Values are the effective values after the set.
	Values Values

	// Outcome says whether the resource took the values (R58).
	Outcome Outcome

	// ApplyErr is the apply callback's error when Outcome is
	// StoredForNextOnline.
	ApplyErr error

	// SyncErr wraps [ErrOutOfSync] and the hook's error when the sync hook
	// failed (R54): the values stand in the store, the resource is marked
	// out of sync, and [Manager.Reconcile] retries. nil when the hook
	// succeeded or there is none.
	SyncErr error
}

// Err returns the set's answer as a status error, as Windows gives it: nil
// when applied and in sync; an error wrapping [ErrStored] when the values
// take effect at the next Online; one wrapping [ErrOutOfSync] when the sync
// hook failed; both joined when both hold. The values are stored in every
// case.
func (r SetResult) Err() error {
	var errs []error
	if r.Outcome == StoredForNextOnline {
		if errors.Is(r.ApplyErr, ErrStored) {
			errs = append(errs, r.ApplyErr)
		} else {
			errs = append(errs, fmt.Errorf("%w (the resource did not take them: %w)", ErrStored, r.ApplyErr))
		}
	}
	if r.SyncErr != nil {
		errs = append(errs, r.SyncErr)
	}
	return errors.Join(errs...)
}

// Stored returns the values stored for resource, as they are: no defaults,
// and any names the schema no longer declares.
func (m *Manager) Stored(ctx context.Context, resource string) (Values, error) {
	if err := CheckResourceName(resource); err != nil {
		return Values{}, err
	}
	var vals Values
	err := m.store.View(ctx, func(tx Tx) error {
		var err error
		vals, err = tx.Get(resource, m.ns)
		return err
	})
	if err != nil {
		return Values{}, fmt.Errorf("properties: get %s of %q: %w", m.ns, resource, err)
	}
	return vals, nil
}

// Effective returns the values resource runs with: the schema's defaults
// with the stored values on top, restricted to the properties the schema
// declares.
func (m *Manager) Effective(ctx context.Context, resource string) (Values, error) {
	stored, err := m.Stored(ctx, resource)
	if err != nil {
		return Values{}, err
	}
	return m.effective(stored), nil
}

func (m *Manager) effective(stored Values) Values {
	out := m.schema.Defaults()
	for name, v := range stored.m {
		if p := m.schema.prop(name); p != nil && p.Name == name {
			out.set(name, v)
		}
	}
	return out
}

// Validate checks update as [Manager.Set] would, against what is stored now,
// and returns the effective values the set would leave, without storing
// anything (R52). Its error lists every problem at once.
func (m *Manager) Validate(ctx context.Context, resource string, update Values, opts SetOptions) (Values, error) {
	return m.validate(ctx, resource, update, opts, nil)
}

func (m *Manager) validate(ctx context.Context, resource string, update Values, opts SetOptions, skip map[string]bool) (Values, error) {
	if err := CheckResourceName(resource); err != nil {
		return Values{}, err
	}
	peers, err := m.listPeers(ctx, resource, update)
	if err != nil {
		return Values{}, err
	}
	var next Values
	err = m.store.View(ctx, func(tx Tx) error {
		var perr error
		next, perr = m.prepare(tx, resource, update, opts.AllowReadOnly, peers, skip)
		return perr
	})
	if err != nil {
		return Values{}, fmt.Errorf("properties: validate %s of %q: %w", m.ns, resource, err)
	}
	return m.effective(next), nil
}

// Set validates update, stores it with the values already stored in one
// transaction, pushes the effective values through the sync hook, then
// tells the resource through opts.Apply (R53, R54, R58).
//
// A value that fails validation (every problem is reported at once, R52),
// or a store that fails, leaves the store exactly as it was and returns the
// error; nothing is pushed or applied. Once the values are stored, Set
// returns them in a SetResult with a nil error: a failed hook is reported
// in SyncErr (the resource is then marked out of sync, R54), and a resource
// that did not take the values in Outcome (R58); [SetResult.Err] turns
// both into a status error.
//
// The hook's push is recorded as pending in the same transaction as the
// values, so a process that stops before the push completes leaves the
// resource marked out of sync, never silently behind.
func (m *Manager) Set(ctx context.Context, resource string, update Values, opts SetOptions) (SetResult, error) {
	if err := CheckResourceName(resource); err != nil {
		return SetResult{}, err
	}
	peers, err := m.listPeers(ctx, resource, update)
	if err != nil {
		return SetResult{}, err
	}
	unlock, err := m.locks.lock(ctx, resource)
	if err != nil {
		return SetResult{}, fmt.Errorf("properties: set %s of %q: %w", m.ns, resource, err)
	}
	defer unlock()
	var next Values
	err = m.store.Update(ctx, func(tx Tx) error {
		var err error
		if next, err = m.prepare(tx, resource, update, opts.AllowReadOnly, peers, nil); err != nil {
			return err
		}
		if err := tx.Put(resource, m.ns, next); err != nil {
			return err
		}
		if m.hook != nil {
			return tx.Put(resource, m.ns.Sync(), pendingMark())
		}
		return nil
	})
	if err != nil {
		return SetResult{}, fmt.Errorf("properties: set %s of %q: %w", m.ns, resource, err)
	}
	eff := m.effective(next)
	res := SetResult{Values: eff, SyncErr: m.push(ctx, resource, eff)}
	res.Outcome, res.ApplyErr = m.apply(ctx, resource, opts.Apply, eff)
	return res, nil
}

// prepare checks update against what tx holds for resource and returns the
// values to store: the stored ones with update on top. A required property
// whose value is refused, here or by the caller (skip names those), is
// reported once, for its value, never also as missing.
func (m *Manager) prepare(tx Tx, resource string, update Values, allowReadOnly bool, peers []string, skip map[string]bool) (Values, error) {
	canon, errs, refused := m.schema.checkUpdate(update, allowReadOnly)
	for name := range skip {
		refused[name] = true
	}
	stored, err := tx.Get(resource, m.ns)
	if err != nil {
		return Values{}, err
	}
	next := stored.Merge(canon)
	errs = append(errs, m.schema.checkRequired(m.effective(next), refused)...)
	uerrs, err := m.checkUnique(tx, resource, canon, peers)
	if err != nil {
		return Values{}, err
	}
	errs = append(errs, uerrs...)
	if err := limitErrors(errs); err != nil {
		return Values{}, err
	}
	return next, nil
}

// listPeers asks Options.Peers for the other resources when update sets a
// Unique property.
func (m *Manager) listPeers(ctx context.Context, resource string, update Values) ([]string, error) {
	if m.peers == nil {
		return nil, nil
	}
	unique := false
	for name := range update.m {
		if p := m.schema.prop(name); p != nil && p.Unique {
			unique = true
		}
	}
	if !unique {
		return nil, nil
	}
	peers, err := m.peers(ctx, resource)
	if err != nil {
		return nil, fmt.Errorf("properties: listing the peers of %q for Unique properties: %w", resource, err)
	}
	return peers, nil
}

// checkUnique reports each Unique value of update that a peer has stored.
func (m *Manager) checkUnique(tx Tx, resource string, update Values, peers []string) ([]error, error) {
	var errs []error
	for _, peer := range peers {
		if peer == resource {
			continue
		}
		theirs, err := tx.Get(peer, m.ns)
		if err != nil {
			return nil, err
		}
		for _, name := range update.Names() {
			p := m.schema.prop(name)
			if p == nil || !p.Unique {
				continue
			}
			if v, ok := theirs.m[name]; ok && equal(v, update.m[name]) {
				errs = append(errs, &PropertyError{Name: name, Problem: fmt.Sprintf("value %s is already used by resource %q", showValue(v), peer),
					Allowed: "a value no other resource of the type has"})
			}
		}
	}
	return errs, nil
}

// apply tells the resource of vals, recovering a panic.
func (m *Manager) apply(ctx context.Context, resource string, apply ApplyFunc, vals Values) (out Outcome, err error) {
	if apply == nil {
		return Applied, nil
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = StoredForNextOnline, fmt.Errorf("apply callback panicked: %v\n%s", r, debug.Stack())
		}
	}()
	if err := apply(ctx, vals.Clone()); err != nil {
		m.log.Info("properties: stored; take effect at next Online", "resource", resource, "namespace", string(m.ns), "err", err)
		return StoredForNextOnline, err
	}
	return Applied, nil
}
