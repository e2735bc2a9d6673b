package properties

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
)

// SyncHook pushes a resource's values into the application's own
// configuration (EXSETDATA's role, R53): after each committed set, and on
// [Manager.Reconcile] toward the application.
type SyncHook interface {
	// Push writes vals, the resource's effective values (defaults with
	// the stored values on top), into the application's configuration.
	// An error leaves the resource marked out of sync (R54).
	Push(ctx context.Context, resource string, vals Values) error
}

// SyncReader is a [SyncHook] that can also read the application's
// configuration back, for [Manager.Drift] and reconciling from the
// application (R55).
type SyncReader interface {
	SyncHook

	// Pull reads the values the application holds now, by property name.
	Pull(ctx context.Context, resource string) (Values, error)
}

// SyncStatus says whether the application holds the stored values (R54).
type SyncStatus struct {
	// OutOfSync is true when the application may not hold the stored
	// values: the hook failed, or a set stopped before its push
	// completed.
	OutOfSync bool

	// Pending is true when a push was started and never finished (the
	// process stopped).
	Pending bool

	// Error is the hook's last error, when it failed: its first 4096
	// bytes, followed by "…" when it was longer.
	Error string
}

// Err returns nil when in sync, and otherwise an error wrapping
// [ErrOutOfSync] that says why.
func (s SyncStatus) Err() error {
	switch {
	case !s.OutOfSync:
		return nil
	case s.Error != "":
		return fmt.Errorf("%w: the sync hook failed: %s", ErrOutOfSync, s.Error)
	}
	return fmt.Errorf("%w: a set was stored but its push did not complete", ErrOutOfSync)
}

// The names of a sync mark's values in Namespace.Sync().
const (
	markState = "State"
	markError = "Error"
)

func pendingMark() Values {
	var v Values
	v.set(markState, "pending")
	return v
}

// maxMarkError bounds, in bytes, the hook error a failed mark keeps; a
// longer one is cut on a character boundary and ends with "…".
const maxMarkError = 4096

func failedMark(err error) Values {
	msg := clip(err.Error(), maxMarkError)
	var v Values
	v.set(markState, "failed")
	v.set(markError, msg)
	return v
}

// push runs the hook with vals and records the outcome: a cleared mark, or
// a failed one. It returns nil or an error wrapping ErrOutOfSync.
func (m *Manager) push(ctx context.Context, resource string, vals Values) error {
	if m.hook == nil {
		return nil
	}
	err := callHook(func() error { return m.hook.Push(ctx, resource, vals.Clone()) })
	// Record the outcome even when ctx has ended: the values are
	// stored, and the mark must tell the truth about the application.
	bg := context.WithoutCancel(ctx)
	if err != nil {
		m.log.Warn("properties: sync hook failed; resource marked out of sync", "resource", resource, "namespace", string(m.ns), "err", err)
		serr := fmt.Errorf("%w: %w", ErrOutOfSync, err)
		if merr := m.store.Update(bg, func(tx Tx) error { return tx.Put(resource, m.ns.Sync(), failedMark(err)) }); merr != nil {
			// The pending mark written with the values stands.
			return errors.Join(serr, fmt.Errorf("properties: recording the failure: %w", merr))
		}
		return serr
	}
	if merr := m.store.Update(bg, func(tx Tx) error { return tx.Put(resource, m.ns.Sync(), Values{}) }); merr != nil {
		// The application is in sync; the mark says pending, so a
		// Reconcile would push once more, which is harmless.
		m.log.Warn("properties: clearing the sync mark failed", "resource", resource, "namespace", string(m.ns), "err", merr)
	}
	return nil
}

// callHook runs f, turning a panic into an error.
func callHook(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sync hook panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return f()
}

// Status returns whether resource's application holds the stored values.
func (m *Manager) Status(ctx context.Context, resource string) (SyncStatus, error) {
	if err := CheckResourceName(resource); err != nil {
		return SyncStatus{}, err
	}
	var mark Values
	err := m.store.View(ctx, func(tx Tx) error {
		var err error
		mark, err = tx.Get(resource, m.ns.Sync())
		return err
	})
	if err != nil {
		return SyncStatus{}, fmt.Errorf("properties: sync status of %q: %w", resource, err)
	}
	if mark.Len() == 0 {
		return SyncStatus{}, nil
	}
	state, _ := mark.GetString(markState)
	msg, _ := mark.GetString(markError)
	return SyncStatus{OutOfSync: true, Pending: state != "failed", Error: msg}, nil
}

// OutOfSync returns the sorted names of the resources marked out of sync,
// for a loop that reconciles them.
func (m *Manager) OutOfSync(ctx context.Context) ([]string, error) {
	var names []string
	err := m.store.View(ctx, func(tx Tx) error {
		var err error
		names, err = tx.Resources(m.ns.Sync())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("properties: listing resources out of sync: %w", err)
	}
	return names, nil
}

// Delete removes the values and the sync mark of resource in the Manager's
// namespace, as when the resource is removed from the cluster.
func (m *Manager) Delete(ctx context.Context, resource string) error {
	if err := CheckResourceName(resource); err != nil {
		return err
	}
	unlock, err := m.locks.lock(ctx, resource)
	if err != nil {
		return fmt.Errorf("properties: delete %s of %q: %w", m.ns, resource, err)
	}
	defer unlock()
	err = m.store.Update(ctx, func(tx Tx) error {
		if err := tx.Put(resource, m.ns, Values{}); err != nil {
			return err
		}
		return tx.Put(resource, m.ns.Sync(), Values{})
	})
	if err != nil {
		return fmt.Errorf("properties: delete %s of %q: %w", m.ns, resource, err)
	}
	return nil
}

// Direction is the way [Manager.Reconcile] makes the store and the
// application agree.
type Direction uint8

// The directions of a reconcile.
const (
	// ToApplication pushes the stored values to the application: the
	// retry of a failed hook (R54), or undoing changes made in the
	// application's own console (R55).
	ToApplication Direction = iota + 1

	// FromApplication adopts the application's values into the store
	// (R55): they are validated as a complete set first (R59), and a set
	// that fails changes nothing.
	FromApplication
)

// String returns "to-application" or "from-application".
func (d Direction) String() string {
	switch d {
	case ToApplication:
		return "to-application"
	case FromApplication:
		return "from-application"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// Reconcile makes the store and resource's application agree, in direction
// dir (R54, R55), and clears the out-of-sync mark when they do.
//
// ToApplication pushes the effective values through the hook; an error
// (wrapping [ErrOutOfSync]) leaves the mark with the new error. It needs a
// Hook.
//
// FromApplication pulls the application's values (the hook must be a
// [SyncReader]), checks them as a complete set, and stores them in one
// transaction: each schema property takes the application's value, or its
// default when the application has none (so [Manager.Drift] then finds
// none: it takes an application without a value as running with the
// default); names the schema does not declare, and one property under two
// spellings, are refused, and so is a value of a Unique property that a
// peer has stored (see [Options.Peers]). Then opts.Apply tells the
// resource, as for [Manager.Set]. On any error the store is unchanged.
// Read-only properties may come from the application.
//
// With no hook (or no SyncReader for FromApplication) the error wraps
// [ErrUnsupported].
func (m *Manager) Reconcile(ctx context.Context, resource string, dir Direction, opts SetOptions) (SetResult, error) {
	if err := CheckResourceName(resource); err != nil {
		return SetResult{}, err
	}
	if m.hook == nil {
		return SetResult{}, fmt.Errorf("properties: reconcile %q: no sync hook: %w", resource, ErrUnsupported)
	}
	switch dir {
	case ToApplication:
	case FromApplication:
		if _, ok := m.hook.(SyncReader); !ok {
			return SetResult{}, fmt.Errorf("properties: reconcile %q from the application: the hook cannot read it (no Pull): %w", resource, ErrUnsupported)
		}
	default:
		return SetResult{}, fmt.Errorf("%w: properties: reconcile %q: direction %v (allowed: ToApplication or FromApplication)", ErrInvalid, resource, dir)
	}
	unlock, err := m.locks.lock(ctx, resource)
	if err != nil {
		return SetResult{}, fmt.Errorf("properties: reconcile %q: %w", resource, err)
	}
	defer unlock()

	if dir == ToApplication {
		eff, err := m.Effective(ctx, resource)
		if err != nil {
			return SetResult{}, err
		}
		res := SetResult{Values: eff, Outcome: Applied, SyncErr: m.push(ctx, resource, eff)}
		if res.SyncErr != nil {
			return res, fmt.Errorf("properties: reconcile %q to the application: %w", resource, res.SyncErr)
		}
		return res, nil
	}

	pulled, err := m.pull(ctx, resource)
	if err != nil {
		return SetResult{}, err
	}
	canon, errs, refused := m.schema.checkUpdate(pulled, true)
	errs = append(errs, m.schema.checkRequired(m.schema.Defaults().Merge(canon), refused)...)
	if err := limitErrors(errs); err != nil {
		return SetResult{}, fmt.Errorf("properties: reconcile %q from the application: its values are refused: %w", resource, err)
	}
	// Peers before the transaction, never inside it, as for Set.
	peers, err := m.listPeers(ctx, resource, canon)
	if err != nil {
		return SetResult{}, fmt.Errorf("properties: reconcile %q from the application: %w", resource, err)
	}
	var (
		next   Values
		uniqOK = true
	)
	err = m.store.Update(ctx, func(tx Tx) error {
		uerrs, err := m.checkUnique(tx, resource, canon, peers)
		if err != nil {
			return err
		}
		if err := limitErrors(uerrs); err != nil {
			uniqOK = false
			return err
		}
		stored, err := tx.Get(resource, m.ns)
		if err != nil {
			return err
		}
		next = stored.Clone()
		for _, p := range m.schema.list() {
			if v, ok := canon.m[p.Name]; ok {
				next.set(p.Name, v)
			} else {
				next.Delete(p.Name)
			}
		}
		if err := tx.Put(resource, m.ns, next); err != nil {
			return err
		}
		return tx.Put(resource, m.ns.Sync(), Values{})
	})
	if err != nil && !uniqOK {
		return SetResult{}, fmt.Errorf("properties: reconcile %q from the application: its values are refused: %w", resource, err)
	}
	if err != nil {
		return SetResult{}, fmt.Errorf("properties: reconcile %q from the application: %w", resource, err)
	}
	res := SetResult{Values: m.effective(next)}
	res.Outcome, res.ApplyErr = m.apply(ctx, resource, opts.Apply, res.Values)
	return res, nil
}

// pull reads the application's values through the SyncReader, recovering a
// panic.
func (m *Manager) pull(ctx context.Context, resource string) (Values, error) {
	r, ok := m.hook.(SyncReader)
	if !ok {
		return Values{}, fmt.Errorf("properties: %q: the sync hook cannot read the application (no Pull): %w", resource, ErrUnsupported)
	}
	var vals Values
	err := callHook(func() error {
		var err error
		vals, err = r.Pull(ctx, resource)
		return err
	})
	if err != nil {
		return Values{}, fmt.Errorf("properties: reading the application's values of %q: %w", resource, err)
	}
	return vals.Clone(), nil
}

// Difference is one property on which the store and the application
// disagree (R55).
type Difference struct {
	// Name is the property's name, as the schema declares it; or as the
	// application gave it, for a name the schema does not declare and for
	// a second spelling of a declared property (see [Manager.Drift]).
	Name string

	// Stored is the effective stored value (the default when none is
	// stored); nil when there is none.
	Stored any

	// App is the application's value; nil when it has none (for a
	// property with a default, the application is then taken to run with
	// the default, and Stored is something else).
	App any
}

// String formats the difference as `Name: stored X, application Y`.
func (d Difference) String() string {
	show := func(v any) string {
		if v == nil {
			return "(none)"
		}
		return fmt.Sprintf("%v", v)
	}
	return fmt.Sprintf("%s: stored %s, application %s", d.Name, show(d.Stored), show(d.App))
}

// Drift compares the effective stored values of resource with what its
// application holds (R55): the changes an administrator made in the
// application's own console and never wrote to the cluster database. It
// returns one Difference per disagreeing property, schema properties in
// declaration order, then names the schema does not declare, sorted; none
// when they agree. A value of another kind than its property's counts as a
// difference. The hook must be a [SyncReader], or the error wraps
// [ErrUnsupported].
//
// The application's names match the schema's without regard to case (see
// [Schema.Canonical]). An application that holds no value for a property
// with a default is taken to run with the default, as [Manager.Reconcile]
// from the application takes it: that agrees with an effective stored
// value equal to the default. An application that holds one property under
// two spellings ("Port" and "port") gets a fixed answer: the declared
// spelling (or else the first in byte order) is compared as the property,
// and each other spelling is reported as a name of its own, which the
// store never holds, so the clash shows.
func (m *Manager) Drift(ctx context.Context, resource string) ([]Difference, error) {
	if err := CheckResourceName(resource); err != nil {
		return nil, err
	}
	if _, ok := m.hook.(SyncReader); !ok {
		return nil, fmt.Errorf("properties: drift of %q: the sync hook cannot read the application: %w", resource, ErrUnsupported)
	}
	eff, err := m.Effective(ctx, resource)
	if err != nil {
		return nil, err
	}
	app, err := m.pull(ctx, resource)
	if err != nil {
		return nil, err
	}
	app = m.schema.Canonical(app)
	var diffs []Difference
	differ := func(name string, dflt any) {
		s, sok := eff.m[name]
		a, aok := app.m[name]
		cmp, cok := a, aok
		if !aok && dflt != nil {
			cmp, cok = dflt, true
		}
		if sok != cok || sok && !sameKindEqual(s, cmp) {
			diffs = append(diffs, Difference{Name: name, Stored: clone(s), App: clone(a)})
		}
	}
	for _, p := range m.schema.list() {
		differ(p.Name, p.Default)
	}
	var extra []string
	for name := range app.m {
		if p := m.schema.prop(name); p == nil || p.Name != name {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	for _, name := range extra {
		differ(name, nil)
	}
	return diffs, nil
}

// sameKindEqual reports whether a and b are of one kind and equal.
func sameKindEqual(a, b any) bool {
	ka, _ := KindOf(a)
	kb, _ := KindOf(b)
	return ka == kb && equal(a, b)
}
