package bboltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/resdll/resdll/properties"
)

// ErrLocked is returned by [Open] when another process has the file open.
var ErrLocked = errors.New("bboltstore: the database file is in use by another process")

// The names of the layout (see the package documentation).
const (
	metaBucket      = "resdll"
	formatKey       = "format"
	formatValue     = "resdll-properties 1"
	fileDigestKey   = "digest"
	resourcesBucket = "resources"
)

// fileMode is the mode of a new database file: the owner's alone.
const fileMode = 0o600

// lockTimeout bounds bbolt's wait for its file lock where lockFile does not
// take the lock first (it is already held where it does).
const lockTimeout = time.Second

// maxCheckErrors is how many of tx.Check's findings an error lists.
const maxCheckErrors = 5

// Options configure [Open]. The zero value is ready to use.
type Options struct {
	// Logger receives an info record when a new file is created; nil
	// discards.
	Logger *slog.Logger

	// skipFsck turns off the structural check before bbolt opens the file,
	// so in-package tests can show that what bbolt does with a damaged
	// file is still contained.
	skipFsck bool
}

// Store is the bbolt [properties.Store]. It is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string

	mu     sync.RWMutex // guards closed; View and Update hold it for reading, Close for writing
	closed bool

	bmu    sync.Mutex // guards broken
	broken error      // set once a panic inside bbolt was recovered; every later call returns it
}

var _ properties.Store = (*Store)(nil)

// Open opens the store in the file at path, creating it (mode 0600) if it
// does not exist, and checks it (see the package documentation). A damaged
// file gives an error wrapping [properties.ErrCorrupt] and is left as it
// is; a file in use by another process gives [ErrLocked].
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bboltstore: open %s: %w", path, err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	switch _, err := os.Lstat(path); {
	case errors.Is(err, fs.ErrNotExist):
		if err := create(path); err != nil {
			return nil, fmt.Errorf("bboltstore: create %s: %w", path, err)
		}
		log.Info("bboltstore: created a new property store", "path", path)
	case err != nil:
		return nil, fmt.Errorf("bboltstore: open %s: %w", path, err)
	}

	s := &Store{path: path}
	openFile := func(name string, flag int, perm os.FileMode) (*os.File, error) {
		f, err := os.OpenFile(name, flag&^os.O_CREATE, perm) // never create here: an absent file is not an empty store
		if err != nil {
			return nil, err
		}
		if err := lockFile(f); err != nil {
			_ = f.Close()
			return nil, err
		}
		if !opts.skipFsck {
			if err := checkFile(f); err != nil {
				_ = f.Close()
				return nil, s.corrupt(err.Error())
			}
		}
		return f, nil
	}
	err := s.protect(func() error {
		var err error
		s.db, err = bolt.Open(path, fileMode, &bolt.Options{OpenFile: openFile, Timeout: lockTimeout})
		return err
	})
	switch {
	case errors.Is(err, ErrLocked), errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("bboltstore: open %s: %w", path, ErrLocked)
	case errors.Is(err, properties.ErrCorrupt):
		return nil, err
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum):
		return nil, s.corrupt(err.Error())
	case err != nil:
		return nil, fmt.Errorf("bboltstore: open %s: %w", path, err)
	}
	if err := s.verify(); err != nil {
		_ = s.protect(s.db.Close)
		return nil, err
	}
	return s, nil
}

// checkFile runs fsck on an open file.
func checkFile(f *os.File) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	return fsck(f, info.Size())
}

// create makes a new, initialised store file at path, atomically: it is
// built under a temporary name in the same directory and linked into
// place, which fails if path appeared meanwhile (then that file is used).
func create(path string) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".new-*") // mode 0600
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer func() { _ = os.Remove(name) }()
	if err := tmp.Close(); err != nil {
		return err
	}
	db, err := bolt.Open(name, fileMode, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		m, err := tx.CreateBucket([]byte(metaBucket))
		if err != nil {
			return err
		}
		if err := m.Put([]byte(formatKey), []byte(formatValue)); err != nil {
			return err
		}
		if err := m.Put([]byte(fileDigestKey), digestBytes(0)); err != nil {
			return err
		}
		_, err = tx.CreateBucket([]byte(resourcesBucket))
		return err
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Link(name, path); err != nil && !errors.Is(err, fs.ErrExist) { // ErrExist: created meanwhile; use that one
		// No hard links on this file system: rename instead, which is
		// atomic too but would replace a file created in the meantime.
		if _, serr := os.Lstat(path); serr == nil {
			return nil
		}
		if err := os.Rename(name, path); err != nil {
			return err
		}
	}
	return syncDir(filepath.Dir(path))
}

// corrupt returns the error for a damaged file.
func (s *Store) corrupt(problem string) error {
	return fmt.Errorf("bboltstore: %s: %w: %s (the file is left as it is: restore it from a backup, or move it aside to start an empty store)",
		s.path, properties.ErrCorrupt, problem)
}

// protect runs f with memory faults turned into panics, and turns a panic
// (from bbolt reading a damaged file) into an error wrapping ErrCorrupt,
// after which the Store refuses further work.
func (s *Store) protect(f func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = s.corrupt(fmt.Sprintf("bbolt panicked: %v", r))
			s.bmu.Lock()
			if s.broken == nil {
				s.broken = err
			}
			s.bmu.Unlock()
		}
	}()
	return f()
}

// verify reads everything in the store and runs bbolt's consistency check.
func (s *Store) verify() error {
	var layoutErr error
	err := s.protect(func() error {
		return s.db.View(func(tx *bolt.Tx) error {
			layoutErr = checkLayout(tx)
			return nil
		})
	})
	switch {
	case errors.Is(err, properties.ErrCorrupt): // a recovered panic, with the path
		return err
	case err != nil:
		return fmt.Errorf("bboltstore: %s: reading the store: %w", s.path, err)
	case layoutErr != nil:
		return s.corrupt(layoutErr.Error())
	}
	// fsck has checked every page tx.Check will read, and checkLayout has
	// read them all through bbolt; tx.Check runs in a goroutine of its own.
	var found []error
	err = s.protect(func() error {
		return s.db.View(func(tx *bolt.Tx) error {
			for e := range tx.Check() {
				if len(found) < maxCheckErrors {
					found = append(found, e)
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	if len(found) > 0 {
		return s.corrupt("bbolt's check: " + errors.Join(found...).Error())
	}
	return nil
}

// checkLayout checks the buckets, names, records and digests of the
// layout, and that bbolt finds each bucket and key by lookup as well as by
// iteration (a damaged branch page can misdirect a lookup).
func checkLayout(tx *bolt.Tx) error {
	m := tx.Bucket([]byte(metaBucket))
	if m == nil || string(m.Get([]byte(formatKey))) != formatValue {
		return errors.New("the file is a bbolt database but not a resdll property store (no resdll format marker)")
	}
	want, ok := parseDigest(m.Get([]byte(fileDigestKey)))
	if !ok {
		return errors.New("the file's digest is missing or damaged")
	}
	res := tx.Bucket([]byte(resourcesBucket))
	if res == nil {
		return errors.New("the resources bucket is missing")
	}
	var got uint64
	err := res.ForEach(func(rk, rv []byte) error {
		if rv != nil {
			return fmt.Errorf("resources: %q is a value where a resource bucket belongs", rk)
		}
		if err := properties.CheckResourceName(string(rk)); err != nil {
			return fmt.Errorf("resources: %w", err)
		}
		rb := res.Bucket(rk)
		if rb == nil {
			return fmt.Errorf("resource %q is listed but cannot be looked up", rk)
		}
		d, err := resourceDigest(rb, string(rk))
		if err != nil {
			return err
		}
		got ^= childHash(rk, d)
		return nil
	})
	if err != nil {
		return err
	}
	if got != want {
		return errors.New("the file's digest does not match its resources (a resource was lost or damaged)")
	}
	return nil
}

// resourceDigest checks a resource bucket, its namespaces and their
// records, and returns its digest.
func resourceDigest(rb *bolt.Bucket, resource string) (uint64, error) {
	var (
		got, want uint64
		haveWant  bool
		count     int
	)
	err := rb.ForEach(func(nk, nv []byte) error {
		if nv != nil {
			if string(nk) != digestKey {
				return fmt.Errorf("resource %q: %q is a value where a namespace bucket belongs", resource, nk)
			}
			want, haveWant = parseDigest(nv)
			if !haveWant {
				return fmt.Errorf("resource %q: its digest is damaged", resource)
			}
			return nil
		}
		if err := properties.Namespace(nk).Check(); err != nil {
			return fmt.Errorf("resource %q: %w", resource, err)
		}
		nb := rb.Bucket(nk)
		if nb == nil {
			return fmt.Errorf("resource %q: namespace %q is listed but cannot be looked up", resource, nk)
		}
		_, d, err := readValues(nb, resource, properties.Namespace(nk))
		if err != nil {
			return err
		}
		got ^= childHash(nk, d)
		count++
		return nil
	})
	switch {
	case err != nil:
		return 0, err
	case !haveWant:
		return 0, fmt.Errorf("resource %q: its digest is missing", resource)
	case count == 0:
		return 0, fmt.Errorf("resource %q: no namespaces", resource)
	case got != want:
		return 0, fmt.Errorf("resource %q: its digest does not match its namespaces (one was lost or damaged)", resource)
	}
	return got, nil
}

// readValues decodes every record of a namespace bucket, checks its digest
// and lookups, and returns the values and the digest.
func readValues(b *bolt.Bucket, resource string, ns properties.Namespace) (properties.Values, uint64, error) {
	var (
		vals      properties.Values
		got, want uint64
		haveWant  bool
	)
	err := b.ForEach(func(k, v []byte) error {
		where := fmt.Sprintf("resource %q, %s, property %q", resource, ns, k)
		if v == nil {
			return fmt.Errorf("%s: a bucket where a value belongs", where)
		}
		if string(k) == digestKey {
			want, haveWant = parseDigest(v)
			if !haveWant {
				return fmt.Errorf("resource %q, %s: its digest is damaged", resource, ns)
			}
			return nil
		}
		if err := properties.CheckName(string(k)); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if !bytes.Equal(b.Get(k), v) {
			return fmt.Errorf("%s: listed but cannot be looked up", where)
		}
		x, err := properties.UnmarshalValue(v)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		got ^= entryHash(k, v)
		return vals.Set(string(k), x)
	})
	switch {
	case err != nil:
		return properties.Values{}, 0, err
	case !haveWant:
		return properties.Values{}, 0, fmt.Errorf("resource %q, %s: its digest is missing", resource, ns)
	case got != want:
		return properties.Values{}, 0, fmt.Errorf("resource %q, %s: its digest does not match its values (one was lost or damaged)", resource, ns)
	}
	return vals, got, nil
}

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// View runs fn in a read-only bbolt transaction.
func (s *Store) View(ctx context.Context, fn func(properties.Tx) error) error {
	return s.run(ctx, false, fn)
}

// Update runs fn in a read-write bbolt transaction, committed (and synced
// to disk) if fn returns nil.
func (s *Store) Update(ctx context.Context, fn func(properties.Tx) error) error {
	return s.run(ctx, true, fn)
}

// errFnPanicked stands in for the caller's panic while bbolt rolls back.
var errFnPanicked = errors.New("bboltstore: transaction function panicked")

func (s *Store) run(ctx context.Context, write bool, fn func(properties.Tx) error) error {
	op := "view"
	if write {
		op = "update"
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bboltstore: %s: %w", op, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("bboltstore: %s: %w", op, properties.ErrClosed)
	}
	s.bmu.Lock()
	broken := s.broken
	s.bmu.Unlock()
	if broken != nil {
		return broken
	}

	var (
		panicked bool
		value    any
	)
	inner := func(btx *bolt.Tx) error {
		tx := &boltTx{s: s, tx: btx}
		defer func() { tx.done = true }()
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					panicked, value = true, r
					err = errFnPanicked
				}
			}()
			return fn(tx)
		}()
		if err == nil && tx.failed != nil {
			// A damaged page was met; do not commit what was built on it.
			return tx.failed
		}
		return err
	}
	err := s.protect(func() error {
		if write {
			return s.db.Update(inner)
		}
		return s.db.View(inner)
	})
	if panicked {
		panic(value) // the caller's own panic, after bbolt rolled back
	}
	return err
}

// Close closes the file, after the transactions running have ended.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.protect(s.db.Close); err != nil {
		return fmt.Errorf("bboltstore: close %s: %w", s.path, err)
	}
	return nil
}

// boltTx is a properties.Tx on a bbolt transaction.
type boltTx struct {
	s      *Store
	tx     *bolt.Tx
	done   bool  // set when the transaction's function returns
	failed error // the first damage met; the transaction is not committed
}

var errTxDone = errors.New("bboltstore: transaction used after it ended")

// guard runs f, which calls bbolt, turning a panic into an error wrapping
// ErrCorrupt (faults are already panics: run's protect set
// SetPanicOnFault on this goroutine).
func (t *boltTx) guard(f func() error) (err error) {
	if t.done {
		return errTxDone
	}
	defer func() {
		if r := recover(); r != nil {
			err = t.s.corrupt(fmt.Sprintf("bbolt panicked: %v", r))
			t.s.bmu.Lock()
			if t.s.broken == nil {
				t.s.broken = err
			}
			t.s.bmu.Unlock()
		}
		if errors.Is(err, properties.ErrCorrupt) && t.failed == nil {
			t.failed = err
		}
	}()
	return f()
}

func (t *boltTx) resources() (*bolt.Bucket, error) {
	res := t.tx.Bucket([]byte(resourcesBucket))
	if res == nil {
		return nil, t.s.corrupt("the resources bucket is missing")
	}
	return res, nil
}

func (t *boltTx) Get(resource string, ns properties.Namespace) (properties.Values, error) {
	var vals properties.Values
	err := t.guard(func() error {
		res, err := t.resources()
		if err != nil {
			return err
		}
		rb := res.Bucket([]byte(resource))
		if rb == nil {
			return nil
		}
		nb := rb.Bucket([]byte(ns))
		if nb == nil {
			return nil
		}
		vals, _, err = readValues(nb, resource, ns)
		if err != nil {
			return t.s.corrupt(err.Error())
		}
		return nil
	})
	if err != nil {
		return properties.Values{}, err
	}
	return vals, nil
}

func (t *boltTx) Put(resource string, ns properties.Namespace, vals properties.Values) error {
	if err := properties.CheckPut(resource, ns, vals); err != nil {
		return err
	}
	if !t.done && !t.tx.Writable() {
		return fmt.Errorf("bboltstore: Put in a read-only transaction: %w", berrors.ErrTxNotWritable)
	}
	return t.guard(func() error {
		res, err := t.resources()
		if err != nil {
			return err
		}
		// The new namespace bucket's records and digest.
		names := vals.Names()
		recs := make([][]byte, len(names))
		var nsDigest uint64
		for i, name := range names {
			v, _ := vals.Get(name)
			if recs[i], err = properties.MarshalValue(v); err != nil {
				return fmt.Errorf("property %q: %w", name, err)
			}
			nsDigest ^= entryHash([]byte(name), recs[i])
		}

		rb := res.Bucket([]byte(resource))
		var rDigest uint64
		if rb != nil {
			var ok bool
			if rDigest, ok = parseDigest(rb.Get([]byte(digestKey))); !ok {
				return t.s.corrupt(fmt.Sprintf("resource %q: its digest is missing or damaged", resource))
			}
			if old := rb.Bucket([]byte(ns)); old != nil {
				oldDigest, ok := parseDigest(old.Get([]byte(digestKey)))
				if !ok {
					return t.s.corrupt(fmt.Sprintf("resource %q, %s: its digest is missing or damaged", resource, ns))
				}
				rDigest ^= childHash([]byte(ns), oldDigest)
				if err := rb.DeleteBucket([]byte(ns)); err != nil {
					return err
				}
			}
		}
		if len(names) > 0 {
			if rb == nil {
				if rb, err = res.CreateBucket([]byte(resource)); err != nil {
					return err
				}
			}
			nb, err := rb.CreateBucket([]byte(ns))
			if err != nil {
				return err
			}
			for i, name := range names {
				if err := nb.Put([]byte(name), recs[i]); err != nil {
					return err
				}
			}
			if err := nb.Put([]byte(digestKey), digestBytes(nsDigest)); err != nil {
				return err
			}
			rDigest ^= childHash([]byte(ns), nsDigest)
		}
		if rb == nil {
			return nil // nothing was stored, nothing is
		}
		empty := true
		_ = rb.ForEachBucket(func([]byte) error { empty = false; return nil })
		if empty {
			return t.replaceResource(res, resource, 0, false)
		}
		return t.replaceResource(res, resource, rDigest, true)
	})
}

// replaceResource records resource's new digest (or its removal, when keep
// is false) in its bucket and in the file's digest.
func (t *boltTx) replaceResource(res *bolt.Bucket, resource string, digest uint64, keep bool) error {
	m := t.tx.Bucket([]byte(metaBucket))
	if m == nil {
		return t.s.corrupt("the resdll bucket is missing")
	}
	file, ok := parseDigest(m.Get([]byte(fileDigestKey)))
	if !ok {
		return t.s.corrupt("the file's digest is missing or damaged")
	}
	if rb := res.Bucket([]byte(resource)); rb != nil {
		old, ok := parseDigest(rb.Get([]byte(digestKey)))
		if ok {
			file ^= childHash([]byte(resource), old)
		} else if rb.Get([]byte(digestKey)) != nil {
			return t.s.corrupt(fmt.Sprintf("resource %q: its digest is damaged", resource))
		}
		// else: a bucket created in this transaction, not yet counted
		if !keep {
			if err := res.DeleteBucket([]byte(resource)); err != nil {
				return err
			}
		}
	}
	if keep {
		if err := res.Bucket([]byte(resource)).Put([]byte(digestKey), digestBytes(digest)); err != nil {
			return err
		}
		file ^= childHash([]byte(resource), digest)
	}
	return m.Put([]byte(fileDigestKey), digestBytes(file))
}

func (t *boltTx) Delete(resource string) error {
	if !t.done && !t.tx.Writable() {
		return fmt.Errorf("bboltstore: Delete in a read-only transaction: %w", berrors.ErrTxNotWritable)
	}
	return t.guard(func() error {
		res, err := t.resources()
		if err != nil {
			return err
		}
		if res.Bucket([]byte(resource)) == nil {
			return nil
		}
		return t.replaceResource(res, resource, 0, false)
	})
}

func (t *boltTx) Resources(ns properties.Namespace) ([]string, error) {
	var out []string
	err := t.guard(func() error {
		res, err := t.resources()
		if err != nil {
			return err
		}
		return res.ForEach(func(k, v []byte) error {
			if v != nil {
				return t.s.corrupt(fmt.Sprintf("resources: %q is a value where a resource bucket belongs", k))
			}
			if rb := res.Bucket(k); rb != nil && rb.Bucket([]byte(ns)) != nil {
				out = append(out, string(k))
			}
			return nil
		})
	})
	return out, err // ForEach visits keys in byte order: sorted
}
