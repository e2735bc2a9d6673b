package properties

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Namespace names one set of values stored under a resource: its private
// properties ([Parameters], the cluster database's Parameters key), its
// common properties ([Common], the monitor's policy), or another set a
// program keeps the same way. [Manager] also keeps its sync state in a
// namespace of its own, named by [Namespace.Sync].
type Namespace string

// The namespaces of the cluster database (R53).
const (
	// Parameters holds a resource's private properties, as the Windows
	// cluster database keeps them under the resource's Parameters key.
	Parameters Namespace = "Parameters"

	// Common holds a resource's common properties: the monitor's policy
	// values (R51, R30–R39).
	Common Namespace = "Common"
)

// maxNamespaceLength bounds a namespace's name, in bytes (R59).
const maxNamespaceLength = 64

// Check reports a namespace name that is empty, longer than 64 bytes, or
// not printable UTF-8 without spaces at either end. The error wraps
// [ErrInvalid].
func (ns Namespace) Check() error {
	s := string(ns)
	if s == "" || len(s) > maxNamespaceLength || strings.TrimSpace(s) != s || !utf8.ValidString(s) ||
		strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return fmt.Errorf("%w: namespace %q (allowed: 1 to %d bytes of printable characters without leading or trailing spaces)",
			ErrInvalid, shorten(s), maxNamespaceLength)
	}
	return nil
}

// Sync names the namespace where a [Manager] of ns records that the
// application may be out of sync (R54): ns followed by ".Sync".
func (ns Namespace) Sync() Namespace { return ns + syncSuffix }

// syncSuffix ends the name of a sync namespace.
const syncSuffix = ".Sync"

// CheckName reports a property name that breaks R59's bounds: 1 to
// [MaxNameLength] bytes of printable UTF-8, no spaces at either end. The
// error is a *[PropertyError] wrapping [ErrInvalid].
func CheckName(name string) error { return checkName(name) }

// Store is the cluster database: values by resource and namespace (R53,
// R57). [NewMemStore] is an in-memory Store for tests; package bboltstore
// is the embedded default, on disk; a cluster may implement Store on a
// replicated engine instead. package storetest checks an implementation
// against this contract.
//
// A Store is safe for concurrent use; a transaction's function must not
// start another transaction on the same Store. Update transactions are atomic and
// isolated: each sees the effects of the Updates committed before it and
// none of those running, and either every Put and Delete of one Update
// takes effect or none does (R53, R56). A View sees one committed state.
// After Close every call returns an error wrapping [ErrClosed]; a damaged
// store answers with errors wrapping [ErrCorrupt], never with a panic or a
// silently replaced file (R56).
type Store interface {
	// View runs fn in a read-only transaction and returns its error. The
	// Tx must not be used after fn returns; its Put and Delete fail.
	View(ctx context.Context, fn func(Tx) error) error

	// Update runs fn in a read-write transaction and commits it if fn
	// returns nil. If fn returns an error, panics, or the commit fails,
	// nothing it did takes effect. The Tx must not be used after fn
	// returns. ctx is checked before the transaction starts; a commit in
	// progress is not interrupted.
	Update(ctx context.Context, fn func(Tx) error) error

	// Close releases the store. A second Close returns nil.
	Close() error
}

// Tx is one transaction of a [Store]. It is not safe for concurrent use.
type Tx interface {
	// Get returns the values stored for resource in ns, empty (and no
	// error) when there are none. The Values are the caller's.
	Get(resource string, ns Namespace) (Values, error)

	// Put replaces the values stored for resource in ns with vals; empty
	// vals removes them. It refuses, with an error wrapping [ErrInvalid],
	// a resource name, namespace or property name out of bounds and a
	// value of no kind or larger than [MaxValueSize] (R59).
	Put(resource string, ns Namespace, vals Values) error

	// Delete removes everything stored for resource, in every namespace.
	Delete(resource string) error

	// Resources returns the sorted names of the resources with values in
	// ns.
	Resources(ns Namespace) ([]string, error)
}

// CheckPut is the check [Tx.Put] makes before writing (R59); Store
// implementations call it.
func CheckPut(resource string, ns Namespace, vals Values) error {
	if err := CheckResourceName(resource); err != nil {
		return err
	}
	if err := ns.Check(); err != nil {
		return err
	}
	for _, name := range vals.Names() {
		if err := checkName(name); err != nil {
			return err
		}
		if _, err := MarshalValue(vals.m[name]); err != nil {
			return fmt.Errorf("property %q: %w", name, err)
		}
	}
	return nil
}
